"""No double booking, with real concurrency on PostgreSQL.

Each person is a thread with its own app context, so its own SQLAlchemy
session and database connection; a :class:`threading.Barrier` releases them
together, the way two people press the button at the same moment.  Each
race runs for several rounds, and after every round the database must say
one consistent thing: exactly one person succeeded, the beds are in the
state the winner left them, and each bed's availability history is an
unbroken chain (every event starts from the state the previous one ended
in, and the last one ends in the bed's state now).  A lost update, a
double hold or a bed moved by both sides breaks one of these.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from advocacy.actor import Actor
from advocacy.auth.models import Role
from advocacy.clock import SYSTEM, use_clock
from advocacy.clock import now as utcnow
from advocacy.extensions import db
from advocacy.shelters import service
from advocacy.shelters.models import (
    AvailabilityEvent,
    Bed,
    BedState,
    BedType,
    DeclineReason,
    Hold,
    HoldStatus,
    Referral,
    ReferralStatus,
    Shelter,
    Stay,
)
from advocacy.shelters.service import Household, Refused
from advocacy.uow import unit_of_work
from tests import factories
from tests.helpers import make_agency, make_user

pytestmark = pytest.mark.postgresql_only

ROUNDS = 20
#: Longest random pause after the barrier, in seconds: about one transition's worth of queries.
JITTER = 0.005
AVAILABLE, HELD, OCCUPIED, OUT = (s.value for s in BedState)


@pytest.fixture(params=["postgresql"])
def engine_name(request: pytest.FixtureRequest) -> str:
    """Only PostgreSQL: SQLite has one writer at a time, so there is no race to show."""
    return request.param


@pytest.fixture
def settings(database_url: str):  # type: ignore[no-untyped-def]
    """Races send many requests from one advocate: no hourly flooding limit here."""
    from tests.conftest import make_settings

    return make_settings(database_url, referrals_per_advocate_hour=1_000_000)


class ThreadClock:
    """The wall clock, except in a thread that reads its own time for a while.

    The app has one clock, shared by the threads of a race; the cron job, on
    its own machine, reads the moment a hold runs out while staff at their
    desks read the real time.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def now(self) -> datetime:
        at = getattr(self._local, "at", None)
        return at if at is not None else SYSTEM.now()

    @contextmanager
    def in_this_thread(self, at: datetime) -> Iterator[None]:
        self._local.at = at
        try:
            yield
        finally:
            self._local.at = None


@pytest.fixture
def thread_clock(app: Flask) -> Iterator[ThreadClock]:
    clock = ThreadClock()
    with use_clock(clock):
        yield clock


@dataclass
class Outcome:
    value: Any = None
    refused: Refused | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.refused is None and self.error is None


