"""The shelter network, as its service functions do the work (no HTTP).

Every bed state change is a conditional update that either happens whole,
with its availability event and a new board version, or is refused and
changes nothing.  Holds end by themselves; referrals cross agencies carrying
only a token and the household's numbers; the network board shows labels
and regions, never a name or an address.  These run on SQLite and, with
``TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, current_app
from sqlalchemy import func, inspect, select, text, update

from advocacy.actor import Actor
from advocacy.auth.models import Agency, Role, User
from advocacy.clock import FrozenClock
from advocacy.clock import now as utcnow
from advocacy.errors import BedsRefused, NotFound
from advocacy.extensions import db
from advocacy.shelters import service
from advocacy.shelters.models import (
    AvailabilityEvent,
    Bed,
    BedState,
    BedType,
    CulturalProgram,
    DeclineReason,
    Hold,
    HoldStatus,
    OutOfServiceReason,
    Referral,
    ReferralStatus,
    RoomType,
    Shelter,
    Stay,
)
from advocacy.shelters.service import BoardFilters, Household, NetworkFilters, Refused
from tests import factories
from tests.helpers import make_agency, make_user
from tests.statements import counted

AVAILABLE, HELD, OCCUPIED, OUT = (s.value for s in BedState)


# --- building a network ------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomSpec:
    """A room as a test describes it: "F1:adult F2:child F3:crib"."""

    label: str
    beds: str
    room_type: RoomType = RoomType.SINGLE
    accessible: bool = False
    pets: bool = False

    def bed_list(self) -> list[tuple[str, BedType]]:
        return [(lbl, BedType(kind)) for lbl, kind in (b.split(":") for b in self.beds.split())]


ONE_BED = (RoomSpec("Room 1", "A1:adult"),)
TWO_BEDS = (RoomSpec("Room 1", "A1:adult A2:adult"),)
MIXED = (
    RoomSpec("Room 1", "S1:adult"),
    RoomSpec("Room 2", "S2:adult", accessible=True, pets=True),
    RoomSpec("Room 3", "F1:adult F2:adult F3:child F4:crib", room_type=RoomType.FAMILY),
)


def build_shelter(
    agency: Agency,
    label: str = "NS-1",
    region: str = "North Shore",
    *,
    rooms: Sequence[RoomSpec] = TWO_BEDS,
    name: str = "Birch House",
    address: str = "1208 Example Ave, Duluth",
    **options: Any,
) -> Shelter:
    setup = factories.system(agency)
    shelter = service.add_shelter(setup, agency.id, name, label, region, address=address, **options)
    for room in rooms:
        service.add_room(
            setup,
            shelter,
            room.label,
            room_type=room.room_type,
            accessible=room.accessible,
            pets_allowed=room.pets,
            beds=room.bed_list(),
        )
    db.session.commit()
    return shelter


@dataclass
class Site:
    """One agency's shelter and the staff member who keeps its beds."""

    agency: Agency
    staff: User
    shelter: Shelter

    @property
    def actor(self) -> Actor:
        """The staff member, as the services see them."""
        return factories.actor(self.staff)

    @property
    def system(self) -> Actor:
        """The app itself (a worker, the demo), acting for this shelter's agency."""
        return factories.system(self.agency)

    def bed_id(self, label: str) -> int:
        bed_id = db.session.scalar(
            select(Bed.id).where(Bed.shelter_id == self.shelter.id, Bed.label == label)
        )
        assert bed_id is not None, label
        return bed_id

    def ids(self, *labels: str) -> list[int]:
        return [self.bed_id(label) for label in labels]

    def states(self) -> dict[str, str]:
        """Every bed's state as the database has it now, by label."""
        return dict(
            db.session.execute(select(Bed.label, Bed.state).where(Bed.shelter_id == self.shelter.id)).all()
        )

    def state(self, label: str) -> str:
        return self.states()[label]

    def version(self) -> int:
        return db.session.scalar(select(Shelter.board_version).where(Shelter.id == self.shelter.id))

    def updated_at(self) -> datetime:
        return db.session.scalar(select(Shelter.availability_updated_at).where(Shelter.id == self.shelter.id))

    def events(self, action: str | None = None) -> list[AvailabilityEvent]:
        stmt = select(AvailabilityEvent).where(AvailabilityEvent.shelter_id == self.shelter.id)
        if action:
            stmt = stmt.where(AvailabilityEvent.action == action)
        return list(db.session.scalars(stmt.order_by(AvailabilityEvent.id)))

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a refused transition must leave as it was."""
        db.session.expire_all()
        holds = db.session.execute(
            select(Hold.id, Hold.status, Hold.expires_at).where(Hold.shelter_id == self.shelter.id)
        ).all()
        stays = db.session.execute(
            select(Stay.id, Stay.checked_out_at).where(Stay.shelter_id == self.shelter.id)
        ).all()
        referrals = db.session.execute(
            select(Referral.id, Referral.status).where(Referral.shelter_id == self.shelter.id)
        ).all()
        beds = db.session.execute(
            select(Bed.label, Bed.state, Bed.hold_id, Bed.stay_id).where(Bed.shelter_id == self.shelter.id)
        ).all()
        return (
            sorted(beds),
            sorted(holds),
            sorted(stays),
            sorted(referrals),
            len(self.events()),
            self.version(),
        )


def make_site(slug: str, *, rooms: Sequence[RoomSpec] = TWO_BEDS, **shelter: Any) -> Site:
    agency = make_agency(slug)
    staff = make_user(agency, Role.SHELTER_STAFF)
    return Site(agency, staff, build_shelter(agency, rooms=rooms, **shelter))


@pytest.fixture
def north(app: Flask) -> Site:
    return make_site("north")


@pytest.fixture
def valley(app: Flask) -> Site:
    """A second agency of the network, with its own shelter."""
    return make_site(
        "valley", label="RV-1", region="River Valley", name="Cedar Haven", address="9 Placeholder Rd, Mankato"
    )


def hold_row(hold_id: int) -> Hold:
    db.session.expire_all()
    hold = db.session.get(Hold, hold_id)
    assert hold is not None
    return hold


def referral_row(referral_id: int) -> Referral:
    db.session.expire_all()
    referral = db.session.get(Referral, referral_id)
    assert referral is not None
    return referral


def make_due(hold_id: int, ago: timedelta = timedelta(minutes=5)) -> datetime:
    """Move a hold's expiry into the past, as if its time had run out."""
    when = (utcnow() - ago).replace(microsecond=0)
    db.session.execute(update(Hold).where(Hold.id == hold_id).values(expires_at=when))
    db.session.commit()
    return when


def make_today(clock: FrozenClock, day: date) -> None:
    """Make ``day`` today in the agency's time zone (the clock moves only if it must)."""
    zone = ZoneInfo(current_app.config["SETTINGS"].default_timezone)
    if clock.now().astimezone(zone).date() != day:
        clock.set(datetime.combine(day, time(12), tzinfo=zone).astimezone(UTC))


def refused(call: Callable[[], object], site: Site, contains: str) -> str:
    """``call`` is refused with a message, and leaves the shelter exactly as it was."""
    before = site.snapshot()
    with pytest.raises(Refused) as info:
        call()
    assert contains in info.value.message
    assert site.snapshot() == before
    return info.value.message


# --- staff at the board: every transition, its event and the board version ------------------------


