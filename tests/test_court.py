"""Court dates through the services: courts, events, their history, and the reminders they queue."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from advocacy.clock import FrozenClock
from advocacy.court import service
from advocacy.court.models import Court, CourtEvent, CourtEventChange, CourtEventKind, CourtEventStatus
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db
from advocacy.intake.models import Case, ProtocolOutcome, ProtocolStep, ProtocolStepKey
from advocacy.notify.models import (
    MessageKind,
    MessageState,
    OutboxMessage,
    Style,
    Subscription,
    SubscriptionState,
)
from advocacy.roles import Role
from tests import factories

CHICAGO = "America/Chicago"
#: "Now" in these tests: Tuesday 1 December 2026, noon in Duluth.
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


@pytest.fixture
def world(app: Any, clock: FrozenClock) -> dict[str, Any]:
    clock.set(NOW)
    north = factories.agency("north")
    admin = factories.user(north, Role.ADMIN)
    advocate = factories.user(north, Role.ADVOCATE)
    court = service.add_court(factories.actor(admin), north.id, "District Court, Duluth", CHICAGO)
    case = factories.case(advocate, "Maple")
    factories.commit()
    return {"agency": north, "admin": admin, "advocate": advocate, "court": court, "case": case}


def subscribe(case: Case, style: Style = Style.DISCREET) -> Subscription:
    """A number confirmed by the code read back (the SMS side's enrolment, in one row)."""
    sub = Subscription(
        agency_id=case.agency_id,
        case_id=case.id,
        phone="+12185550101",
        phone_hash="0" * 64,
        locale="en",
        style=style,
        time_zone=CHICAGO,
        state=SubscriptionState.CONFIRMED,
        confirmed_at=NOW,
    )
    db.session.add(sub)
    db.session.flush()
    return sub


def add(
    world: dict[str, Any], day: date = date(2026, 12, 15), at: time = time(9, 30), **extra: Any
) -> CourtEvent:
    return service.add_event(
        factories.actor(world["advocate"]),
        world["case"],
        kind=extra.pop("kind", CourtEventKind.PROTECTION_ORDER),
        court_id=extra.pop("court_id", world["court"].id),
        courtroom=extra.pop("courtroom", "3B"),
        day=day,
        at=at,
    )


def queued(event: CourtEvent, kind: MessageKind = MessageKind.REMINDER) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.source_type == "court_event",
                OutboxMessage.source_id == event.id,
                OutboxMessage.kind == kind,
                OutboxMessage.state == MessageState.QUEUED,
            )
            .order_by(OutboxMessage.send_after)
        )
    )


def local_hours(rows: list[OutboxMessage]) -> list[str]:
    from zoneinfo import ZoneInfo

    return [r.send_after.astimezone(ZoneInfo(CHICAGO)).strftime("%a %d %H:%M") for r in rows]


# --- courts -------------------------------------------------------------------------------------


def test_an_admin_adds_a_court_with_its_time_zone(world: dict[str, Any]) -> None:
    court = world["court"]
    assert (court.name, court.time_zone, court.address) == ("District Court, Duluth", CHICAGO, None)


@pytest.mark.parametrize(
    ("name", "zone", "field"),
    [("", CHICAGO, "name"), ("x" * 41, CHICAGO, "name"), ("Family Court", "CST", "time_zone")],
)
def test_a_court_without_a_name_or_with_an_unknown_zone_is_refused(
    world: dict[str, Any], name: str, zone: str, field: str
) -> None:
    with pytest.raises(Refused) as refused:
        service.add_court(factories.actor(world["admin"]), world["agency"].id, name, zone)
    assert refused.value.field == field


def test_two_courts_of_an_agency_cannot_share_a_name(world: dict[str, Any]) -> None:
    with pytest.raises(Refused, match="already has a court"):
        service.add_court(
            factories.actor(world["admin"]), world["agency"].id, "district court, duluth", CHICAGO
        )


def test_an_advocate_cannot_manage_courts(world: dict[str, Any]) -> None:
    with pytest.raises(Refused):
        service.add_court(factories.actor(world["advocate"]), world["agency"].id, "Tribal Court", CHICAGO)
    with pytest.raises(NotFound):
        service.get_court(factories.actor(world["advocate"]), world["court"].id)


