"""The outbox's interface for every caller: who may be texted, queue a text,
cancel what a source queued.

This is what the court domain calls when it plans, re-plans or cancels
reminders, in the transaction of the court event: the rows written here
*are* the queue (nothing is sent before that transaction commits, and
nothing planned is lost if it does).  Services flush, never commit.

Time rules, applied once here so that no caller can forget them:

* **Quiet hours** are the subscription's, in its time zone (default 21:00 to
  08:00).  A message due inside them moves to their end.
* **Never late**: ``valid_until`` is when the message stops being useful (for
  a reminder, before the event begins).  A message that could only be sent
  at or after it is not queued, and the caller learns it (``None``).  When
  the end of quiet hours is already past ``valid_until``, the message moves
  back to the last minute before the quiet hours began, if that is still
  ahead; otherwise it is not queued.
* Two reminders of one event that quiet hours bring to the same moment
  are one text (the row already queued is returned).
* A reminder whose planned time has passed by more than
  :data:`LATE_GRACE` is not queued either: a "7 days before" reminder
  planned 2 days before the hearing would be a surprise, and the closer
  reminders carry the message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update

from advocacy import clock
from advocacy.actor import Actor
from advocacy.extensions import db
from advocacy.notify.models import (
    MessageKind,
    MessageState,
    OutboxMessage,
    Subscription,
    SubscriptionState,
)

#: A reminder planned this far in the past is still sent (a planner running a
#: little late); further in the past it is dropped.
LATE_GRACE = timedelta(minutes=15)
#: Template values an outbox row may carry, and nothing else: no name, no
#: case number, no phone.  ``starts_at`` is an ISO 8601 UTC time, formatted
#: in the victim's language and time zone at send time; ``court`` and
#: ``room`` are used by the detailed style only; ``code`` by the code;
#: ``text`` (the words themselves) by a safety plan piece only
#: (:data:`TEXT_KINDS`), already in the victim's language and budget.
ALLOWED_PARAMS = frozenset({"starts_at", "when", "court", "room", "code", "text"})
#: The kinds whose row carries its words, composed by the caller, not a template.
TEXT_KINDS = frozenset({MessageKind.PLAN_TEXT})


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_quiet_hours(at: datetime, zone: str, quiet_start: int, quiet_end: int) -> bool:
    """Whether ``at`` falls inside the quiet hours (minutes after local midnight;
    an interval that wraps midnight, 21:00 to 08:00, is the usual case)."""
    local = at.astimezone(_zone(zone))
    minute = local.hour * 60 + local.minute
    if quiet_start == quiet_end:
        return False
    if quiet_start < quiet_end:
        return quiet_start <= minute < quiet_end
    return minute >= quiet_start or minute < quiet_end


def _local(day: Any, minute: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz).astimezone(UTC)


def quiet_hours_end(at: datetime, zone: str, quiet_start: int, quiet_end: int) -> datetime:
    """The first moment after ``at`` outside quiet hours (``at`` itself when it
    is not inside them)."""
    if not in_quiet_hours(at, zone, quiet_start, quiet_end):
        return at
    tz = _zone(zone)
    local = at.astimezone(tz)
    minute = local.hour * 60 + local.minute
    day = local.date()
    if quiet_start > quiet_end and minute >= quiet_start:
        day = day + timedelta(days=1)
    return _local(day, quiet_end, tz)


def quiet_hours_start(at: datetime, zone: str, quiet_start: int, quiet_end: int) -> datetime:
    """The last minute before the quiet hours that contain ``at`` began."""
    tz = _zone(zone)
    local = at.astimezone(tz)
    minute = local.hour * 60 + local.minute
    day = local.date()
    if quiet_start > quiet_end and minute < quiet_end:
        day = day - timedelta(days=1)
    return _local(day, quiet_start, tz) - timedelta(minutes=1)


#: Answers to something the victim is doing right now (reading the code back
#: to the advocate, texting HELP): sent at once, quiet hours or not.
IMMEDIATE_KINDS = frozenset(
    {MessageKind.CODE, MessageKind.HELP, MessageKind.OPT_OUT, MessageKind.OPT_IN, MessageKind.ATTENDANCE}
)


def plan_send_time(
    subscription: Subscription,
    send_after: datetime,
    valid_until: datetime,
    now: datetime,
    kind: MessageKind = MessageKind.REMINDER,
) -> datetime | None:
    """When a message planned for ``send_after`` may go out, or None if it
    cannot go out in time (see the module docstring)."""
    start = max(send_after, now)
    if kind in IMMEDIATE_KINDS:
        return start if start < valid_until else None
    zone, qs, qe = subscription.time_zone, subscription.quiet_start, subscription.quiet_end
    moved = quiet_hours_end(start, zone, qs, qe)
    if moved < valid_until:
        return moved
    if moved == start:
        return None
    earlier = quiet_hours_start(start, zone, qs, qe)
    return earlier if now <= earlier < valid_until else None


def confirmed_subscriptions(case_id: int) -> list[Subscription]:
    """The case's subscriptions that may receive reminders now: confirmed with
    the code read back, not opted out, not ended.  (At most one today; a
    list so that a second number could be added later.)"""
    stmt = (
        select(Subscription)
        .where(Subscription.case_id == case_id, Subscription.state == SubscriptionState.CONFIRMED)
        .order_by(Subscription.id)
    )
    return list(db.session.scalars(stmt))


def _clean_params(params: Mapping[str, Any], kind: MessageKind) -> str:
    unknown = set(params) - ALLOWED_PARAMS
    if unknown:
        raise ValueError(f"outbox params may not carry {', '.join(sorted(unknown))}")
    if ("text" in params) != (kind in TEXT_KINDS):
        raise ValueError(f"a {kind.value} message {'needs' if kind in TEXT_KINDS else 'may not carry'} text")
    values: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError("naive datetime in outbox params")
            value = value.astimezone(UTC).isoformat()
        values[key] = value
    return json.dumps(values, sort_keys=True)


def enqueue(
    actor: Actor,
    subscription: Subscription,
    kind: MessageKind | str,
    params: Mapping[str, Any],
    send_after: datetime,
    valid_until: datetime,
    source: tuple[str, int],
) -> OutboxMessage | None:
    """Queue one text to ``subscription`` and return its row, or None when it
    cannot be sent in time (quiet hours and ``valid_until``, see the module).

    ``kind`` is a :class:`MessageKind` (``reminder``, ``changed``,
    ``cancelled``...); ``params`` the template values (:data:`ALLOWED_PARAMS`,
    ``starts_at`` an aware datetime or ISO string); ``source`` what caused it,
    e.g. ``("court_event", 42)``, so :func:`cancel_queued` can find it.

    Idempotent: queueing the same (source, kind, subscription, planned time)
    again returns the row already queued.  Only a confirmed subscription is
    texted, except the enrolment code itself (to a pending one).  Flushes.
    """
    kind = MessageKind(kind)
    if actor.agency_ids() and subscription.agency_id not in actor.agency_ids():
        raise PermissionError("the subscription belongs to another agency")
    allowed = (
        (SubscriptionState.PENDING, SubscriptionState.CONFIRMED)
        if kind is MessageKind.CODE
        else (SubscriptionState.CONFIRMED,)
    )
    if subscription.state not in allowed:
        return None
    if send_after.tzinfo is None or valid_until.tzinfo is None:
        raise ValueError("send_after and valid_until must be aware datetimes")
    now = clock.now()
    if valid_until <= now:
        return None
    if kind is MessageKind.REMINDER and send_after < now - LATE_GRACE:
        return None
    when = plan_send_time(subscription, send_after, valid_until, now, kind)
    if when is None:
        return None
    source_type, source_id = source
    existing = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.source_type == source_type,
            OutboxMessage.source_id == source_id,
            OutboxMessage.kind == kind,
            OutboxMessage.subscription_id == subscription.id,
            OutboxMessage.planned_at == send_after,
            OutboxMessage.state != MessageState.CANCELLED,
        )
    )
    if existing is not None:
        return existing
    if kind in (MessageKind.REMINDER,):
        # Quiet hours can bring two reminders of one event to the same
        # moment (1 day before at 22:00 and the morning of, both at 08:00):
        # the victim gets one text, not two at once.
        same_time = db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.source_type == source_type,
                OutboxMessage.source_id == source_id,
                OutboxMessage.kind == kind,
                OutboxMessage.subscription_id == subscription.id,
                OutboxMessage.send_after == when,
                OutboxMessage.state == MessageState.QUEUED,
            )
        )
        if same_time is not None:
            return same_time
    message = OutboxMessage(
        agency_id=subscription.agency_id,
        subscription_id=subscription.id,
        subscription=subscription,
        kind=kind,
        params=_clean_params(params, kind),
        planned_at=send_after,
        send_after=when,
        valid_until=valid_until,
        source_type=source_type,
        source_id=source_id,
        state=MessageState.QUEUED,
        attempts=0,
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return message


def cancel_queued(actor: Actor, source: tuple[str, int], kinds: Iterable[MessageKind] | None = None) -> int:
    """Cancel every message of ``source`` not yet handed to Twilio (state
    ``queued``), or only those of ``kinds``, and return how many.  A message
    already claimed by a worker is past recall: its send is in flight.
    Within the actor's agencies (a system actor for one agency, or a
    user's).  Flushes."""
    source_type, source_id = source
    stmt = (
        update(OutboxMessage)
        .where(
            OutboxMessage.source_type == source_type,
            OutboxMessage.source_id == source_id,
            OutboxMessage.state == MessageState.QUEUED,
        )
        .values(state=MessageState.CANCELLED, updated_at=clock.now())
        .execution_options(synchronize_session="fetch")
    )
    agencies = actor.agency_ids()
    if agencies:
        stmt = stmt.where(OutboxMessage.agency_id.in_(agencies))
    if kinds is not None:
        stmt = stmt.where(OutboxMessage.kind.in_(list(kinds)))
    result = db.session.execute(stmt)
    db.session.flush()
    return int(result.rowcount or 0)
