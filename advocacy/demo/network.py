"""The demo's shelter network: eight shelters of three agencies, 171 beds, and
five weeks of history made by the shelter service itself.

Check-ins, check-outs, holds, referrals from other agencies and beds out for
repair are replayed in time order on the app's clock (see
:func:`advocacy.demo.replay`), so every event, stay, hold and referral agrees
with the beds' final states exactly as in real use.  The simulation is
seeded: every load gives the same network, relative to now.
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from advocacy import clock
from advocacy.actor import Actor
from advocacy.auth.models import Agency, User
from advocacy.errors import Refused
from advocacy.extensions import db
from advocacy.shelters import service
from advocacy.shelters.models import (
    Bed,
    BedState,
    BedType,
    CulturalProgram,
    DeclineReason,
    OutOfServiceReason,
    Referral,
    Room,
    RoomType,
    Shelter,
)
from advocacy.shelters.service import Household

#: Sets the moment the services run at (None: the real time again).
SetTime = Callable[[datetime | None], None]

A, C, K = BedType.ADULT, BedType.CHILD, BedType.CRIB

#: Room kinds.  A shared single room has two adult beds for two unrelated adults.
ROOM_KINDS: dict[str, tuple[RoomType, tuple[BedType, ...]]] = {
    "S1": (RoomType.SINGLE, (A,)),
    "S2": (RoomType.SINGLE, (A, A)),
    "F3": (RoomType.FAMILY, (A, C, K)),
    "F4": (RoomType.FAMILY, (A, A, C, C)),
    "F5": (RoomType.FAMILY, (A, A, C, C, K)),
}

#: How far back the history starts: a few days before the 30-day chart, so the
#: chart opens on a full shelter and not on the first morning.
HISTORY_DAYS = 36
#: A shelter marked ``stale`` had nobody update its beds for this long.
STALE_FOR = timedelta(hours=30)
SEED = 20240917


@dataclass(frozen=True)
class ShelterSpec:
    """One demo shelter.  ``rooms`` lists room kinds; ``+a`` marks an accessible
    room and ``+p`` one that takes pets (``"F5+ap"``)."""

    agency: str
    name: str
    address: str
    label: str
    region: str
    languages: tuple[str, ...]
    rooms: str
    program: CulturalProgram | None = None
    boys_age_limit: int | None = None
    max_stay_days: int | None = None
    stale: bool = False


SHELTERS = (
    ShelterSpec(
        "north-shore", "Birch House", "1208 Example Ave, Duluth", "NS-1", "North Shore", ("en", "so"),
        "S2+a S2 F5+ap F5 F5 F5+p F4", boys_age_limit=12, max_stay_days=60,
    ),
    ShelterSpec(
        "north-shore", "Lakeview Family Residence", "44 Sample St, Two Harbors", "NS-2", "North Shore",
        ("en", "so", "om", "ar"), "F4+a F4 F4 F4 F4 F4+p F5 F5",
        program=CulturalProgram.IMMIGRANT_REFUGEE, max_stay_days=90,
    ),
    ShelterSpec(
        "north-shore", "Tamarack Apartments", "310 Fictional Way, Hibbing", "NS-3", "Iron Range", ("en",),
        "S1+a S1 S1+p F3+a F3 F3 F4", boys_age_limit=17, max_stay_days=30,
    ),
    ShelterSpec(
        "river-valley", "Cedar Haven", "9 Placeholder Rd, Mankato", "RV-1", "River Valley",
        ("en", "es", "hmn"), "S2+a S2+p F5+a F5 F5", boys_age_limit=14, max_stay_days=45,
    ),
    ShelterSpec(
        "river-valley", "Willow Family Center", "72 Imaginary Ln, New Ulm", "RV-2", "River Valley",
        ("en", "hmn", "ksw"), "S1+a F4+a F4 F4 F4+p F4",
        program=CulturalProgram.ASIAN_PACIFIC, max_stay_days=60,
    ),
    ShelterSpec(
        "river-valley", "Prairie Rose Residence", "5 Invented Blvd, Worthington", "RV-3", "Prairie South",
        ("en", "es"), "S2+a S2 F4 F4+p",
        program=CulturalProgram.LATINE, max_stay_days=30, stale=True,
    ),
    ShelterSpec(
        "four-directions", "Grandmother Moon Lodge", "88 Madeup Trail, Cass Lake", "FD-1", "Arrowhead",
        ("en", "oj"), "S1+a S1+p F5+ap F5 F5 F5", program=CulturalProgram.INDIGENOUS,
    ),
    ShelterSpec(
        "four-directions", "Sweetgrass House", "17 Notreal Rd, Bemidji", "FD-2", "Lake Country",
        ("en", "oj"), "S2+a F4+p F4 F4 F5", program=CulturalProgram.INDIGENOUS,
        boys_age_limit=16, max_stay_days=90,
    ),
)  # fmt: skip


def _households(spec: ShelterSpec) -> int:
    """How many households the shelter holds when full: one per family room,
    one per bed of a single room."""
    return sum(2 if r.startswith("S2") else 1 for r in spec.rooms.split())


@dataclass
class Place:
    """A demo shelter during the simulation, and who works there."""

    shelter: Shelter
    spec: ShelterSpec
    staff: Actor
    #: Advocates of other agencies who refer households here, and their agency.
    referrers: list[tuple[Actor, int]]
    #: After this moment nobody touches the shelter (the stale one).
    quiet_after: datetime

    @property
    def family_share(self) -> float:
        """The share of the shelter's households that family rooms take."""
        rooms = self.spec.rooms.split()
        singles = sum(2 if r.startswith("S2") else 1 for r in rooms if r.startswith("S"))
        return 1 - singles / _households(self.spec)


