"""SMS services: the outbox interface other domains call, enrolment, the
worker, webhooks.  Services flush, never commit; the caller's unit of work
commits.

What the court domain uses (all in the court event's transaction):

* :func:`confirmed_subscriptions` (``case_id``): who may get reminders;
* :func:`enqueue` (actor, subscription, kind, params, send_after,
  valid_until, source): queue one text, with quiet hours and validity applied,
  ``None`` when it cannot go out in time;
* :func:`cancel_queued` (actor, source): cancel what a source queued.
"""

from advocacy.notify.service.outbox import (
    ALLOWED_PARAMS,
    LATE_GRACE,
    cancel_queued,
    confirmed_subscriptions,
    enqueue,
    in_quiet_hours,
    plan_send_time,
)

__all__ = [
    "ALLOWED_PARAMS",
    "LATE_GRACE",
    "cancel_queued",
    "confirmed_subscriptions",
    "enqueue",
    "in_quiet_hours",
    "plan_send_time",
]