def test_an_agency_schedule_replaces_the_default(world: dict[str, Any]) -> None:
    agency_id = world["agency"].id
    assert service.agency_schedule(agency_id).standard_text == "7d 1d 08:00"
    service.update_schedule(factories.actor(world["admin"]), agency_id, "5d 07:30", "")
    assert service.agency_schedule(agency_id).standard_text == "5d 07:30"
    assert service.agency_schedule(agency_id).denser_text == ""
    with pytest.raises(Refused, match="“soon”") as refused:
        service.update_schedule(factories.actor(world["admin"]), agency_id, "1d soon", "")
    assert refused.value.field == "schedule"


# --- court events and their history ---------------------------------------------------------------


def test_a_court_date_is_entered_on_the_courts_clock_and_stored_as_utc(world: dict[str, Any]) -> None:
    event = add(world)
    assert event.starts_at == datetime(2026, 12, 15, 15, 30, tzinfo=UTC)
    assert event.status == CourtEventStatus.SCHEDULED
    [change] = service.event_history(event)
    assert (change.action, change.from_status, change.to_status) == ("schedule", None, "scheduled")


def test_a_court_date_in_the_hour_skipped_in_spring_is_refused_with_a_clear_reason(
    world: dict[str, Any],
) -> None:
    with pytest.raises(Refused, match="does not exist") as refused:
        add(world, day=date(2027, 3, 14), at=time(2, 30))
    assert refused.value.field == "at"


def test_a_court_date_in_the_past_is_refused(world: dict[str, Any]) -> None:
    with pytest.raises(Refused, match="already passed"):
        add(world, day=date(2026, 12, 1), at=time(11, 0))


def test_another_agencys_court_cannot_be_chosen(world: dict[str, Any]) -> None:
    south = factories.agency("south")
    theirs = service.add_court(factories.system(south), south.id, "South Court", CHICAGO)
    with pytest.raises(Refused, match="your agency's list"):
        add(world, court_id=theirs.id)


def test_the_database_refuses_a_status_outside_the_machine(world: dict[str, Any]) -> None:
    event = add(world)
    factories.commit()
    with pytest.raises(Exception, match=r"(?i)check|constraint"):
        db.session.execute(
            text("UPDATE court_event SET status = 'postponed' WHERE id = :id"), {"id": event.id}
        )
        db.session.flush()
    db.session.rollback()


def test_the_history_of_a_court_date_cannot_be_rewritten(world: dict[str, Any]) -> None:
    add(world)
    factories.commit()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("UPDATE court_event_change SET action = 'x'"))
    db.session.rollback()


def test_another_agency_does_not_find_the_court_date(world: dict[str, Any]) -> None:
    event = add(world)
    south = factories.agency("south")
    stranger = factories.user(south, Role.ADVOCATE)
    with pytest.raises(NotFound):
        service.get_event(factories.actor(stranger), event.id)
    with pytest.raises(NotFound):
        service.cancel_event(factories.actor(stranger), event.id, notice=False)


# --- reminders ------------------------------------------------------------------------------------


def test_a_court_date_queues_the_default_reminders_for_the_confirmed_number(world: dict[str, Any]) -> None:
    subscribe(world["case"])
    event = add(world)
    rows = queued(event)
    assert local_hours(rows) == ["Tue 08 09:30", "Mon 14 09:30", "Tue 15 08:00"]
    assert {r.valid_until for r in rows} == {event.starts_at - timedelta(minutes=30)}
    # A discreet text holds no court and no room, not even encrypted.
    assert all("court" not in r.params and "room" not in r.params for r in rows)


def test_a_detailed_subscription_gets_the_court_and_room(world: dict[str, Any]) -> None:
    subscribe(world["case"], Style.DETAILED)
    event = add(world)
    assert all(
        '"court": "District Court, Duluth"' in r.params and '"room": "3B"' in r.params for r in queued(event)
    )


def test_without_a_confirmed_number_nothing_is_queued(world: dict[str, Any]) -> None:
    sub = subscribe(world["case"])
    sub.state = SubscriptionState.PENDING
    sub.confirmed_at = None
    event = add(world)
    assert queued(event) == []