@dataclass
class History:
    """Five weeks of a shelter network, replayed through the service in time order.

    Every action runs at its own moment; an action may schedule later ones (a
    check-in schedules its check-out).  Actions due after now are dropped, so
    households still staying, holds still open and beds still in repair are
    the network's present.  A :class:`Refused` transition is simply skipped,
    as a person would be told no and move on.
    """

    rng: random.Random
    now: datetime
    set_time: SetTime
    queue: list[tuple[datetime, int, Place, Callable[[], None]]] = field(default_factory=list)
    seq: int = 0
    clock: datetime | None = None

    def at(self, when: datetime, place: Place, action: Callable[[], None]) -> None:
        if when < min(self.now, place.quiet_after):
            self.seq += 1
            heapq.heappush(self.queue, (when, self.seq, place, action))

    def later(self, place: Place, action: Callable[[], None], low: timedelta, high: timedelta) -> None:
        assert self.clock is not None
        span = (high - low).total_seconds()
        self.at(self.clock + low + timedelta(seconds=self.rng.uniform(0, span)), place, action)

    def run(self) -> None:
        while self.queue:
            self.clock, _, _place, action = heapq.heappop(self.queue)
            self.set_time(self.clock)
            with suppress(Refused):
                action()
        self.clock = None
        self.set_time(None)

    # --- households -------------------------------------------------------------------

    def household(self, place: Place) -> Household:
        """One adult, or a family, as often as the shelter has rooms for either."""
        rng = self.rng
        language = rng.choice(place.spec.languages)
        if rng.random() >= place.family_share:
            return Household(adults=1, language=language)
        ages = tuple(sorted(rng.randint(0, 15) for _ in range(rng.choice((1, 1, 2, 2, 3)))))
        return Household(
            adults=2 if rng.random() < 0.1 else 1,
            children_ages=ages,
            oldest_boy_age=rng.choice([None, *ages]),
            language=language,
        )

    def fit(self, place: Place, household: Household) -> list[int] | None:
        """Free beds for the household in one room: single rooms for one adult,
        a family room for a family (infants need a crib)."""
        rows = db.session.execute(
            select(Bed.id, Bed.room_id, Bed.bed_type, Room.room_type)
            .join(Room, Room.id == Bed.room_id)
            .where(Bed.shelter_id == place.shelter.id, Bed.state == BedState.AVAILABLE.value)
            .order_by(Bed.id)
        ).all()
        rooms: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            rooms[row.room_id].append(row)
        want_type = RoomType.FAMILY.value if household.size > 1 else RoomType.SINGLE.value
        candidates = [beds for beds in rooms.values() if beds[0].room_type == want_type]
        self.rng.shuffle(candidates)
        needed = household.beds_needed()
        for beds in candidates:
            free: dict[str, list[int]] = defaultdict(list)
            for bed in beds:
                free[bed.bed_type].append(bed.id)
            adults = free[A.value][: needed[A]]
            cribs = free[K.value][: needed[K]]
            spare = free[C.value] + free[A.value][needed[A] :]
            children = spare[: needed[C]]
            if len(adults) == needed[A] and len(cribs) == needed[K] and len(children) == needed[C]:
                return adults + cribs + children
        return None

    def stay_length(self, place: Place, household: Household) -> timedelta:
        days = self.rng.randint(10, 50) if household.size == 1 else self.rng.randint(25, 80)
        if place.spec.max_stay_days:
            days = min(days, place.spec.max_stay_days)
        return timedelta(days=days, hours=self.rng.randint(0, 23))

    # --- what happens at a shelter ----------------------------------------------------

    def check_in(
        self,
        place: Place,
        household: Household,
        *,
        beds: list[int],
        hold_id: int | None,
        settled: bool = False,
    ) -> None:
        stay = service.check_in(
            place.staff,
            place.shelter,
            beds,
            hold_id=hold_id,
            adults=household.adults,
            children=len(household.children_ages),
        )
        length = self.stay_length(place, household)
        if settled:  # at the start of the history: part of the stay is behind her already
            length *= self.rng.uniform(0.1, 1.0)
        stay_id = stay.id
        self.later(
            place,
            lambda: service.check_out(place.staff, place.shelter, stay_id),
            length,
            length + timedelta(hours=6),
        )

    def walk_in(self, place: Place, *, settled: bool = False) -> None:
        """A household at the door; a family too big for the free beds comes
        back smaller (as if the rest went to relatives) rather than not at all."""
        household = self.household(place)
        beds = self.fit(place, household)
        if beds is None and household.children_ages:
            household = Household(children_ages=household.children_ages[-1:], language=household.language)
            beds = self.fit(place, household)
        if beds is not None:
            self.check_in(place, household, beds=beds, hold_id=None, settled=settled)

    def hotline_hold(self, place: Place) -> None:
        """Staff hold beds for a caller on her way; one in five never comes."""
        household = self.household(place)
        if (beds := self.fit(place, household)) is None:
            return
        hold_id = service.place_hold(place.staff, place.shelter, beds).id
        if self.rng.random() < 0.8:
            self.later(
                place,
                lambda: self.check_in(place, household, beds=[], hold_id=hold_id),
                timedelta(minutes=20),
                timedelta(minutes=100),
            )

    def referral(self, place: Place) -> None:
        """Another agency's advocate asks for beds; the shelter accepts and the
        household arrives, or declines, or nobody answers and the hold expires."""
        if not place.referrers:
            return
        household = self.household(place)
        referrer, agency_id = self.rng.choice(place.referrers)
        referral = service.request_referral(referrer, place.shelter.id, household, from_agency_id=agency_id)
        referral_id, hold_id = referral.id, referral.hold_id
        fate = self.rng.random()
        if fate < 0.65:
            self.later(
                place,
                lambda: service.accept_referral(place.staff, place.shelter, referral_id),
                timedelta(minutes=10),
                timedelta(minutes=40),
            )
            self.later(
                place,
                lambda: self.check_in(place, household, beds=[], hold_id=hold_id),
                timedelta(minutes=50),
                timedelta(minutes=110),
            )
        elif fate < 0.85:
            reason = self.rng.choice((DeclineReason.NOT_A_FIT, DeclineReason.NO_LONGER_AVAILABLE))
            self.later(
                place,
                lambda: service.decline_referral(place.staff, place.shelter, referral_id, reason),
                timedelta(minutes=10),
                timedelta(minutes=60),
            )

    def repair(self, place: Place) -> None:
        """A bed out of service for a few days (some are still out today)."""
        free = list(
            db.session.scalars(
                select(Bed.id).where(
                    Bed.shelter_id == place.shelter.id, Bed.state == BedState.AVAILABLE.value
                )
            )
        )
        if not free:
            return
        bed_id = self.rng.choice(free)
        reason = self.rng.choice(
            (OutOfServiceReason.REPAIR, OutOfServiceReason.CLEANING, OutOfServiceReason.STAFFING)
        )
        service.take_out_of_service(place.staff, place.shelter, [bed_id], reason)
        self.later(
            place,
            lambda: service.return_to_service(place.staff, place.shelter, [bed_id]),
            timedelta(days=1),
            timedelta(days=6),
        )

    def plan(self, place: Place, start: datetime) -> None:
        """Fill the shelter in its first days, then steady arrivals, holds,
        referrals and repairs at about the rate beds free up."""
        households = _households(place.spec)
        for _ in range(households):
            self.at(
                start + timedelta(hours=self.rng.uniform(1, 72)),
                place,
                lambda: self.walk_in(place, settled=True),
            )
        day = start + timedelta(days=3)
        kinds = (self.walk_in, self.walk_in, self.walk_in, self.hotline_hold, self.referral)
        while day < self.now:
            for _ in range(self._poisson(households * 0.7 / min(place.spec.max_stay_days or 50, 50))):
                action = self.rng.choice(kinds)
                self.at(day + timedelta(hours=self.rng.uniform(0, 24)), place, lambda a=action: a(place))
            if self.rng.random() < 0.04:
                self.at(day + timedelta(hours=self.rng.uniform(8, 17)), place, lambda: self.repair(place))
            day += timedelta(days=1)

    def _poisson(self, mean: float) -> int:
        count, limit, product = 0, pow(2.718281828459045, -mean), self.rng.random()
        while product > limit:
            count += 1
            product *= self.rng.random()
        return count