def test_staff_place_a_hold_on_the_last_bed(north: Site) -> None:
    service.take_out_of_service(north.actor, north.shelter, north.ids("A2"), OutOfServiceReason.CLEANING)
    version, events = north.version(), len(north.events())

    hold = service.place_hold(north.actor, north.shelter, north.ids("A1"), note="from the hotline")

    assert north.states() == {"A1": HELD, "A2": OUT}
    assert hold.status == HoldStatus.ACTIVE.value
    assert hold.note == "from the hotline"
    assert hold.expires_at - hold.created_at == timedelta(minutes=service.DEFAULT_HOLD_MINUTES)
    (event,) = north.events()[events:]
    assert (event.action, event.actor_id, event.from_state, event.to_state) == (
        "hold.placed",
        north.staff.id,
        AVAILABLE,
        HELD,
    )
    assert (event.bed_id, event.hold_id, event.occurred_at) == (north.bed_id("A1"), hold.id, hold.created_at)
    assert north.version() == version + 1
    assert north.updated_at() == hold.created_at
    bed = db.session.get(Bed, north.bed_id("A1"))
    assert bed is not None and bed.hold_id == hold.id and bed.state_changed_at == hold.created_at


def test_the_agency_sets_how_long_a_hold_lasts(north: Site) -> None:
    service.update_network_settings(north.system, north.agency.id, hold_minutes=45, stale_after_minutes=60)
    hold = service.place_hold(north.actor, north.shelter, north.ids("A1"))
    assert hold.expires_at - hold.created_at == timedelta(minutes=45)

    other = service.place_hold(north.actor, north.shelter, north.ids("A2"), minutes=30)
    assert other.expires_at - other.created_at == timedelta(minutes=30)

    with pytest.raises(Refused, match="15 minutes to 24 hours"):
        service.update_network_settings(north.system, north.agency.id, hold_minutes=5, stale_after_minutes=60)
    assert service.network_settings(north.agency.id).hold_minutes == 45


@pytest.mark.parametrize("minutes", [0, -30, 10, 25 * 60])
def test_a_hold_cannot_be_placed_for_no_time_or_too_long(north: Site, minutes: int) -> None:
    """A hold of no time (or negative time) would expire before it began."""
    refused(
        lambda: service.place_hold(north.actor, north.shelter, north.ids("A1"), minutes=minutes),
        north,
        "15 minutes to 24 hours",
    )


def test_a_new_agency_has_the_default_settings(app: Flask) -> None:
    agency = make_agency("fresh")
    settings = service.network_settings(agency.id)
    assert (settings.hold_minutes, settings.stale_after_minutes) == (120, 360)


def test_staff_extend_a_hold_for_the_full_length_again(north: Site) -> None:
    hold = service.place_hold(north.actor, north.shelter, north.ids("A1", "A2"))
    db.session.execute(
        update(Hold).where(Hold.id == hold.id).values(expires_at=utcnow() + timedelta(minutes=3))
    )
    db.session.commit()
    version = north.version()

    extended = service.extend_hold(north.actor, north.shelter, hold.id)

    events = north.events("hold.extended")
    assert [e.bed_id for e in events] == north.ids("A1", "A2")
    assert {(e.from_state, e.to_state, e.actor_id, e.hold_id) for e in events} == {
        (HELD, HELD, north.staff.id, hold.id)
    }
    assert extended.expires_at == events[0].occurred_at + timedelta(minutes=120)
    assert north.states() == {"A1": HELD, "A2": HELD}
    assert north.version() == version + 1


def test_staff_release_a_hold_and_the_beds_are_open_again(north: Site) -> None:
    hold = service.place_hold(north.actor, north.shelter, north.ids("A1", "A2"))
    version = north.version()

    service.release_hold(north.actor, north.shelter, hold.id)

    assert north.states() == {"A1": AVAILABLE, "A2": AVAILABLE}
    released = hold_row(hold.id)
    assert released.status == HoldStatus.RELEASED.value and released.ended_at is not None
    events = north.events("hold.released")
    assert {(e.from_state, e.to_state, e.actor_id, e.hold_id) for e in events} == {
        (HELD, AVAILABLE, north.staff.id, hold.id)
    }
    assert len(events) == 2 and events[0].occurred_at == released.ended_at
    assert north.version() == version + 1
    assert db.session.scalar(select(Bed.hold_id).where(Bed.id == north.bed_id("A1"))) is None


def test_a_household_checks_in_to_every_bed_of_its_hold(north: Site) -> None:
    hold = service.place_hold(north.actor, north.shelter, north.ids("A1", "A2"))
    version = north.version()

    stay = service.check_in(
        north.actor, north.shelter, hold_id=hold.id, adults=1, children=1, note="J. and son"
    )

    assert north.states() == {"A1": OCCUPIED, "A2": OCCUPIED}
    assert (stay.hold_id, stay.adults, stay.children, stay.note) == (hold.id, 1, 1, "J. and son")
    assert hold_row(hold.id).status == HoldStatus.CHECKED_IN.value
    events = north.events("stay.checked_in")
    assert {(e.from_state, e.to_state, e.stay_id, e.hold_id, e.actor_id) for e in events} == {
        (HELD, OCCUPIED, stay.id, hold.id, north.staff.id)
    }
    assert len(events) == 2
    assert north.version() == version + 1
    beds = db.session.execute(select(Bed.stay_id, Bed.hold_id).where(Bed.shelter_id == north.shelter.id))
    assert set(beds) == {(stay.id, None)}


def test_checking_in_fewer_beds_than_held_lets_the_others_go(app: Flask) -> None:
    site = make_site("north", rooms=(RoomSpec("Room 1", "A1:adult A2:adult A3:adult"),))
    hold = service.place_hold(site.actor, site.shelter, site.ids("A1", "A2", "A3"))

    stay = service.check_in(site.actor, site.shelter, site.ids("A2"), hold_id=hold.id)

    assert site.states() == {"A1": AVAILABLE, "A2": OCCUPIED, "A3": AVAILABLE}
    let_go = site.events("hold.released")
    assert [e.bed_id for e in let_go] == site.ids("A1", "A3")
    assert {(e.from_state, e.to_state, e.hold_id) for e in let_go} == {(HELD, AVAILABLE, hold.id)}
    assert [e.bed_id for e in site.events("stay.checked_in")] == site.ids("A2")
    assert hold_row(hold.id).status == HoldStatus.CHECKED_IN.value
    assert stay.hold_id == hold.id


def test_checking_in_may_add_an_open_bed_to_the_held_ones(app: Flask) -> None:
    site = make_site("north", rooms=(RoomSpec("Room 1", "A1:adult A2:adult A3:adult"),))
    hold = service.place_hold(site.actor, site.shelter, site.ids("A1"))

    stay = service.check_in(site.actor, site.shelter, site.ids("A1", "A2"), hold_id=hold.id)

    assert site.states() == {"A1": OCCUPIED, "A2": OCCUPIED, "A3": AVAILABLE}
    from_states = {e.bed_id: e.from_state for e in site.events("stay.checked_in")}
    assert from_states == {site.bed_id("A1"): HELD, site.bed_id("A2"): AVAILABLE}
    assert {e.stay_id for e in site.events("stay.checked_in")} == {stay.id}


def test_a_walk_in_household_checks_in_to_open_beds(north: Site) -> None:
    version = north.version()
    stay = service.check_in(north.actor, north.shelter, north.ids("A1"), adults=1)
    assert north.states() == {"A1": OCCUPIED, "A2": AVAILABLE}
    assert stay.hold_id is None and stay.checked_in_by_id == north.staff.id
    (event,) = north.events("stay.checked_in")
    assert (event.from_state, event.to_state, event.stay_id, event.hold_id) == (
        AVAILABLE,
        OCCUPIED,
        stay.id,
        None,
    )
    assert north.version() == version + 1