def test_a_reminder_whose_time_has_passed_is_not_queued(world: dict[str, Any], clock: FrozenClock) -> None:
    subscribe(world["case"])
    event = add(world, day=date(2026, 12, 4), at=time(14, 0))  # in three days: no "7 days before"
    assert local_hours(queued(event)) == ["Thu 03 14:00", "Fri 04 08:00"]


def test_a_high_danger_case_gets_the_denser_schedule_and_its_protocol_step_is_done(
    world: dict[str, Any],
) -> None:
    case = world["case"]
    factories.screening(case, 1)
    assert case.high_danger
    subscribe(case)
    event = add(world, at=time(13, 0))
    assert local_hours(queued(event)) == [
        "Tue 08 13:00",
        "Sat 12 13:00",
        "Mon 14 13:00",
        "Tue 15 08:00",
        "Tue 15 11:00",
    ]
    step = db.session.scalar(
        select(ProtocolStep).where(
            ProtocolStep.case_id == case.id, ProtocolStep.step == ProtocolStepKey.DENSER_REMINDERS
        )
    )
    assert step is not None and step.outcome == ProtocolOutcome.DONE and step.done_at == NOW


def test_the_denser_step_stays_open_while_no_number_is_confirmed(world: dict[str, Any]) -> None:
    case = world["case"]
    factories.screening(case, 1)
    add(world)
    step = db.session.scalar(
        select(ProtocolStep).where(
            ProtocolStep.case_id == case.id, ProtocolStep.step == ProtocolStepKey.DENSER_REMINDERS
        )
    )
    assert step is not None and step.done_at is None


def test_a_rescreen_to_high_danger_adds_the_denser_reminders_to_a_scheduled_hearing(
    world: dict[str, Any],
) -> None:
    case = world["case"]
    subscribe(case)
    event = add(world, at=time(13, 0))
    assert local_hours(queued(event)) == ["Tue 08 13:00", "Mon 14 13:00", "Tue 15 08:00"]
    factories.screening(case, 1, by=world["advocate"])  # screened in: high danger
    assert case.high_danger
    assert local_hours(queued(event)) == [
        "Tue 08 13:00",
        "Sat 12 13:00",  # 3 days before
        "Mon 14 13:00",
        "Tue 15 08:00",
        "Tue 15 11:00",  # 2 hours before
    ]
    step = db.session.scalar(
        select(ProtocolStep).where(
            ProtocolStep.case_id == case.id, ProtocolStep.step == ProtocolStepKey.DENSER_REMINDERS
        )
    )
    assert step is not None and step.done_at == NOW


def test_a_lower_rescreen_pending_review_keeps_the_denser_reminders_until_confirmed(
    world: dict[str, Any],
) -> None:
    from advocacy.intake import service as intake

    case = world["case"]
    subscribe(case)
    factories.screening(case, 1, by=world["advocate"])
    event = add(world, at=time(13, 0))
    assert len(queued(event)) == 5
    factories.screening(case, by=world["advocate"])  # every answer "no": waits for review
    assert case.high_danger and intake.pending_lowering(case) is not None
    assert len(queued(event)) == 5
    intake.confirm_lowering(factories.actor(world["advocate"]), case, "She moved to her sister's.")
    assert local_hours(queued(event)) == ["Tue 08 13:00", "Mon 14 13:00", "Tue 15 08:00"]


def test_a_rescreen_keeps_a_change_notice_that_is_still_waiting(world: dict[str, Any]) -> None:
    case = world["case"]
    subscribe(case)
    event = add(world)
    service.change_event(
        factories.actor(world["advocate"]),
        event.id,
        court_id=world["court"].id,
        courtroom="5A",
        day=date(2026, 12, 16),
        at=time(9, 30),
        continued=False,
        notice=True,
    )
    [notice] = queued(event, MessageKind.CHANGED)
    factories.screening(case, 1, by=world["advocate"])
    assert queued(event, MessageKind.CHANGED) == [notice]


