"""Services any caller can use: a worker with no request, a partner scoped to its
agency, one unit of work that keeps all or nothing, one clock, and states the
database itself refuses to get wrong."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, has_request_context
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from advocacy import clock as app_clock
from advocacy.access import get_scoped, scoped
from advocacy.actor import Actor
from advocacy.audit.models import AuditEvent
from advocacy.auth.models import Role
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db
from advocacy.intake import service as intake
from advocacy.intake.models import CASE, Case, CaseStatus, Danger, IntakeStep
from advocacy.shelters import machines
from advocacy.shelters import service as shelters
from advocacy.shelters.models import Bed, BedState, Hold, HoldStatus, ReferralStatus
from advocacy.states import Machine
from advocacy.uow import unit_of_work
from tests import factories


def test_a_worker_runs_a_service_with_a_system_actor_and_no_request(app: Flask) -> None:
    """As a worker will: a plain function, its own actor, its own unit of work."""
    north = factories.agency("north")
    shelter = factories.shelter(north, "S1: adult adult")
    bed_id = db.session.scalar(select(Bed.id).where(Bed.shelter_id == shelter.id, Bed.label == "S1-A"))

    def worker() -> int:
        assert not has_request_context()
        with unit_of_work():
            hold = shelters.place_hold(Actor.system("worker", north.id), shelter, [bed_id])
            return hold.id

    hold_id = worker()
    db.session.expire_all()
    assert db.session.get(Hold, hold_id).status == HoldStatus.ACTIVE  # type: ignore[union-attr]
    assert db.session.get(Bed, bed_id).state == BedState.HELD  # type: ignore[union-attr]
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "hold.placed")).one()
    assert audit.actor_id is None and audit.agency_id == north.id  # the system, for its agency


def test_a_worker_in_another_thread_commits_through_its_own_unit_of_work(app: Flask) -> None:
    north = factories.agency("north")
    advocate = factories.user(north)
    case_id = factories.case(advocate, "Maple").id
    done: list[str] = []

    def worker() -> None:
        with app.app_context(), unit_of_work():
            case = intake.get_case(Actor.system("worker", north.id), case_id)
            intake.close_case(Actor.system("worker", north.id), case, "services_complete")
            done.append("closed")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    db.session.expire_all()
    assert done == ["closed"]
    assert db.session.get(Case, case_id).status == CaseStatus.CLOSED  # type: ignore[union-attr]


def test_a_partner_actor_reaches_its_own_agency_only(app: Flask) -> None:
    north, valley = factories.agency("north"), factories.agency("valley")
    mine = factories.case(factories.user(north), "Maple")
    theirs = factories.case(factories.user(valley), "Willow")
    partner = Actor.partner(1, north.id, scopes={"handoff:read"})
    found = db.session.scalars(scoped(partner, select(Case), Case.agency_id)).all()
    assert [c.id for c in found] == [mine.id]
    assert get_scoped(partner, Case, mine.id).id == mine.id
    with pytest.raises(NotFound):
        get_scoped(partner, Case, theirs.id)
    # A partner holds no staff role: what needs one is closed to it, in its own agency too.
    with pytest.raises(NotFound):
        intake.get_case(partner, mine.id)


def test_the_system_without_an_agency_reads_no_agency_data(app: Flask) -> None:
    north = factories.agency("north")
    case = factories.case(factories.user(north), "Maple")
    with pytest.raises(NotFound):
        intake.get_case(Actor.system("maintenance"), case.id)


def test_a_failure_after_the_first_write_leaves_nothing_behind(app: Flask) -> None:
    """A unit of work that fails midway (the case opened, then an error) keeps nothing:
    no case, no screening, no audit entry."""
    north = factories.agency("north")
    advocate = factories.user(north)
    actor = factories.actor(advocate)
    before = db.session.scalar(select(func.count(AuditEvent.id)))

    class Crash(Exception):
        pass

    with pytest.raises(Crash), unit_of_work():
        case = intake.open_case(actor, north.id, advocate.id, "Rowan")
        factories_screening = intake.screen_case(
            actor, case, intake.get_instrument(factories.LETHALITY, north.id), factories.yes_to(1)
        )
        assert factories_screening.id is not None
        raise Crash()
    assert db.session.scalar(select(func.count(Case.id))) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id))) == before


def test_a_refused_change_undoes_only_itself(app: Flask) -> None:
    """The savepoint: a refusal inside a unit of work leaves the rest of it to commit."""
    north = factories.agency("north")
    staff = factories.user(north, Role.SHELTER_STAFF)
    shelter = factories.shelter(north, "S1: adult")
    bed_id = db.session.scalar(select(Bed.id).where(Bed.shelter_id == shelter.id))
    actor = factories.actor(staff)
    with unit_of_work():
        shelters.view_shelter(actor, shelter.id)  # audited: a view of the shelter
        shelters.place_hold(actor, shelter, [bed_id])
        with pytest.raises(Refused):
            shelters.place_hold(actor, shelter, [bed_id])  # the bed is held already
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Hold.id))) == 1
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["shelter.view", "hold.placed"]


def test_services_and_model_defaults_read_the_apps_clock(app: Flask, clock: app_clock.FrozenClock) -> None:
    moment = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    clock.set(moment)
    north = factories.agency("north")
    case = factories.case(factories.user(north), "Maple")
    assert case.opened_at == moment
    assert case.number == f"2026-{case.id:06d}"
    clock.advance(days=2)
    intake.close_case(factories.system(north), case, "moved")
    assert case.closed_at == moment + timedelta(days=2)


def test_a_hold_expires_when_the_clock_passes_its_end(app: Flask, clock: app_clock.FrozenClock) -> None:
    north = factories.agency("north")
    shelter = factories.shelter(north, "S1: adult")
    bed_id = db.session.scalar(select(Bed.id).where(Bed.shelter_id == shelter.id))
    hold = shelters.place_hold(factories.system(north), shelter, [bed_id], minutes=30)
    clock.advance(minutes=29)
    assert shelters.expire_holds() == 0
    clock.advance(minutes=2)
    assert shelters.expire_holds() == 1
    db.session.expire_all()
    assert db.session.get(Hold, hold.id).status == HoldStatus.EXPIRED  # type: ignore[union-attr]


# --- state machines as data ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "machine", [machines.BED, machines.HOLD, machines.REFERRAL, CASE], ids=lambda m: m.name
)
def test_every_machine_moves_only_between_its_own_states(machine: Machine) -> None:
    states = set(machine.states)  # type: ignore[call-overload]
    reached = set()
    for transition in machine:
        assert transition.target in states, transition
        assert all(s is None or s in states for s in transition.sources), transition
        assert str(transition.label), transition
        reached.add(transition.target)
    # Every state can be reached by some transition: none is left half-added.
    assert reached == states


def test_the_bed_machine_names_every_action_of_the_history() -> None:
    """The history's words come from the bed machine: an action written is an action labelled."""
    assert machines.BED.label("hold.placed") == "Hold placed"
    assert machines.BED.label("no.such.action") == "no.such.action"