def test_checking_out_frees_every_bed_of_the_household(north: Site) -> None:
    stay = service.check_in(north.actor, north.shelter, north.ids("A1", "A2"), children=1)
    version = north.version()

    service.check_out_bed(north.actor, north.shelter, north.bed_id("A2"))

    assert north.states() == {"A1": AVAILABLE, "A2": AVAILABLE}
    db.session.expire_all()
    done = db.session.get(Stay, stay.id)
    assert done is not None and done.checked_out_at is not None and done.checked_out_by_id == north.staff.id
    events = north.events("stay.checked_out")
    assert {(e.from_state, e.to_state, e.stay_id, e.actor_id) for e in events} == {
        (OCCUPIED, AVAILABLE, stay.id, north.staff.id)
    }
    assert len(events) == 2 and events[0].occurred_at == done.checked_out_at
    assert north.version() == version + 1
    assert set(db.session.scalars(select(Bed.stay_id).where(Bed.shelter_id == north.shelter.id))) == {None}


def test_a_bed_goes_out_of_service_and_comes_back(north: Site) -> None:
    version = north.version()
    service.take_out_of_service(north.system, north.shelter, north.ids("A1"), OutOfServiceReason.REPAIR)
    assert north.states() == {"A1": OUT, "A2": AVAILABLE}
    assert (
        db.session.scalar(select(Bed.out_of_service_reason).where(Bed.id == north.bed_id("A1"))) == "repair"
    )
    (out,) = north.events("bed.out_of_service")
    assert (out.from_state, out.to_state, out.reason, out.actor_id) == (AVAILABLE, OUT, "repair", None)

    service.return_to_service(north.actor, north.shelter, north.ids("A1"))
    assert north.states() == {"A1": AVAILABLE, "A2": AVAILABLE}
    assert db.session.scalar(select(Bed.out_of_service_reason).where(Bed.id == north.bed_id("A1"))) is None
    (back,) = north.events("bed.back_in_service")
    assert (back.from_state, back.to_state, back.actor_id) == (OUT, AVAILABLE, north.staff.id)
    assert north.version() == version + 2


def test_new_beds_start_available_with_an_event(north: Site) -> None:
    added = north.events("bed.added")
    assert [e.bed_id for e in added] == north.ids("A1", "A2")
    assert {(e.from_state, e.to_state) for e in added} == {(None, AVAILABLE)}


def test_confirming_the_board_restarts_updated_without_a_change(north: Site) -> None:
    db.session.execute(
        update(Shelter)
        .where(Shelter.id == north.shelter.id)
        .values(availability_updated_at=utcnow() - timedelta(hours=9))
    )
    db.session.commit()
    version, events = north.version(), len(north.events())
    service.confirm_board(north.actor, north.shelter)
    assert utcnow() - north.updated_at() < timedelta(minutes=1)
    assert north.version() == version + 1
    assert len(north.events()) == events


# --- refused transitions change nothing -----------------------------------------------------------


def test_checking_out_an_empty_bed_is_refused(north: Site) -> None:
    refused(
        lambda: service.check_out_bed(north.actor, north.shelter, north.bed_id("A1")),
        north,
        "Nobody is checked in",
    )
    hold = service.place_hold(north.actor, north.shelter, north.ids("A1"))
    refused(
        lambda: service.check_out_bed(north.actor, north.shelter, north.bed_id("A1")),
        north,
        "Nobody is checked in",
    )
    assert hold_row(hold.id).status == HoldStatus.ACTIVE.value


def test_a_household_cannot_be_checked_out_twice(north: Site) -> None:
    stay = service.check_in(north.actor, north.shelter, north.ids("A1"))
    service.check_out(north.actor, north.shelter, stay.id)
    refused(
        lambda: service.check_out(north.actor, north.shelter, stay.id),
        north,
        "already been checked out",
    )


def test_held_or_occupied_beds_cannot_go_out_of_service(north: Site) -> None:
    service.place_hold(north.actor, north.shelter, north.ids("A1"))
    service.check_in(north.actor, north.shelter, north.ids("A2"))
    for label in ("A1", "A2"):
        refused(
            lambda label=label: service.take_out_of_service(  # type: ignore[misc]
                north.actor, north.shelter, north.ids(label), OutOfServiceReason.REPAIR
            ),
            north,
            "Only available beds",
        )
    assert north.states() == {"A1": HELD, "A2": OCCUPIED}


def test_out_of_service_is_all_or_nothing(north: Site) -> None:
    service.place_hold(north.actor, north.shelter, north.ids("A2"))
    refused(
        lambda: service.take_out_of_service(
            north.actor, north.shelter, north.ids("A1", "A2"), OutOfServiceReason.STAFFING
        ),
        north,
        "Only available beds",
    )
    assert north.state("A1") == AVAILABLE


def test_an_available_bed_cannot_come_back_in_service(north: Site) -> None:
    refused(
        lambda: service.return_to_service(north.actor, north.shelter, north.ids("A1")),
        north,
        "Only beds that are out of service",
    )


@pytest.mark.parametrize(
    ("ending", "why"),
    [
        ("released", "This hold was already released."),
        ("expired", "its time ran out"),
        ("checked_in", "its household is checked in"),
    ],
)
def test_an_ended_hold_cannot_be_extended_released_or_used(
    north: Site, clock: FrozenClock, ending: str, why: str
) -> None:
    """Each refusal says how the hold ended, not "used, released or expired"."""
    hold = service.place_hold(north.actor, north.shelter, north.ids("A1"))
    if ending == "released":
        service.release_hold(north.actor, north.shelter, hold.id)
    elif ending == "expired":
        clock.set(hold.expires_at)
        service.expire_holds()
    else:
        service.check_in(north.actor, north.shelter, hold_id=hold.id)
    assert hold_row(hold.id).status == ending

    for call in (
        lambda: service.extend_hold(north.actor, north.shelter, hold.id),
        lambda: service.release_hold(north.actor, north.shelter, hold.id),
        lambda: service.check_in(north.actor, north.shelter, hold_id=hold.id),
        lambda: service.check_in(north.actor, north.shelter, north.ids("A2"), hold_id=hold.id),
    ):
        refused(call, north, why)


def test_a_held_bed_cannot_be_taken_by_anyone_else(north: Site) -> None:
    hold = service.place_hold(north.actor, north.shelter, north.ids("A1"))
    message = refused(
        lambda: service.place_hold(north.actor, north.shelter, north.ids("A1")),
        north,
        "Bed A1 is held. Nothing was held",
    )
    assert "Someone else" not in message
    # All or none: asking for an open bed together with the held one holds neither,
    # and only the bed in the way is named.
    message = refused(
        lambda: service.place_hold(north.actor, north.shelter, north.ids("A2", "A1")),
        north,
        "Bed A1 is held. Nothing was held",
    )
    assert "A2" not in message
    refused(
        lambda: service.check_in(north.actor, north.shelter, north.ids("A1")),
        north,
        "Bed A1 is held. Nothing was changed",
    )
    assert north.states() == {"A1": HELD, "A2": AVAILABLE}
    assert db.session.scalar(select(func.count()).select_from(Hold)) == 1
    assert hold_row(hold.id).status == HoldStatus.ACTIVE.value


def test_an_occupied_bed_cannot_be_held_or_checked_into(north: Site) -> None:
    service.check_in(north.actor, north.shelter, north.ids("A1"))
    refused(
        lambda: service.place_hold(north.actor, north.shelter, north.ids("A1")),
        north,
        "Bed A1 is occupied.",
    )
    with pytest.raises(BedsRefused) as info:
        service.check_in(north.actor, north.shelter, north.ids("A1", "A2"))
    assert (
        info.value.message
        == "Bed A1 is occupied. Nothing was changed; the board shows the beds as they are now."
    )
    assert info.value.beds == (("A1", "occupied"),)
    assert north.state("A2") == AVAILABLE