def race(
    app: Flask, shelter_id: int, *actions: Callable[[Shelter], Any], jitter: float = JITTER
) -> list[Outcome]:
    """Run each action in its own thread and session, all released at the same moment.

    Each thread loads the shelter first (as a view does before calling the
    service), waits at the barrier, then acts after a random pause of up to
    ``jitter`` seconds: an action that needs fewer queries before its first
    lock would otherwise win every round, and the other order would never be
    tried.  Refusals are outcomes; any other exception (a deadlock, an
    integrity error) fails the test.
    """
    barrier = threading.Barrier(len(actions))
    pauses = [random.uniform(0, jitter) for _ in actions]
    outcomes = [Outcome() for _ in actions]

    def run(outcome: Outcome, action: Callable[[Shelter], Any], pause: float) -> None:
        with app.app_context():
            try:
                shelter = db.session.get(Shelter, shelter_id)
                assert shelter is not None
                db.session.commit()
                barrier.wait(timeout=30)
                time.sleep(pause)
                with unit_of_work():
                    outcome.value = action(shelter)
            except Refused as refusal:
                outcome.refused = refusal
            except BaseException:  # noqa: BLE001 (reported to the main thread)
                outcome.error = traceback.format_exc()
            finally:
                db.session.remove()

    db.session.commit()  # the main thread holds no transaction while the threads run
    threads = [
        threading.Thread(target=run, args=args) for args in zip(outcomes, actions, pauses, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a thread is stuck (a deadlock?)"
    errors = [o.error for o in outcomes if o.error]
    assert not errors, "\n".join(errors)
    db.session.expire_all()
    return outcomes


def one_winner(outcomes: list[Outcome]) -> tuple[Outcome, Outcome]:
    winners = [o for o in outcomes if o.ok]
    losers = [o for o in outcomes if not o.ok]
    assert len(winners) == 1, [(o.value, o.refused) for o in outcomes]
    (loser,) = losers
    assert loser.refused is not None and loser.refused.message
    return winners[0], loser


# --- the shared world and what must always hold ---------------------------------------------------


@dataclass
class Place:
    shelter_id: int
    agency_id: int
    staff: tuple[Actor, Actor]

    @property
    def system(self) -> Actor:
        """The app itself, for this shelter's agency (what was ``actor_id=None``)."""
        return factories.system(self.agency_id)

    def shelter(self) -> Shelter:
        shelter = db.session.get(Shelter, self.shelter_id)
        assert shelter is not None
        return shelter

    def bed_ids(self) -> list[int]:
        return list(
            db.session.scalars(select(Bed.id).where(Bed.shelter_id == self.shelter_id).order_by(Bed.id))
        )

    def states(self) -> list[str]:
        return list(
            db.session.scalars(select(Bed.state).where(Bed.shelter_id == self.shelter_id).order_by(Bed.id))
        )

    def count(self, model: Any, *where: Any) -> int:
        return db.session.scalar(
            select(func.count()).select_from(model).where(model.shelter_id == self.shelter_id, *where)
        )

    def events(self, action: str) -> int:
        return self.count(AvailabilityEvent, AvailabilityEvent.action == action)

    def assert_consistent(self) -> None:
        """Each bed's history is one unbroken chain ending in its state now, a held bed
        belongs to exactly one active hold, an occupied bed to one open stay."""
        db.session.expire_all()
        for bed in db.session.scalars(select(Bed).where(Bed.shelter_id == self.shelter_id)):
            chain = db.session.execute(
                select(AvailabilityEvent.from_state, AvailabilityEvent.to_state)
                .where(AvailabilityEvent.bed_id == bed.id)
                .order_by(AvailabilityEvent.id)
            ).all()
            previous = None
            for from_state, to_state in chain:
                assert from_state == previous, (bed.label, chain)
                previous = to_state
            assert previous == bed.state, (bed.label, chain)
            if bed.state == HELD:
                hold = db.session.get(Hold, bed.hold_id)
                assert hold is not None and hold.status == HoldStatus.ACTIVE.value
            else:
                assert bed.hold_id is None
            if bed.state == OCCUPIED:
                stay = db.session.get(Stay, bed.stay_id)
                assert stay is not None and stay.checked_out_at is None
            else:
                assert bed.stay_id is None
        for hold in db.session.scalars(select(Hold).where(Hold.shelter_id == self.shelter_id)):
            held = self.count(Bed, Bed.hold_id == hold.id)
            assert (held > 0) == (hold.status == HoldStatus.ACTIVE.value), (hold.id, hold.status, held)


@pytest.fixture
def place(app: Flask) -> Place:
    """A shelter with two adult beds and two staff members who keep them."""
    agency = make_agency("north")
    staff = (make_user(agency, Role.SHELTER_STAFF), make_user(agency, Role.SHELTER_STAFF))
    setup = factories.system(agency)
    shelter = service.add_shelter(
        setup, agency.id, "Birch House", "NS-1", "North Shore", address="1208 Example Ave"
    )
    service.add_room(setup, shelter, "Room 1", beds=[("A1", BedType.ADULT), ("A2", BedType.ADULT)])
    db.session.commit()
    return Place(shelter.id, agency.id, (factories.actor(staff[0]), factories.actor(staff[1])))


def last_bed_only(place: Place) -> int:
    """Fill every bed but the last one (a household checked in), and return the last."""
    first, last = place.bed_ids()
    service.check_in(place.staff[0], place.shelter(), [first])
    return last


# --- the races --------------------------------------------------------------------------------------


def test_two_staff_hold_the_last_bed_at_the_same_moment(app: Flask, place: Place) -> None:
    last = last_bed_only(place)
    for round_ in range(1, ROUNDS + 1):
        outcomes = race(
            app,
            place.shelter_id,
            *(
                lambda shelter, actor=actor: service.place_hold(actor, shelter, [last]).id
                for actor in place.staff
            ),
        )
        winner, loser = one_winner(outcomes)
        # The loser is told which bed is in the way and why, not "someone else".
        label = db.session.scalar(select(Bed.label).where(Bed.id == last))
        assert loser.refused.message.startswith(f"Bed {label} is held.")  # type: ignore[union-attr]
        assert place.states() == [OCCUPIED, HELD]
        assert db.session.scalar(select(Bed.hold_id).where(Bed.id == last)) == winner.value
        assert place.count(Hold, Hold.status == HoldStatus.ACTIVE.value) == 1
        assert place.count(Hold) == round_  # the refused hold left no row
        assert place.events("hold.placed") == round_
        place.assert_consistent()
        service.release_hold(place.staff[0], place.shelter(), winner.value)
    assert place.events("hold.released") == ROUNDS


def test_two_advocates_ask_for_the_last_bed_at_the_same_moment(app: Flask, place: Place) -> None:
    last_bed_only(place)
    referrers = [make_agency("east"), make_agency("west")]
    advocates = [(factories.actor(make_user(a, Role.ADVOCATE)), a.id) for a in referrers]
    for round_ in range(1, ROUNDS + 1):
        outcomes = race(
            app,
            place.shelter_id,
            *(
                lambda shelter, who=who: (
                    service.request_referral(who[0], shelter.id, Household(), from_agency_id=who[1]).id
                )
                for who in advocates
            ),
        )
        winner, _loser = one_winner(outcomes)
        assert place.states() == [OCCUPIED, HELD]
        assert place.count(Referral) == round_
        assert place.count(Referral, Referral.status == ReferralStatus.PENDING.value) == 1
        assert place.count(Hold, Hold.status == HoldStatus.ACTIVE.value) == 1
        assert place.events("hold.placed") == round_
        place.assert_consistent()
        service.decline_referral(
            place.staff[0], place.shelter(), winner.value, DeclineReason.NO_LONGER_AVAILABLE
        )
    assert place.count(Referral, Referral.status == ReferralStatus.DECLINED.value) == ROUNDS


def test_two_staff_check_in_against_the_same_hold(app: Flask, place: Place) -> None:
    for round_ in range(1, ROUNDS + 1):
        hold = service.place_hold(place.staff[0], place.shelter(), place.bed_ids())
        hold_id = hold.id
        outcomes = race(
            app,
            place.shelter_id,
            *(
                lambda shelter, actor=actor, hold=hold_id: (
                    service.check_in(actor, shelter, hold_id=hold, adults=1, children=1).id
                )
                for actor in place.staff
            ),
        )
        winner, _loser = one_winner(outcomes)
        assert place.states() == [OCCUPIED, OCCUPIED]
        assert set(db.session.scalars(select(Bed.stay_id).where(Bed.shelter_id == place.shelter_id))) == {
            winner.value
        }
        assert place.count(Stay) == round_
        assert db.session.scalar(select(Hold.status).where(Hold.id == hold_id)) == HoldStatus.CHECKED_IN.value
        assert place.events("stay.checked_in") == 2 * round_
        place.assert_consistent()
        service.check_out(place.staff[0], place.shelter(), winner.value)


@pytest.mark.parametrize("ending", ["release", "expiry"])
def test_check_in_races_the_end_of_the_same_hold(
    app: Flask, place: Place, thread_clock: ThreadClock, ending: str
) -> None:
    """The hold is either used or ended, never both: a bed is never occupied by a
    household and open at once, and the events say exactly what happened."""
    wins = {"check_in": 0, ending: 0}
    for _round in range(ROUNDS):
        hold = service.place_hold(place.staff[0], place.shelter(), place.bed_ids())
        hold_id, expires_at = hold.id, hold.expires_at

        def check_in(shelter: Shelter, hold_id: int = hold_id) -> int:
            return service.check_in(place.staff[0], shelter, hold_id=hold_id).id

        def end(shelter: Shelter, hold_id: int = hold_id, expires_at: datetime = expires_at) -> int:
            if ending == "release":
                service.release_hold(place.staff[1], shelter, hold_id)
                return 1
            # The cron job, run as the hold's time runs out (on its own machine's clock).
            with thread_clock.in_this_thread(expires_at):
                return service.expire_holds()

        checked_in, ended = race(app, place.shelter_id, check_in, end)
        status = db.session.scalar(select(Hold.status).where(Hold.id == hold_id))
        if checked_in.ok:
            wins["check_in"] += 1
            assert ended.value == 0 or ended.refused is not None
            assert status == HoldStatus.CHECKED_IN.value
            assert place.states() == [OCCUPIED, OCCUPIED]
            service.check_out(place.system, place.shelter(), checked_in.value)
        else:
            wins[ending] += 1
            assert ended.ok and ended.value == 1
            # Told how the hold ended, whichever step of the check-in found it gone.
            why = "already released" if ending == "release" else "its time ran out"
            assert why in checked_in.refused.message  # type: ignore[union-attr]
            assert status == (HoldStatus.RELEASED if ending == "release" else HoldStatus.EXPIRED).value
            assert place.states() == [AVAILABLE, AVAILABLE]
        place.assert_consistent()
    assert sum(wins.values()) == ROUNDS
    used = wins["check_in"]
    assert place.count(Stay) == used
    assert place.events("stay.checked_in") == 2 * used
    assert place.events("hold.released" if ending == "release" else "hold.expired") == 2 * (ROUNDS - used)
    assert place.count(Hold, Hold.status == HoldStatus.ACTIVE.value) == 0


def test_extending_a_hold_races_its_expiry(app: Flask, place: Place, thread_clock: ThreadClock) -> None:
    """Staff extend a hold in the last seconds while the cron job expires it: either
    the extension is refused and the beds are free, or it counts and the hold stays."""
    for _round in range(ROUNDS):
        hold = service.place_hold(place.staff[0], place.shelter(), place.bed_ids())
        hold_id = hold.id
        due = utcnow() + timedelta(seconds=30)
        db.session.execute(update(Hold).where(Hold.id == hold_id).values(expires_at=due))
        db.session.commit()

        def extend(shelter: Shelter, hold_id: int = hold_id) -> datetime:
            return service.extend_hold(place.staff[1], shelter, hold_id).expires_at

        def expire(shelter: Shelter, due: datetime = due) -> int:
            with thread_clock.in_this_thread(due):
                return service.expire_holds()

        extended, expired = race(app, place.shelter_id, extend, expire)
        status = db.session.scalar(select(Hold.status).where(Hold.id == hold_id))
        if extended.ok:
            assert extended.value > due and expired.value == 0
            assert status == HoldStatus.ACTIVE.value
            assert place.states() == [HELD, HELD]
            service.release_hold(place.system, place.shelter(), hold_id)
        else:
            assert expired.value == 1
            assert status == HoldStatus.EXPIRED.value
            assert place.states() == [AVAILABLE, AVAILABLE]
        place.assert_consistent()
    assert place.count(Hold, Hold.status == HoldStatus.ACTIVE.value) == 0


def test_many_people_at_once_never_double_book(app: Flask, place: Place) -> None:
    """Six people at once (holds, walk-ins, referrals) on two beds: at most two
    can win, and whatever happened, the history and the beds agree."""
    referrer = make_agency("east")
    # An actor and plain ids: values the threads can share.
    advocate, referrer_id = factories.actor(make_user(referrer, Role.ADVOCATE)), referrer.id
    system = place.system
    a1, a2 = place.bed_ids()
    actions: list[Callable[[Shelter], Any]] = [
        lambda s: service.place_hold(system, s, [a1]).id,
        lambda s: service.place_hold(system, s, [a2, a1]).id,
        lambda s: service.check_in(system, s, [a2]).id,
        lambda s: service.check_in(system, s, [a1, a2]).id,
        lambda s: service.request_referral(advocate, s.id, Household(), from_agency_id=referrer_id).id,
        lambda s: service.request_referral(advocate, s.id, Household(), from_agency_id=referrer_id).id,
    ]
    for _round in range(ROUNDS):
        outcomes = race(app, place.shelter_id, *actions)
        winners = [o for o in outcomes if o.ok]
        holds = list(db.session.scalars(select(Hold.id).where(Hold.status == HoldStatus.ACTIVE.value)))
        stays = list(db.session.scalars(select(Stay.id).where(Stay.checked_out_at.is_(None))))
        # Nobody frees a bed here, and someone asked for each bed alone: both end up taken,
        # by one or two winners, each with exactly one hold or stay.
        assert AVAILABLE not in place.states()
        assert 1 <= len(winners) <= 2
        assert len(holds) + len(stays) == len(winners)
        place.assert_consistent()
        for hold_id in holds:
            service.release_hold(system, place.shelter(), hold_id)
        for stay_id in stays:
            service.check_out(system, place.shelter(), stay_id)
        assert place.states() == [AVAILABLE, AVAILABLE]
