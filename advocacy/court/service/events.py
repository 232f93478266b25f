"""Court events of a case: add, change, continue, cancel, record as held.

Every change writes a history row and, in the same transaction, re-plans or
cancels the event's reminders (:mod:`.reminders`), so an event and its
outbox rows can never disagree, whatever crashes when.  The event row is
locked for the change (PostgreSQL ``FOR UPDATE``), so two advocates moving
the same hearing at once are applied one after the other, each re-planning
from the state the other left.
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from advocacy import clock
from advocacy.access import scoped
from advocacy.actor import Actor
from advocacy.audit.service import record
from advocacy.court.models import (
    EVENT,
    Court,
    CourtEvent,
    CourtEventChange,
    CourtEventKind,
    CourtEventStatus,
)
from advocacy.court.service import reminders
from advocacy.court.service.courts import MAX_COURTROOM
from advocacy.court.zones import NonexistentTime, to_utc
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db
from advocacy.intake.models import Case, CaseStatus
from advocacy.roles import Role

EVENT_ROLES = (Role.ADVOCATE, Role.ADMIN)


def _court(case: Case, court_id: int | None) -> Court:
    court = db.session.get(Court, court_id) if court_id else None
    if court is None or court.agency_id != case.agency_id or not court.active:
        raise Refused(_("Choose a court from your agency's list."), "court")
    return court


def _courtroom(courtroom: str | None) -> str | None:
    courtroom = " ".join((courtroom or "").split()) or None
    if courtroom is not None and len(courtroom) > MAX_COURTROOM:
        raise Refused(
            _("Keep the courtroom to %(n)d characters (for example “3B”).", n=MAX_COURTROOM), "courtroom"
        )
    return courtroom


def start_instant(day: date | None, at: time | None, court: Court) -> datetime:
    """The UTC start of a time entered on the court's clock, with a clear refusal otherwise."""
    if day is None:
        raise Refused(_("Enter the date of the court date."), "day")
    if at is None:
        raise Refused(_("Enter the time, as the court gives it."), "at")
    try:
        return to_utc(day, at, court.time_zone)
    except NonexistentTime as exc:
        raise Refused(
            _(
                "%(time)s does not exist on that day in the court's time zone: the clocks move "
                "forward an hour that night. Check the time with the court.",
                time=at.strftime("%H:%M"),
            ),
            "at",
        ) from exc


def _in_future(starts_at: datetime) -> None:
    if starts_at <= clock.now():
        raise Refused(_("This time has already passed. Check the date and the time."), "day")


def _history(
    actor: Actor,
    event: CourtEvent,
    action: str,
    from_status: CourtEventStatus | None,
    from_starts_at: datetime | None,
    *,
    notified: bool = False,
) -> CourtEventChange:
    change = CourtEventChange(
        event_id=event.id,
        agency_id=event.agency_id,
        occurred_at=clock.now(),
        actor_id=actor.user_id,
        action=action,
        from_status=from_status.value if from_status is not None else None,
        to_status=event.status.value,
        from_starts_at=from_starts_at,
        starts_at=event.starts_at,
        court_id=event.court_id,
        courtroom=event.courtroom,
        notified=notified,
    )
    db.session.add(change)
    audit = EVENT[action].audit
    if audit:
        record(actor, audit, "court_event", event.id, agency_id=event.agency_id)
    return change


def add_event(
    actor: Actor,
    case: Case,
    *,
    kind: CourtEventKind,
    court_id: int | None,
    courtroom: str | None,
    day: date | None,
    at: time | None,
) -> CourtEvent:
    """A new court date on the case, with its reminders planned for every confirmed number.

    ``case`` comes from :func:`advocacy.intake.service.get_case`, which has
    checked that the actor may change it.
    """
    if case.status != CaseStatus.OPEN:
        raise Refused(_("Reopen the case to add a court date."))
    court = _court(case, court_id)
    starts_at = start_instant(day, at, court)
    _in_future(starts_at)
    event = CourtEvent(
        agency_id=case.agency_id,
        case_id=case.id,
        court_id=court.id,
        courtroom=_courtroom(courtroom),
        kind=CourtEventKind(kind),
        starts_at=starts_at,
        status=EVENT["schedule"].target,
        created_by_id=actor.user_id,
        created_at=clock.now(),
    )
    db.session.add(event)
    db.session.flush()
    _history(actor, event, "schedule", None, None)
    reminders.plan_event(actor, event, case)
    db.session.flush()
    return event