def test_refusals_of_out_of_service_changes_name_the_bed(north: Site) -> None:
    service.check_in(north.actor, north.shelter, north.ids("A1"))
    refused(
        lambda: service.take_out_of_service(
            north.actor, north.shelter, north.ids("A1"), OutOfServiceReason.REPAIR
        ),
        north,
        "Bed A1 is occupied. Only available beds",
    )
    refused(
        lambda: service.return_to_service(north.actor, north.shelter, north.ids("A2")),
        north,
        "Bed A2 is already in service.",
    )
    refused(
        lambda: service.check_out_bed(north.actor, north.shelter, north.bed_id("A2")),
        north,
        "Nobody is checked in to bed A2",
    )


def test_a_household_needs_an_adult_and_a_bed(north: Site) -> None:
    refused(
        lambda: service.check_in(north.actor, north.shelter, north.ids("A1"), adults=0),
        north,
        "at least one adult",
    )
    refused(lambda: service.place_hold(north.actor, north.shelter, []), north, "at least one bed")
    refused(lambda: service.check_in(north.actor, north.shelter, []), north, "at least one bed")


# --- another shelter's beds are not there --------------------------------------------------------


def test_beds_holds_and_stays_of_another_shelter_are_not_found(north: Site, valley: Site) -> None:
    """Given the wrong shelter, every function answers 404, whether the other shelter is
    the same agency's or another agency's, and changes nothing of either."""
    sister = Site(
        north.agency,
        north.staff,
        build_shelter(north.agency, "NS-2", rooms=ONE_BED, name="Lakeview", address="44 Sample St"),
    )
    for other in (sister, valley):
        hold = service.place_hold(other.actor, other.shelter, other.ids("A1"))
        calls: list[Callable[[], object]] = [
            lambda other=other: service.place_hold(north.system, north.shelter, other.ids("A1")),
            lambda other=other: service.place_hold(
                north.system, north.shelter, [*north.ids("A1"), *other.ids("A1")]
            ),
            lambda other=other: service.check_in(north.system, north.shelter, other.ids("A1")),
            lambda other=other: service.take_out_of_service(
                north.system, north.shelter, other.ids("A1"), OutOfServiceReason.OTHER
            ),
            lambda other=other: service.return_to_service(north.system, north.shelter, other.ids("A1")),
            lambda other=other: service.check_out_bed(north.system, north.shelter, other.bed_id("A1")),
            lambda hold=hold: service.extend_hold(north.system, north.shelter, hold.id),
            lambda hold=hold: service.release_hold(north.system, north.shelter, hold.id),
            lambda hold=hold: service.check_in(north.system, north.shelter, hold_id=hold.id),
        ]
        before = (north.snapshot(), other.snapshot())
        for call in calls:
            with pytest.raises(NotFound):
                call()
        assert (north.snapshot(), other.snapshot()) == before
        assert other.state("A1") == HELD


def test_stays_and_referrals_of_another_shelter_are_not_found(north: Site, valley: Site) -> None:
    stay = service.check_in(valley.actor, valley.shelter, valley.ids("A1"))
    referral = service.request_referral(
        north.actor, valley.shelter.id, Household(), from_agency_id=north.agency.id
    )
    before = valley.snapshot()
    with pytest.raises(NotFound):
        service.check_out(north.actor, north.shelter, stay.id)
    with pytest.raises(NotFound):
        service.accept_referral(north.actor, north.shelter, referral.id)
    with pytest.raises(NotFound):
        service.decline_referral(north.actor, north.shelter, referral.id, DeclineReason.OTHER)
    assert valley.snapshot() == before


def test_staff_reach_only_their_own_agency_shelters(app: Flask, north: Site, valley: Site) -> None:
    advocate = make_user(north.agency, Role.ADVOCATE)
    staff = factories.actor(north.staff)
    assert service.own_shelter(staff, north.shelter.id).id == north.shelter.id
    assert [s.id for s in service.own_shelters(staff)] == [north.shelter.id]
    with pytest.raises(NotFound):
        service.own_shelter(staff, valley.shelter.id)
    with pytest.raises(NotFound):
        service.own_shelter(factories.actor(advocate), north.shelter.id)


# --- holds expire by themselves --------------------------------------------------------------------


def test_an_expired_hold_frees_its_bed_without_anyone_acting(north: Site, clock: FrozenClock) -> None:
    hold = service.place_hold(north.actor, north.shelter, north.ids("A1", "A2"))
    updated, version = north.updated_at(), north.version()

    clock.set(hold.expires_at - timedelta(seconds=1))
    assert service.expire_holds() == 0
    assert north.states() == {"A1": HELD, "A2": HELD}

    clock.set(hold.expires_at + timedelta(minutes=30))
    assert service.expire_holds() == 1

    assert north.states() == {"A1": AVAILABLE, "A2": AVAILABLE}
    ended = hold_row(hold.id)
    assert ended.status == HoldStatus.EXPIRED.value
    assert ended.ended_at == hold.expires_at
    events = north.events("hold.expired")
    assert [e.bed_id for e in events] == north.ids("A1", "A2")
    assert {(e.actor_id, e.from_state, e.to_state, e.hold_id, e.occurred_at) for e in events} == {
        (None, HELD, AVAILABLE, hold.id, hold.expires_at)
    }
    assert north.version() == version + 1
    # Nobody looked at the beds: "updated N minutes ago" stays as it was.
    assert north.updated_at() == updated
    clock.set(hold.expires_at + timedelta(hours=1))
    assert service.expire_holds() == 0
    assert len(north.events("hold.expired")) == 2


def test_an_expired_referral_hold_expires_the_referral(north: Site, valley: Site, clock: FrozenClock) -> None:
    referral = service.request_referral(
        valley.actor, north.shelter.id, Household(), from_agency_id=valley.agency.id
    )
    clock.set(referral.hold.expires_at)
    service.expire_holds()
    assert referral_row(referral.id).status == ReferralStatus.EXPIRED.value
    assert north.states() == {"A1": AVAILABLE, "A2": AVAILABLE}
    with pytest.raises(Refused, match="expired: its hold ran out"):
        service.accept_referral(north.actor, north.shelter, referral.id)


@pytest.mark.parametrize(
    "read", ["staff_board", "network_board", "board_etag", "board_etag_of_the_row", "board_etag_network"]
)
def test_reading_a_board_expires_holds_past_their_time(north: Site, read: str) -> None:
    hold = service.place_hold(north.actor, north.shelter, north.ids("A1"))
    before = service.board_etag(shelter_id=north.shelter.id)
    due = make_due(hold.id)

    if read == "staff_board":
        board = service.staff_board(north.shelter)
        assert board.counts[AVAILABLE] == 2 and board.holds == {}
    elif read == "network_board":
        (row,) = service.network_board()
        assert row.open_adult == 2
    elif read == "board_etag":
        assert service.board_etag(shelter_id=north.shelter.id) != before
    elif read == "board_etag_of_the_row":
        # The row read before the expiry: the expiry's new version is the one it gives.
        assert service.board_etag(shelter=fresh_shelter(north)) != before
        assert service.board_etag(shelter=north.shelter) == service.board_etag(shelter_id=north.shelter.id)
    else:
        service.board_etag()

    assert north.states() == {"A1": AVAILABLE, "A2": AVAILABLE}
    (event,) = north.events("hold.expired")
    assert (event.occurred_at, event.actor_id) == (due, None)