def test_a_continued_court_date_gets_fresh_reminders_and_the_old_ones_are_cancelled(
    world: dict[str, Any],
) -> None:
    subscribe(world["case"])
    event = add(world)
    old = queued(event)
    service.change_event(
        factories.actor(world["advocate"]),
        event.id,
        court_id=world["court"].id,
        courtroom="5A",
        day=date(2027, 1, 12),
        at=time(10, 0),
        continued=True,
        notice=True,
    )
    assert event.status == CourtEventStatus.CONTINUED
    for row in old:
        db.session.refresh(row)
        assert row.state == MessageState.CANCELLED
    assert local_hours(queued(event)) == ["Tue 05 10:00", "Mon 11 10:00", "Tue 12 08:00"]
    [notice] = queued(event, MessageKind.CHANGED)
    assert notice.send_after == NOW
    latest, first = service.event_history(event)
    assert (latest.action, latest.from_status, latest.to_status) == ("continue", "scheduled", "continued")
    assert latest.from_starts_at == first.starts_at and latest.notified is True


def test_a_corrected_court_date_without_notice_replans_quietly(world: dict[str, Any]) -> None:
    subscribe(world["case"])
    event = add(world)
    service.change_event(
        factories.actor(world["advocate"]),
        event.id,
        court_id=world["court"].id,
        courtroom="3B",
        day=date(2026, 12, 15),
        at=time(10, 30),
        continued=False,
        notice=False,
    )
    assert event.status == CourtEventStatus.SCHEDULED
    assert local_hours(queued(event)) == ["Tue 08 10:30", "Mon 14 10:30", "Tue 15 08:00"]
    assert queued(event, MessageKind.CHANGED) == []
    assert service.event_history(event)[0].action == "change"


def test_a_change_that_changes_nothing_is_refused(world: dict[str, Any]) -> None:
    event = add(world)
    with pytest.raises(Refused, match="Nothing was changed"):
        service.change_event(
            factories.actor(world["advocate"]),
            event.id,
            court_id=world["court"].id,
            courtroom="3B",
            day=date(2026, 12, 15),
            at=time(9, 30),
            continued=False,
            notice=False,
        )


def test_cancelling_a_court_date_cancels_its_reminders_and_can_text_a_notice(world: dict[str, Any]) -> None:
    subscribe(world["case"])
    event = add(world)
    service.cancel_event(factories.actor(world["advocate"]), event.id, notice=True)
    assert event.status == CourtEventStatus.CANCELLED
    assert queued(event) == []
    [notice] = queued(event, MessageKind.CANCELLED)
    assert notice.valid_until == event.starts_at - timedelta(minutes=30)
    with pytest.raises(Refused, match="cancelled"):
        service.record_held(factories.actor(world["advocate"]), event.id)


def test_cancelling_without_notice_sends_nothing(world: dict[str, Any]) -> None:
    subscribe(world["case"])
    event = add(world)
    service.cancel_event(factories.actor(world["advocate"]), event.id, notice=False)
    assert queued(event) == [] and queued(event, MessageKind.CANCELLED) == []
    assert service.event_history(event)[0].notified is False


def test_a_number_confirmed_after_the_court_date_was_added_gets_its_reminders(world: dict[str, Any]) -> None:
    event = add(world)
    assert queued(event) == []
    subscribe(world["case"])
    assert service.replan_case(factories.system(world["agency"]), world["case"]) == 3
    assert len(queued(event)) == 3
    # Planning again does not double anything.
    service.replan_case(factories.system(world["agency"]), world["case"])
    assert len(queued(event)) == 3


def test_a_held_court_date_keeps_no_reminder(world: dict[str, Any], clock: FrozenClock) -> None:
    subscribe(world["case"])
    event = add(world)
    clock.set(datetime(2026, 12, 15, 18, 0, tzinfo=UTC))
    service.record_held(factories.actor(world["advocate"]), event.id)
    assert event.status == CourtEventStatus.HELD
    assert queued(event) == []
    assert [c.action for c in service.event_history(event)] == ["hold", "schedule"]


def test_every_change_lands_in_the_history_with_who_did_it(world: dict[str, Any]) -> None:
    event = add(world)
    service.cancel_event(factories.actor(world["advocate"]), event.id, notice=False)
    rows = db.session.scalars(select(CourtEventChange).where(CourtEventChange.event_id == event.id)).all()
    assert {r.actor_id for r in rows} == {world["advocate"].id}
    assert db.session.get(Court, world["court"].id) is not None