def build_network(agencies: dict[str, Agency], start: datetime, set_time: SetTime) -> list[Shelter]:
    """The shelters, rooms and beds, added at the start of the history."""
    set_time(start)
    shelters = []
    for number, spec in enumerate(SHELTERS):
        setup = Actor.system("demo", agencies[spec.agency].id)
        shelter = service.add_shelter(
            setup,
            agencies[spec.agency].id,
            spec.name,
            spec.label,
            spec.region,
            address=spec.address,
            languages=spec.languages,
            cultural_program=spec.program.value if spec.program else None,
            boys_age_limit=spec.boys_age_limit,
            max_stay_days=spec.max_stay_days,
            # Fictional (555-01xx) intake lines; every other agency shares its line with the network.
            intake_phone=f"218-555-01{10 + number:02d}",
            intake_phone_shared=number % 2 == 0,
        )
        shelter.created_at = start
        shelter.availability_updated_at = start
        for number, code in enumerate(spec.rooms.split(), start=1):
            kind, _, flags = code.partition("+")
            room_type, bed_types = ROOM_KINDS[kind]
            label = f"{number:02d}"
            service.add_room(
                setup,
                shelter,
                label,
                room_type=room_type,
                accessible="a" in flags,
                pets_allowed="p" in flags,
                beds=[(f"{label}{chr(ord('A') + i)}", bed_type) for i, bed_type in enumerate(bed_types)],
            )
        shelters.append(shelter)
    db.session.flush()
    set_time(None)
    return shelters