def test_a_transition_is_never_refused_by_a_hold_past_its_time(north: Site) -> None:
    hold = service.place_hold(north.actor, north.shelter, north.ids("A1", "A2"))
    make_due(hold.id)
    again = service.place_hold(north.actor, north.shelter, north.ids("A1"))
    assert north.states() == {"A1": HELD, "A2": AVAILABLE}
    assert hold_row(hold.id).status == HoldStatus.EXPIRED.value
    assert hold_row(again.id).status == HoldStatus.ACTIVE.value


def test_a_hold_past_its_time_cannot_be_extended_or_used(north: Site) -> None:
    hold = service.place_hold(north.actor, north.shelter, north.ids("A1"))
    make_due(hold.id)
    with pytest.raises(Refused, match="its time ran out"):
        service.extend_hold(north.actor, north.shelter, hold.id)
    assert hold_row(hold.id).status == HoldStatus.EXPIRED.value
    with pytest.raises(Refused, match="its time ran out"):
        service.check_in(north.actor, north.shelter, hold_id=hold.id)
    assert north.state("A1") == AVAILABLE


def test_an_extended_hold_is_no_longer_due(north: Site, clock: FrozenClock) -> None:
    hold = service.place_hold(north.actor, north.shelter, north.ids("A1"))
    old_expiry = utcnow() + timedelta(minutes=3)
    db.session.execute(update(Hold).where(Hold.id == hold.id).values(expires_at=old_expiry))
    db.session.commit()
    extended = service.extend_hold(north.actor, north.shelter, hold.id)
    assert extended.expires_at > old_expiry
    clock.set(old_expiry + timedelta(seconds=1))
    assert service.expire_holds() == 0
    assert north.state("A1") == HELD


# --- the staff board -----------------------------------------------------------------------------


def test_the_staff_board_shows_every_bed_with_its_hold_and_stay(north: Site, valley: Site) -> None:
    hold = service.place_hold(north.actor, north.shelter, north.ids("A1"))
    stay = service.check_in(north.actor, north.shelter, north.ids("A2"))
    service.place_hold(valley.actor, valley.shelter, valley.ids("A1"))

    board = service.staff_board(north.shelter)

    assert [(b.label, b.state) for b in board.beds] == [("A1", HELD), ("A2", OCCUPIED)]
    assert board.counts == {AVAILABLE: 0, HELD: 1, OCCUPIED: 1, OUT: 0}
    assert board.total == 2
    assert set(board.holds) == {hold.id} and set(board.stays) == {stay.id}
    assert not board.stale
    held_only = service.staff_board(north.shelter, BoardFilters(state=HELD))
    assert [b.label for b in held_only.beds] == ["A1"]


# --- referrals from the network board --------------------------------------------------------------


@pytest.fixture
def mixed(app: Flask) -> Site:
    """A shelter with a plain single room, an accessible single room that takes pets,
    and a family room with two adult beds, a child bed and a crib."""
    return make_site("mixed", rooms=MIXED, label="LK-1", region="Lakes", boys_age_limit=12)


@pytest.fixture
def advocate(app: Flask) -> User:
    """An advocate of another agency, who asks for beds through the network."""
    return make_user(make_agency("referrer"), Role.ADVOCATE)


def refer(site: Site, advocate: User, household: Household) -> Referral:
    actor = factories.actor(advocate)
    return service.request_referral(actor, site.shelter.id, household, from_agency_id=actor.agency_ids()[0])


def held_labels(site: Site, referral: Referral) -> list[str]:
    return sorted(
        db.session.scalars(select(Bed.label).where(Bed.hold_id == referral.hold_id, Bed.state == HELD))
    )


def test_an_advocate_asks_for_a_bed_and_the_shelter_holds_it(mixed: Site, advocate: User) -> None:
    updated, version = mixed.updated_at(), mixed.version()
    referral = refer(mixed, advocate, Household(language="so"))

    assert held_labels(mixed, referral) == ["S1"]
    assert referral.status == ReferralStatus.PENDING.value
    assert (
        referral.from_agency_id == factories.actor(advocate).agency_ids()[0]
        and referral.agency_id == mixed.agency.id
    )
    assert len(referral.token) == 9 and referral.token[4] == "-"
    assert set(referral.token.replace("-", "")) <= set(service.TOKEN_ALPHABET)
    assert referral.hold.status == HoldStatus.ACTIVE.value
    assert referral.hold.expires_at - referral.hold.created_at == timedelta(minutes=120)
    (event,) = mixed.events("hold.placed")
    assert (event.actor_id, event.from_state, event.to_state, event.hold_id) == (
        advocate.id,
        AVAILABLE,
        HELD,
        referral.hold_id,
    )
    assert mixed.version() == version + 1
    assert mixed.updated_at() == updated  # a referral is not the shelter's staff updating the board


def test_a_single_adult_takes_a_single_room_before_a_family_room(app: Flask, advocate: User) -> None:
    site = make_site(
        "north",
        rooms=(
            RoomSpec("A family room", "F1:adult F2:child", room_type=RoomType.FAMILY),
            RoomSpec("B single room", "S1:adult"),
        ),
    )
    assert held_labels(site, refer(site, advocate, Household())) == ["S1"]
    # When only the family room is left, a single adult may still have a bed there.
    assert held_labels(site, refer(site, advocate, Household())) == ["F1"]


def test_a_family_stays_together_in_a_family_room(mixed: Site, advocate: User) -> None:
    referral = refer(mixed, advocate, Household(adults=1, children_ages=(7, 1), oldest_boy_age=7))
    assert held_labels(mixed, referral) == ["F1", "F3", "F4"]
    assert (referral.adults, referral.ages, referral.oldest_boy_age) == (1, [7, 1], 7)


def test_a_family_is_not_split_across_rooms(mixed: Site, advocate: User) -> None:
    """Two adults and two older children do not fit the family room (one child bed,
    the adult beds are taken by the adults): the single rooms are not used."""
    with pytest.raises(Refused, match="no longer has open beds that fit"):
        refer(mixed, advocate, Household(adults=2, children_ages=(5, 9)))
    assert set(mixed.states().values()) == {AVAILABLE}
    assert db.session.scalar(select(func.count()).select_from(Hold)) == 0


def test_a_child_takes_an_adult_bed_when_no_child_bed_is_free(mixed: Site, advocate: User) -> None:
    service.check_in(mixed.actor, mixed.shelter, mixed.ids("F3"))
    referral = refer(mixed, advocate, Household(adults=1, children_ages=(10,)))
    assert held_labels(mixed, referral) == ["F1", "F2"]


def test_an_infant_needs_a_crib(mixed: Site, advocate: User) -> None:
    service.take_out_of_service(mixed.system, mixed.shelter, mixed.ids("F4"), OutOfServiceReason.CLEANING)
    with pytest.raises(Refused):
        refer(mixed, advocate, Household(adults=1, children_ages=(0,)))
    service.return_to_service(mixed.system, mixed.shelter, mixed.ids("F4"))
    assert held_labels(mixed, refer(mixed, advocate, Household(adults=1, children_ages=(0,)))) == ["F1", "F4"]


def test_accessible_and_pet_needs_are_respected(mixed: Site, advocate: User) -> None:
    assert held_labels(mixed, refer(mixed, advocate, Household(needs_accessible=True))) == ["S2"]
    with pytest.raises(Refused):
        refer(mixed, advocate, Household(pets=1))
    with pytest.raises(Refused):
        refer(mixed, advocate, Household(adults=1, children_ages=(4,), needs_accessible=True))


