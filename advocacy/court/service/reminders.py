"""The reminders of a court event, written to the SMS outbox in the event's transaction.

The court side decides *what* is due and *when* (:mod:`advocacy.court.schedule`,
from the agency's schedule and the case's danger); the outbox
(:mod:`advocacy.notify.service`) decides whether it can still go out (quiet
hours, validity) and sends it.  Everything here flushes inside the caller's
unit of work: an event saved is an event whose reminders are queued, and an
event that fails to save queued nothing.

Every row carries the event as its source, ``("court_event", id)``, so that
a change cancels exactly that event's queued texts before planning afresh.
"""

from __future__ import annotations

from typing import Any

from advocacy import clock
from advocacy.actor import Actor
from advocacy.audit.service import record
from advocacy.court import schedule as sched
from advocacy.court.models import UPCOMING, CourtEvent
from advocacy.court.service.courts import agency_schedule
from advocacy.court.zones import zone
from advocacy.extensions import db
from advocacy.intake.models import Case, ProtocolOutcome, ProtocolStepKey
from advocacy.intake.service.screening import complete, protocol_steps
from advocacy.notify import service as outbox
from advocacy.notify.models import MessageKind, Style, Subscription

SOURCE = "court_event"


def source_of(event: CourtEvent) -> tuple[str, int]:
    return (SOURCE, event.id)


def planned_for(event: CourtEvent, case: Case) -> list[sched.Planned]:
    """What the event's reminders would be if planned now (the case page shows it too)."""
    if event.status not in UPCOMING:
        return []
    offsets = agency_schedule(event.agency_id).offsets(dense=case.high_danger)
    return sched.plan(event.starts_at, zone(event.court.time_zone), offsets, clock.now())


def _params(event: CourtEvent, subscription: Subscription) -> dict[str, Any]:
    """What a text may say: the time always; the court and room only in the
    detailed style, which the victim chose (a discreet row does not even hold them)."""
    params: dict[str, Any] = {"starts_at": event.starts_at}
    if subscription.style == Style.DETAILED:
        params["court"] = event.court.name
        if event.courtroom:
            params["room"] = event.courtroom
    return params


def plan_event(actor: Actor, event: CourtEvent, case: Case) -> int:
    """Queue the event's reminders for every confirmed number of the case; how many were queued.

    For a case screened in as high danger the denser schedule is used, and
    the protocol's "denser reminders" step is recorded as done once a
    reminder on that schedule is actually queued (a case with no confirmed
    number has no reminders, so the step stays open for the advocate).
    """
    planned = planned_for(event, case)
    queued = 0
    for subscription in outbox.confirmed_subscriptions(case.id):
        for reminder in planned:
            row = outbox.enqueue(
                actor,
                subscription,
                MessageKind.REMINDER,
                _params(event, subscription),
                reminder.send_after,
                reminder.valid_until,
                source=source_of(event),
            )
            queued += row is not None
    if queued and case.high_danger:
        _denser_step_done(actor, case)
    return queued


def _denser_step_done(actor: Actor, case: Case) -> None:
    for step in protocol_steps(case):
        if step.step == ProtocolStepKey.DENSER_REMINDERS and step.done_at is None:
            complete(actor, step, ProtocolOutcome.DONE)
            record(actor, f"case.protocol.{step.step}", "case", case.id, agency_id=case.agency_id)


def cancel_event(actor: Actor, event: CourtEvent) -> int:
    """Cancel every text of the event still waiting in the outbox."""
    return outbox.cancel_queued(actor, source_of(event))


def send_notice(actor: Actor, event: CourtEvent, case: Case, kind: str) -> bool:
    """Text a "changed" or "cancelled" notice now to every confirmed number;
    whether one was queued.  A cancelled notice is of use until the time the
    hearing would have been; a changed one until the new time."""
    now = clock.now()
    valid_until = event.starts_at - sched.ARRIVE_BY
    if valid_until <= now:
        return False
    queued = False
    for subscription in outbox.confirmed_subscriptions(case.id):
        row = outbox.enqueue(
            actor,
            subscription,
            MessageKind(kind),
            _params(event, subscription),
            now,
            valid_until,
            source=source_of(event),
        )
        queued = queued or row is not None
    return queued


def replan_case(actor: Actor, case: Case) -> int:
    """Plan afresh the reminders of every coming court date of the case.

    For the SMS side, once a number is confirmed (its reminders start then),
    and for the intake side, when a new screening changes the case's danger
    and so its schedule.  How many reminders were queued.
    """
    from advocacy.court.service.events import case_events

    queued = 0
    for event in case_events(case):
        if event.status in UPCOMING:
            # Only the reminders follow the schedule: a "changed" notice still
            # waiting to go out is news the victim must get whatever the danger.
            outbox.cancel_queued(actor, source_of(event), kinds=(MessageKind.REMINDER,))
            queued += plan_event(actor, event, case)
    db.session.flush()
    return queued