def test_labels_live_on_the_members() -> None:
    assert BedState.OUT_OF_SERVICE.label == "Out of service"
    assert Danger.HIGH.label == "High danger"
    assert IntakeStep.SCREEN.label == "Risk screen"
    assert ReferralStatus.PENDING.label == "Waiting for the shelter"


# --- the database refuses impossible states ---------------------------------------------------------


@pytest.fixture
def a_bed(app: Flask) -> int:
    north = factories.agency("north")
    shelter = factories.shelter(north, "S1: adult adult")
    bed_id = db.session.scalar(select(Bed.id).where(Bed.shelter_id == shelter.id, Bed.label == "S1-A"))
    assert bed_id is not None
    return bed_id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE bed SET state = 'held' WHERE id = :id",  # held, without a hold
        "UPDATE bed SET state = 'occupied' WHERE id = :id",  # occupied, without a stay
        "UPDATE bed SET state = 'out_of_service' WHERE id = :id",  # out of service, no reason
        "UPDATE bed SET state = 'lost' WHERE id = :id",  # not a state at all
        "UPDATE bed SET out_of_service_reason = 'repair' WHERE id = :id",  # a reason while available
        "UPDATE bed SET agency_id = (SELECT max(id) FROM agency) + 1 WHERE id = :id",  # another agency
    ],
)
def test_a_direct_write_of_an_impossible_bed_is_refused_by_the_database(a_bed: int, statement: str) -> None:
    with pytest.raises(IntegrityError):
        db.session.execute(text(statement), {"id": a_bed})
        db.session.flush()
    db.session.rollback()
    assert db.session.get(Bed, a_bed).state == BedState.AVAILABLE  # type: ignore[union-attr]


def test_a_closed_case_without_its_date_is_refused_by_the_database(app: Flask) -> None:
    case = factories.case(factories.user(factories.agency("north")), "Maple")
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE case_file SET status = 'closed' WHERE id = :id"), {"id": case.id})
    db.session.rollback()


def test_a_bed_of_another_agencys_shelter_cannot_be_added(app: Flask) -> None:
    """The composite key: a bed's agency is its shelter's, whatever the code asks."""
    north, valley = factories.agency("north"), factories.agency("valley")
    shelter = factories.shelter(north, "S1: adult")
    room_id = db.session.scalar(text("SELECT id FROM room WHERE shelter_id = :s"), {"s": shelter.id})
    with pytest.raises(IntegrityError):
        db.session.execute(
            text(
                "INSERT INTO bed (room_id, shelter_id, agency_id, label, bed_type, state, state_changed_at) "
                "VALUES (:room, :shelter, :agency, 'X', 'adult', 'available', CURRENT_TIMESTAMP)"
            ),
            {"room": room_id, "shelter": shelter.id, "agency": valley.id},
        )
    db.session.rollback()