def test_a_pet_owner_gets_a_room_that_allows_pets(mixed: Site, advocate: User) -> None:
    referral = refer(mixed, advocate, Household(pets=1))
    assert held_labels(mixed, referral) == ["S2"]
    assert referral.pets == 1


def test_boys_over_the_age_limit_are_refused(mixed: Site, advocate: User) -> None:
    with pytest.raises(Refused, match="cannot take boys of that age"):
        refer(mixed, advocate, Household(adults=1, children_ages=(14,), oldest_boy_age=14))
    assert set(mixed.states().values()) == {AVAILABLE}
    assert held_labels(mixed, refer(mixed, advocate, Household(children_ages=(12,), oldest_boy_age=12)))


def test_a_request_is_for_a_household_that_fits(mixed: Site, advocate: User) -> None:
    with pytest.raises(Refused, match="at least one adult"):
        refer(mixed, advocate, Household(adults=0, children_ages=(5,)))
    with pytest.raises(Refused, match="at most 12 people"):
        refer(mixed, advocate, Household(adults=13))


def test_an_inactive_shelter_takes_no_referrals(mixed: Site, advocate: User) -> None:
    service.update_shelter(mixed.system, mixed.shelter, active=False)
    with pytest.raises(NotFound):
        refer(mixed, advocate, Household())
    with pytest.raises(NotFound):
        service.request_referral(factories.actor(advocate), 10_000, Household(), from_agency_id=1)


def test_the_last_bed_goes_to_the_first_request(north: Site, advocate: User) -> None:
    service.check_in(north.actor, north.shelter, north.ids("A1"))
    refer(north, advocate, Household())
    with pytest.raises(Refused, match="no longer has open beds"):
        refer(north, advocate, Household())
    assert north.states() == {"A1": OCCUPIED, "A2": HELD}


def test_staff_accept_a_referral(mixed: Site, advocate: User) -> None:
    referral = refer(mixed, advocate, Household())
    version = mixed.version()
    accepted = service.accept_referral(mixed.actor, mixed.shelter, referral.id)
    assert accepted.status == ReferralStatus.ACCEPTED.value
    assert accepted.decided_by_id == mixed.staff.id and accepted.decided_at is not None
    assert held_labels(mixed, accepted) == ["S1"]
    assert mixed.version() == version + 1
    refused(
        lambda: service.accept_referral(mixed.actor, mixed.shelter, referral.id),
        mixed,
        f"Referral {referral.token} is already accepted.",
    )


def test_staff_decline_a_referral_and_its_beds_are_freed(mixed: Site, advocate: User) -> None:
    referral = refer(mixed, advocate, Household(children_ages=(3,)))

    service.decline_referral(mixed.actor, mixed.shelter, referral.id, DeclineReason.NOT_A_FIT)

    declined = referral_row(referral.id)
    assert (declined.status, declined.decline_reason, declined.decided_by_id) == (
        ReferralStatus.DECLINED.value,
        "not_a_fit",
        mixed.staff.id,
    )
    assert declined.hold.status == HoldStatus.RELEASED.value
    assert set(mixed.states().values()) == {AVAILABLE}
    events = mixed.events("referral.declined")
    assert {(e.from_state, e.to_state, e.actor_id) for e in events} == {(HELD, AVAILABLE, mixed.staff.id)}
    assert len(events) == 2
    refused(
        lambda: service.decline_referral(mixed.system, mixed.shelter, referral.id, DeclineReason.OTHER),
        mixed,
        f"Referral {referral.token} was already declined.",
    )


def test_an_accepted_referral_cannot_be_declined(mixed: Site, advocate: User) -> None:
    """Accepting promised the beds: the shelter releases the hold instead, knowingly."""
    referral = refer(mixed, advocate, Household())
    service.accept_referral(mixed.actor, mixed.shelter, referral.id)
    refused(
        lambda: service.decline_referral(mixed.actor, mixed.shelter, referral.id, DeclineReason.OTHER),
        mixed,
        f"Referral {referral.token} is already accepted, so it can no longer be declined.",
    )
    assert referral_row(referral.id).status == ReferralStatus.ACCEPTED.value
    assert held_labels(mixed, referral) == ["S1"]


def test_a_referred_household_arrives(mixed: Site, advocate: User) -> None:
    referral = refer(mixed, advocate, Household(children_ages=(8,)))
    service.accept_referral(mixed.actor, mixed.shelter, referral.id)
    stay = service.check_in(mixed.actor, mixed.shelter, hold_id=referral.hold_id, adults=1, children=1)
    arrived = referral_row(referral.id)
    assert arrived.status == ReferralStatus.ARRIVED.value
    assert stay.hold_id == referral.hold_id
    assert mixed.states() == {
        "S1": AVAILABLE,
        "S2": AVAILABLE,
        "F1": OCCUPIED,
        "F2": AVAILABLE,
        "F3": OCCUPIED,
        "F4": AVAILABLE,
    }


def test_releasing_a_referral_hold_cancels_the_referral(mixed: Site, advocate: User) -> None:
    referral = refer(mixed, advocate, Household())
    service.release_hold(mixed.actor, mixed.shelter, referral.hold_id)
    assert referral_row(referral.id).status == ReferralStatus.CANCELLED.value


def test_the_referring_agency_s_list_never_loads_the_shelter_s_name_or_address(
    app: Flask, mixed: Site, advocate: User
) -> None:
    referral = refer(mixed, advocate, Household())
    label, advocate_id = mixed.shelter.public_label, advocate.id
    db.session.expunge_all()  # as in a fresh request: nothing of the shelter is loaded yet
    reader = factories.actor(db.session.get(User, advocate_id))  # type: ignore[arg-type]
    (listed,) = service.agency_referrals(reader)
    assert listed.id == referral.id
    assert listed.shelter.public_label == label
    assert {"name", "address"} <= inspect(listed.shelter).unloaded


def test_the_referring_agency_cancels_its_referral(app: Flask, mixed: Site, advocate: User) -> None:
    referral = refer(mixed, advocate, Household())
    referrer_id = factories.actor(advocate).agency_ids()[0]
    colleague = make_user(db.session.get(Agency, referrer_id), Role.ADVOCATE)  # type: ignore[arg-type]
    stranger = make_user(make_agency("stranger"), Role.ADVOCATE)

    assert service.agency_referrals(factories.actor(stranger)) == []
    with pytest.raises(NotFound):
        service.cancel_referral(factories.actor(stranger), referral.id)
    # The shelter's own staff decline; they do not cancel someone else's referral.
    with pytest.raises(NotFound):
        service.own_referral(mixed.actor, referral.id)
    assert held_labels(mixed, referral) == ["S1"]

    by_colleague = factories.actor(colleague)
    assert [r.id for r in service.agency_referrals(by_colleague)] == [referral.id]
    service.cancel_referral(by_colleague, referral.id)
    with pytest.raises(Refused, match=f"Referral {referral.token} was already cancelled."):
        service.cancel_referral(by_colleague, referral.id)

    cancelled = referral_row(referral.id)
    assert cancelled.status == ReferralStatus.CANCELLED.value
    assert cancelled.hold.status == HoldStatus.RELEASED.value
    assert set(mixed.states().values()) == {AVAILABLE}
    (event, *_) = mixed.events("referral.cancelled")
    assert (event.actor_id, event.from_state, event.to_state) == (colleague.id, HELD, AVAILABLE)