def get_event(actor: Actor, event_id: int, *, for_update: bool = False) -> CourtEvent:
    stmt = scoped(
        actor, select(CourtEvent).where(CourtEvent.id == event_id), CourtEvent.agency_id, *EVENT_ROLES
    )
    if for_update:
        # Wait for a colleague's change to commit, then read the event as it left it
        # (an event already loaded by this request is refreshed, not reused).
        stmt = stmt.with_for_update(of=CourtEvent).execution_options(populate_existing=True)
    event = db.session.scalar(stmt)
    if event is None:
        raise NotFound()
    return event


def _case_of(event: CourtEvent) -> Case:
    case = db.session.get(Case, event.case_id)
    assert case is not None  # a foreign key
    return case


def _move(event: CourtEvent, action: str) -> CourtEventStatus:
    transition = EVENT[action]
    if not transition.starts_from(event.status):
        if event.status == CourtEventStatus.CANCELLED:
            raise Refused(_("This court date was cancelled: add a new one instead."))
        raise Refused(_("This court date has been held: add the next one instead."))
    previous = event.status
    event.status = transition.target
    event.updated_at = clock.now()
    return previous


def change_event(
    actor: Actor,
    event_id: int,
    *,
    court_id: int | None,
    courtroom: str | None,
    day: date | None,
    at: time | None,
    continued: bool,
    notice: bool,
) -> CourtEvent:
    """Change the event's details, or record that the court continued it to a new date.

    Its queued reminders are cancelled and planned afresh from the new time;
    with ``notice``, a "changed" text goes to every confirmed number now.
    """
    event = get_event(actor, event_id, for_update=True)
    case = _case_of(event)
    court = _court(case, court_id) if court_id != event.court_id else event.court
    starts_at = start_instant(day, at, court)
    courtroom = _courtroom(courtroom)
    if continued and starts_at == event.starts_at:
        raise Refused(_("Enter the new date the court set."), "day")
    if (court.id, courtroom, starts_at) == (event.court_id, event.courtroom, event.starts_at):
        raise Refused(_("Nothing was changed."))
    if starts_at != event.starts_at:
        _in_future(starts_at)
    if continued:
        action = "continue"
    else:
        action = "change_continued" if event.status == CourtEventStatus.CONTINUED else "change"
    from_starts_at = event.starts_at
    previous = _move(event, action)
    event.court_id, event.courtroom, event.starts_at = court.id, courtroom, starts_at
    db.session.flush()
    db.session.refresh(event, ["court"])
    reminders.cancel_event(actor, event)
    reminders.plan_event(actor, event, case)
    sent = reminders.send_notice(actor, event, case, "changed") if notice else False
    _history(actor, event, action, previous, from_starts_at, notified=sent)
    db.session.flush()
    return event


def cancel_event(actor: Actor, event_id: int, *, notice: bool) -> CourtEvent:
    """Cancel the event and its queued reminders; with ``notice``, text a "cancelled" notice."""
    event = get_event(actor, event_id, for_update=True)
    case = _case_of(event)
    previous = _move(event, "cancel")
    reminders.cancel_event(actor, event)
    sent = reminders.send_notice(actor, event, case, "cancelled") if notice else False
    _history(actor, event, "cancel", previous, None, notified=sent)
    db.session.flush()
    return event


def record_held(actor: Actor, event_id: int) -> CourtEvent:
    """The hearing took place.  Any reminder still queued (there should be none) is cancelled."""
    event = get_event(actor, event_id, for_update=True)
    previous = _move(event, "hold")
    reminders.cancel_event(actor, event)
    _history(actor, event, "hold", previous, None)
    db.session.flush()
    return event


@cache
def _case_events_statement() -> Any:
    """Built once (every case page asks), its values bound per call."""
    return (
        select(CourtEvent)
        .where(CourtEvent.case_id == bindparam("case_id"), CourtEvent.agency_id == bindparam("agency_id"))
        .order_by(CourtEvent.starts_at, CourtEvent.id)
    )


def case_events(case: Case) -> list[CourtEvent]:
    """The case's court dates, soonest first (the caller has the case, so may see them)."""
    return list(
        db.session.scalars(_case_events_statement(), {"case_id": case.id, "agency_id": case.agency_id})
    )


def event_history(event: CourtEvent) -> list[CourtEventChange]:
    """Every change of the event, newest first."""
    return list(
        db.session.scalars(
            select(CourtEventChange)
            .where(CourtEventChange.event_id == event.id)
            .order_by(CourtEventChange.occurred_at.desc(), CourtEventChange.id.desc())
        )
    )