def present(history: History, places: list[Place], users: dict[str, User]) -> None:
    """Today, at the real time: referrals waiting for an answer, one accepted,
    holds for callers on their way, a bed in repair, and every board but the
    stale one confirmed lately."""
    by_label = {place.spec.label: place for place in places}

    def refer(labels: tuple[str, ...], household: Household, username: str) -> int | None:
        """A referral to the first of these shelters that has beds for the
        household, or failing that for one adult."""
        user = users[username]
        agency_id = user.memberships[0].agency_id
        for who in (household, Household(language=household.language)):
            for label in labels:
                try:
                    return service.request_referral(
                        Actor.for_user(user), by_label[label].shelter.id, who, from_agency_id=agency_id
                    ).id
                except Refused:
                    continue
        return None

    refer(
        ("NS-1", "NS-2", "NS-3"), Household(children_ages=(4, 9), oldest_boy_age=9, language="so"), "valley"
    )
    refer(("RV-1", "RV-2", "RV-3"), Household(language="es"), "lodge")
    accepted = refer(("FD-1", "FD-2"), Household(children_ages=(1, 6), language="oj"), "advocate")
    if accepted is not None:
        shelter_id = db.session.scalar(select(Referral.shelter_id).where(Referral.id == accepted))
        place = next(p for p in places if p.shelter.id == shelter_id)
        service.accept_referral(place.staff, place.shelter, accepted)
    for label, household in (("NS-2", Household(adults=1, children_ages=(3,))), ("RV-2", Household())):
        place = by_label[label]
        if (beds := history.fit(place, household)) is not None:
            service.place_hold(place.staff, place.shelter, beds, note="Expected from the hotline")
    if db.session.scalar(select(Bed.id).where(Bed.state == BedState.OUT_OF_SERVICE.value).limit(1)) is None:
        place = by_label["NS-3"]
        bed_id = db.session.scalar(
            select(Bed.id).where(Bed.shelter_id == place.shelter.id, Bed.state == BedState.AVAILABLE.value)
        )
        if bed_id is not None:
            service.take_out_of_service(place.staff, place.shelter, [bed_id], OutOfServiceReason.REPAIR)
    now = clock.now()
    for place in places:
        if not place.spec.stale and now - place.shelter.availability_updated_at > timedelta(hours=2):
            service.confirm_board(place.staff, place.shelter)