def test_a_referral_row_holds_nothing_that_names_the_household(app: Flask) -> None:
    columns = {c["name"] for c in inspect(db.engine).get_columns("referral")}
    assert columns == {
        "id",
        "token",
        "shelter_id",
        "agency_id",
        "from_agency_id",
        "referred_by_id",
        "hold_id",
        "adults",
        "children_ages",
        "oldest_boy_age",
        "pets",
        "needs_accessible",
        "language",
        # Asked for by the referring advocate; the reason (a screen result) never travels.
        "priority",
        "status",
        "decline_reason",
        "created_at",
        "decided_at",
        "decided_by_id",
    }
    for word in ("name", "phone", "address", "birth", "dob", "email", "note"):
        assert not [c for c in columns if word in c]


# --- the network board ---------------------------------------------------------------------------


@pytest.fixture
def network(app: Flask) -> dict[str, Site]:
    """Three shelters in two agencies, each with something the others lack."""
    lakes = make_site(
        "lakes",
        rooms=MIXED,
        label="LK-1",
        region="Lakes",
        name="Harbor House",
        address="3 Shore Rd",
        languages=("en", "so"),
        boys_age_limit=12,
        cultural_program=CulturalProgram.IMMIGRANT_REFUGEE.value,
    )
    lakes2 = Site(
        lakes.agency,
        lakes.staff,
        build_shelter(
            lakes.agency,
            "LK-2",
            "Lakes",
            rooms=(RoomSpec("Room 1", "A1:adult A2:adult A3:adult"),),
            name="Pine Lodge",
            address="77 Forest Ln",
        ),
    )
    prairie = make_site(
        "prairie",
        rooms=(RoomSpec("Room 1", "A1:adult", accessible=True), RoomSpec("Room 2", "C1:crib")),
        label="PR-1",
        region="Prairie",
        name="Sunrise Home",
        address="5 Field St",
        languages=("en", "es"),
    )
    return {"lakes": lakes, "lakes2": lakes2, "prairie": prairie}


def labels(filters: NetworkFilters | None = None) -> list[str]:
    return [row.public_label for row in service.network_board(filters)]


def test_the_network_board_counts_open_beds_by_kind(network: dict[str, Site]) -> None:
    lakes = network["lakes"]
    service.place_hold(lakes.system, lakes.shelter, lakes.ids("S1"))
    service.check_in(lakes.system, lakes.shelter, lakes.ids("F3"))
    service.take_out_of_service(lakes.system, lakes.shelter, lakes.ids("F2"), OutOfServiceReason.REPAIR)

    rows = {row.public_label: row for row in service.network_board()}

    lk1 = rows["LK-1"]
    assert (lk1.open_adult, lk1.open_child, lk1.open_crib) == (2, 0, 1)
    assert (lk1.open_accessible, lk1.open_pets, lk1.open_family) == (1, 1, 2)
    assert (lk1.open_matching, lk1.in_service, lk1.open_total) == (2, 5, 3)
    assert lk1.languages == ("en", "so") and lk1.boys_age_limit == 12 and lk1.region == "Lakes"
    pr1 = rows["PR-1"]
    assert (pr1.open_adult, pr1.open_crib, pr1.open_matching) == (1, 1, 1)
    # Most matching beds first.
    assert labels() == ["LK-2", "LK-1", "PR-1"]


def test_the_network_board_filters_by_what_the_household_needs(network: dict[str, Site]) -> None:
    assert labels() == ["LK-1", "LK-2", "PR-1"]
    # A household of several needs one family room for all of them: LK-2 has
    # three free beds, but in a room for single adults.
    assert labels(NetworkFilters(beds_needed=3)) == ["LK-1"]
    assert labels(NetworkFilters(beds_needed=4)) == []
    assert labels(NetworkFilters(beds_needed=6)) == []
    assert labels(NetworkFilters(accessible=True)) == ["LK-1", "PR-1"]
    assert labels(NetworkFilters(accessible=True, beds_needed=2)) == []
    assert labels(NetworkFilters(pets=True)) == ["LK-1"]
    assert labels(NetworkFilters(language="so")) == ["LK-1"]
    assert labels(NetworkFilters(language="es")) == ["PR-1"]
    assert labels(NetworkFilters(region="Lakes")) == ["LK-1", "LK-2"]
    assert labels(NetworkFilters(family_room=True)) == ["LK-1"]
    assert labels(NetworkFilters(family_room=True, beds_needed=3)) == ["LK-1"]
    assert labels(NetworkFilters(boy_age=12)) == ["LK-1", "LK-2", "PR-1"]
    assert labels(NetworkFilters(boy_age=13)) == ["LK-2", "PR-1"]
    assert labels(NetworkFilters(cultural_program=CulturalProgram.IMMIGRANT_REFUGEE.value)) == ["LK-1"]


def test_a_shelter_the_board_lists_for_a_household_takes_its_request(network: dict[str, Site]) -> None:
    """The board and the referral agree: listed for N beds means a household of N
    is placed there; left off means it is refused."""
    lakes = network["lakes"]
    for needed in (1, 2, 3, 4):
        listed = set(labels(NetworkFilters(beds_needed=needed)))
        for site in network.values():
            household = Household(adults=1, children_ages=(5,) * (needed - 1))
            try:
                referral = service.request_referral(
                    lakes.actor, site.shelter.id, household, from_agency_id=lakes.agency.id
                )
            except Refused:
                placed = False
            else:
                placed = True
                shelter = db.session.get(Shelter, site.shelter.id)
                assert shelter is not None
                service.release_hold(site.system, shelter, referral.hold_id)
            label = db.session.get(Shelter, site.shelter.id).public_label  # type: ignore[union-attr]
            assert placed == (label in listed), (needed, label)


def test_full_and_inactive_shelters_are_left_off(network: dict[str, Site]) -> None:
    prairie = network["prairie"]
    service.check_in(prairie.system, prairie.shelter, prairie.ids("A1"))
    assert "PR-1" not in labels()  # a crib alone is not a bed for anyone who asks
    service.update_shelter(network["lakes2"].system, network["lakes2"].shelter, active=False)
    assert labels() == ["LK-1"]


def test_availability_nobody_confirmed_lately_is_marked_stale(network: dict[str, Site]) -> None:
    lakes, prairie = network["lakes"], network["prairie"]
    service.update_network_settings(lakes.system, lakes.agency.id, hold_minutes=120, stale_after_minutes=30)
    long_ago = utcnow() - timedelta(minutes=45)
    db.session.execute(
        update(Shelter)
        .where(Shelter.id.in_([lakes.shelter.id, prairie.shelter.id]))
        .values(availability_updated_at=long_ago)
    )
    db.session.commit()

    rows = {row.public_label: row for row in service.network_board()}
    # Lakes' agency says 30 minutes; Prairie's keeps the default of 6 hours.
    assert {label: row.stale for label, row in rows.items()} == {"LK-1": True, "LK-2": False, "PR-1": False}
    assert rows["LK-1"].updated_at == long_ago
    assert labels()[-1] == "LK-1"  # stale rows last

    service.confirm_board(lakes.actor, lakes.shelter)
    assert not {row.public_label: row for row in service.network_board()}["LK-1"].stale


def _keys(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def test_a_network_row_never_says_where_a_shelter_is(network: dict[str, Site]) -> None:
    rows = service.network_board()
    assert rows
    for row in rows:
        data = row.to_dict()
        # The one phone a row may carry is the intake line its agency chose to share (none here).
        assert data.pop("intake_phone") is None
        for key in _keys(data):
            assert not any(word in key.lower() for word in ("name", "address", "phone", "lat", "lon"))
        shown = repr(data).lower()
        for secret in ("harbor", "shore rd", "pine lodge", "forest", "sunrise", "field st"):
            assert secret not in shown


def fresh_shelter(site: Site) -> Shelter:
    """The shelter as a request reads it: a row of this transaction, nothing changed since."""
    db.session.expire_all()
    shelter = db.session.get(Shelter, site.shelter.id)
    assert shelter is not None
    return shelter


def test_the_board_etag_of_a_shelter_row_is_the_one_of_its_id_without_a_query(
    north: Site, valley: Site, clock: FrozenClock
) -> None:
    """The staff board has read its shelter: the ETag comes from the row (no statement),
    and is the ETag the aggregate gives, before and after a change of the board."""
    shelter = fresh_shelter(north)
    with counted() as statements:
        from_row = service.board_etag("en", shelter=shelter)
    assert len(statements) == 1, statements  # due holds only
    assert from_row == service.board_etag("en", shelter_id=north.shelter.id)
    service.place_hold(north.system, north.shelter, north.ids("A1"))
    changed = service.board_etag("en", shelter=fresh_shelter(north))
    assert changed != from_row
    assert changed == service.board_etag("en", shelter_id=north.shelter.id)


def test_the_board_etag_changes_exactly_when_a_board_does(
    north: Site, valley: Site, clock: FrozenClock
) -> None:
    # The ETag also carries the minute; the app's clock stands still, so only the boards change it.
    own, everything = service.board_etag(shelter_id=north.shelter.id), service.board_etag()
    assert service.board_etag(shelter_id=north.shelter.id) == own
    service.place_hold(valley.system, valley.shelter, valley.ids("A1"))
    assert service.board_etag(shelter_id=north.shelter.id) == own
    assert service.board_etag() != everything
    service.place_hold(north.system, north.shelter, north.ids("A1"))
    assert service.board_etag(shelter_id=north.shelter.id) != own
    assert service.board_etag("en") != service.board_etag("so")


# --- a shelter's two identities ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "region"),
    [
        ("Birch House", "North Shore"),
        ("The BIRCH   house annex", "North Shore"),
        ("NS-1", "1208 example ave, duluth"),
        ("Near 1208 Example Ave, Duluth", "North Shore"),
        ("Birch", "North Shore"),
    ],
)
def test_a_label_or_region_that_names_the_shelter_is_refused(app: Flask, label: str, region: str) -> None:
    agency = make_agency("north")
    with pytest.raises(Refused, match="must not contain the shelter's name or address"):
        service.add_shelter(
            factories.system(agency),
            agency.id,
            "Birch House",
            label,
            region,
            address="1208 Example Ave, Duluth",
        )
    with pytest.raises(Refused):
        service.check_public_identity("Birch House", "1208 Example Ave, Duluth", label, region)


def test_a_coarse_region_may_be_the_town_of_the_address(app: Flask) -> None:
    service.check_public_identity("Birch House", "1208 Example Ave, Duluth", "NS-1", "Duluth")
    service.check_public_identity("Birch House", None, "NS-1", "North Shore")


def test_renaming_a_shelter_checks_its_label_again(north: Site) -> None:
    with pytest.raises(Refused):
        service.update_shelter(north.system, north.shelter, public_label="Birch House (north)")
    db.session.rollback()
    with pytest.raises(Refused):
        service.update_shelter(north.system, north.shelter, name="NS-1")
    db.session.rollback()
    service.update_shelter(north.system, north.shelter, public_label="NS-9", languages=["en", "hmn"])
    db.session.expire_all()
    assert (north.shelter.public_label, north.shelter.language_tags) == ("NS-9", ["en", "hmn"])


# --- occupancy over time -------------------------------------------------------------------------


def test_occupancy_follows_the_history_day_by_day(app: Flask, clock: FrozenClock) -> None:
    # Days are the agency's: the history is written in its time zone, from noon
    # of the day the beds were added (whatever the hour in UTC the test runs).
    zone = ZoneInfo(current_app.config["SETTINGS"].default_timezone)
    day0 = clock.now().astimezone(zone).date()
    clock.set(datetime.combine(day0, time(12), tzinfo=zone).astimezone(UTC))
    site = make_site("north", rooms=(RoomSpec("Room 1", "A1:adult A2:adult A3:adult"),))
    a1, a2, a3 = site.ids("A1", "A2", "A3")
    assert site.events("bed.added")[0].occurred_at.astimezone(zone).date() == day0

    def at(days: int, hour: int) -> datetime:
        return datetime.combine(day0 + timedelta(days=days), time(hour), tzinfo=zone)

    history = [
        (at(1, 10), a1, AVAILABLE, OCCUPIED),
        (at(1, 10), a2, AVAILABLE, HELD),
        (at(1, 11), a2, HELD, OCCUPIED),
        (at(2, 9), a3, AVAILABLE, OUT),
        (at(3, 8), a1, OCCUPIED, AVAILABLE),
        (at(3, 12), a3, OUT, AVAILABLE),
        (at(3, 23), a2, OCCUPIED, AVAILABLE),
        (at(3, 23), a1, AVAILABLE, OCCUPIED),
    ]
    db.session.add_all(
        AvailabilityEvent(
            occurred_at=when,
            shelter_id=site.shelter.id,
            agency_id=site.agency.id,
            bed_id=bed,
            action="test.history",
            from_state=before,
            to_state=after,
        )
        for when, bed, before, after in history
    )
    db.session.commit()

    make_today(clock, day0 + timedelta(days=4))
    points = service.occupancy(site.shelter, days=5)
    assert [(p.day - day0, p.occupied, p.in_service) for p in points] == [
        (timedelta(0), 0, 3),
        (timedelta(1), 2, 3),
        (timedelta(2), 2, 2),
        (timedelta(3), 1, 3),
        (timedelta(4), 1, 3),
    ]
    assert points[2].rate == 1.0 and points[3].rate == pytest.approx(1 / 3)
    # A shorter window starts from what the earlier history adds up to.
    make_today(clock, day0 + timedelta(days=3))
    shorter = service.occupancy(site.shelter, days=2)
    assert [(p.occupied, p.in_service) for p in shorter] == [(2, 2), (1, 3)]
    make_today(clock, day0 - timedelta(days=1))
    before_any = service.occupancy(site.shelter, days=2)
    assert [(p.occupied, p.in_service, p.rate) for p in before_any] == [(0, 0, 0.0), (0, 0, 0.0)]


def test_occupancy_today_counts_check_ins_and_beds_out_of_service(north: Site, clock: FrozenClock) -> None:
    stay = service.check_in(north.system, north.shelter, north.ids("A1"))
    service.take_out_of_service(north.system, north.shelter, north.ids("A2"), OutOfServiceReason.SAFETY)
    today = north.events("stay.checked_in")[0].occurred_at.date()
    make_today(clock, today)
    (point,) = service.occupancy(north.shelter, days=1)
    assert (point.day, point.occupied, point.in_service, point.rate) == (today, 1, 1, 1.0)
    service.check_out(north.system, north.shelter, stay.id)
    (point,) = service.occupancy(north.shelter, days=1)
    assert (point.occupied, point.in_service) == (0, 1)


def test_an_expired_hold_counts_from_its_own_expiry(north: Site) -> None:
    """The history says when the bed really became free, even when nobody looked for days."""
    hold = service.place_hold(north.system, north.shelter, north.ids("A1"))
    three_days_ago = make_due(hold.id, timedelta(days=3))
    service.staff_board(north.shelter)
    (event,) = north.events("hold.expired")
    assert event.occurred_at == three_days_ago
    assert hold_row(hold.id).ended_at == three_days_ago


# --- the history cannot be rewritten -------------------------------------------------------------


def test_the_availability_history_is_append_only(north: Site) -> None:
    assert north.events()
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("UPDATE availability_event SET action = 'rewritten'"))
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM availability_event"))
    assert {e.action for e in north.events()} == {"bed.added"}
