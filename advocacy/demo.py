"""Demo data: three agencies, a shelter network of eight shelters and 171 beds
with five weeks of history, one user per role, two dozen cases with their
screenings, and two unfinished intakes.

Passwords are random and printed once by ``flask demo load``; demo users are
already enrolled in TOTP so that ``make code USER=...`` gives a newcomer a
code without a phone.  All names, aliases and addresses are invented.

The network has a past, so that the occupancy chart, the referral lists and
the "updated N minutes ago" markers have something to show.  That past is
made by the shelter service itself (check-ins, check-outs, holds, referrals
from other agencies, beds out for repair): :func:`_service_clock` runs each
call at a moment of the past five weeks, by replacing the ``utcnow`` that
:mod:`advocacy.shelters.service` reads the time from while the demo loads.
Nothing is written around the service, so every event, stay, hold and
referral agrees with the beds' final states exactly as in real use.  The
simulation is seeded: every load gives the same network, relative to now.
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from advocacy.auth.models import Agency, Role
from advocacy.auth.service import create_agency, create_user, password_problems, random_passphrase
from advocacy.extensions import db
from advocacy.intake import service as intake
from advocacy.intake.instruments import shipped
from advocacy.intake.models import Case, CloseReason, PlacementKind, ProtocolOutcome, ProtocolStepKey
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
from advocacy.shelters.service import Household, Refused

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


@contextmanager
def _service_clock() -> Iterator[Callable[[datetime | None], None]]:
    """Let the shelter service run at chosen moments (None: the real time again).

    The service reads the time only through its module's ``utcnow``, so this
    is the whole of "the past" for it; the real clock is back on exit,
    whatever happened.
    """
    real: Callable[[], datetime] = service.utcnow
    moment: list[datetime | None] = [None]
    service.utcnow = lambda: moment[0] or real()  # type: ignore[assignment]

    def set_time(at: datetime | None) -> None:
        moment[0] = at

    try:
        yield set_time
    finally:
        service.utcnow = real  # type: ignore[assignment]


@dataclass
class _Place:
    """A demo shelter during the simulation, and who works there."""

    shelter: Shelter
    spec: ShelterSpec
    staff_id: int
    #: Advocates of other agencies who refer households here: (user id, agency id).
    referrers: list[tuple[int, int]]
    #: After this moment nobody touches the shelter (the stale one).
    quiet_after: datetime

    @property
    def family_share(self) -> float:
        """The share of the shelter's households that family rooms take."""
        rooms = self.spec.rooms.split()
        singles = sum(2 if r.startswith("S2") else 1 for r in rooms if r.startswith("S"))
        return 1 - singles / _households(self.spec)


@dataclass
class _History:
    """Five weeks of a shelter network, replayed through the service in time order.

    Every action runs at its own moment; an action may schedule later ones (a
    check-in schedules its check-out).  Actions due after now are dropped, so
    households still staying, holds still open and beds still in repair are
    the network's present.  A :class:`Refused` transition is simply skipped,
    as a person would be told no and move on.
    """

    rng: random.Random
    now: datetime
    set_time: Callable[[datetime | None], None]
    queue: list[tuple[datetime, int, _Place, Callable[[], None]]] = field(default_factory=list)
    seq: int = 0
    clock: datetime | None = None

    def at(self, when: datetime, place: _Place, action: Callable[[], None]) -> None:
        if when < min(self.now, place.quiet_after):
            self.seq += 1
            heapq.heappush(self.queue, (when, self.seq, place, action))

    def later(self, place: _Place, action: Callable[[], None], low: timedelta, high: timedelta) -> None:
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

    def household(self, place: _Place) -> Household:
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

    def fit(self, place: _Place, household: Household) -> list[int] | None:
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

    def stay_length(self, place: _Place, household: Household) -> timedelta:
        days = self.rng.randint(10, 50) if household.size == 1 else self.rng.randint(25, 80)
        if place.spec.max_stay_days:
            days = min(days, place.spec.max_stay_days)
        return timedelta(days=days, hours=self.rng.randint(0, 23))

    # --- what happens at a shelter ----------------------------------------------------

    def check_in(
        self,
        place: _Place,
        household: Household,
        *,
        beds: list[int],
        hold_id: int | None,
        settled: bool = False,
    ) -> None:
        stay = service.check_in(
            place.shelter,
            beds,
            actor_id=place.staff_id,
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
            lambda: service.check_out(place.shelter, stay_id, actor_id=place.staff_id),
            length,
            length + timedelta(hours=6),
        )

    def walk_in(self, place: _Place, *, settled: bool = False) -> None:
        """A household at the door; a family too big for the free beds comes
        back smaller (as if the rest went to relatives) rather than not at all."""
        household = self.household(place)
        beds = self.fit(place, household)
        if beds is None and household.children_ages:
            household = Household(children_ages=household.children_ages[-1:], language=household.language)
            beds = self.fit(place, household)
        if beds is not None:
            self.check_in(place, household, beds=beds, hold_id=None, settled=settled)

    def hotline_hold(self, place: _Place) -> None:
        """Staff hold beds for a caller on her way; one in five never comes."""
        household = self.household(place)
        if (beds := self.fit(place, household)) is None:
            return
        hold_id = service.place_hold(place.shelter, beds, actor_id=place.staff_id).id
        if self.rng.random() < 0.8:
            self.later(
                place,
                lambda: self.check_in(place, household, beds=[], hold_id=hold_id),
                timedelta(minutes=20),
                timedelta(minutes=100),
            )

    def referral(self, place: _Place) -> None:
        """Another agency's advocate asks for beds; the shelter accepts and the
        household arrives, or declines, or nobody answers and the hold expires."""
        if not place.referrers:
            return
        household = self.household(place)
        actor_id, agency_id = self.rng.choice(place.referrers)
        referral = service.request_referral(
            place.shelter.id, household, actor_id=actor_id, from_agency_id=agency_id
        )
        referral_id, hold_id = referral.id, referral.hold_id
        fate = self.rng.random()
        if fate < 0.65:
            self.later(
                place,
                lambda: service.accept_referral(place.shelter, referral_id, actor_id=place.staff_id),
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
                lambda: service.decline_referral(place.shelter, referral_id, reason, actor_id=place.staff_id),
                timedelta(minutes=10),
                timedelta(minutes=60),
            )

    def repair(self, place: _Place) -> None:
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
        service.take_out_of_service(place.shelter, [bed_id], reason, actor_id=place.staff_id)
        self.later(
            place,
            lambda: service.return_to_service(place.shelter, [bed_id], actor_id=place.staff_id),
            timedelta(days=1),
            timedelta(days=6),
        )

    def plan(self, place: _Place, start: datetime) -> None:
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


def _build_network(
    agencies: dict[str, Agency], start: datetime, set_time: Callable[[datetime | None], None]
) -> list[Shelter]:
    """The shelters, rooms and beds, added at the start of the history."""
    set_time(start)
    shelters = []
    for spec in SHELTERS:
        shelter = service.add_shelter(
            agencies[spec.agency].id,
            spec.name,
            spec.label,
            spec.region,
            address=spec.address,
            languages=spec.languages,
            cultural_program=spec.program.value if spec.program else None,
            boys_age_limit=spec.boys_age_limit,
            max_stay_days=spec.max_stay_days,
        )
        shelter.created_at = start
        shelter.availability_updated_at = start
        for number, code in enumerate(spec.rooms.split(), start=1):
            kind, _, flags = code.partition("+")
            room_type, bed_types = ROOM_KINDS[kind]
            label = f"{number:02d}"
            service.add_room(
                shelter,
                label,
                room_type=room_type,
                accessible="a" in flags,
                pets_allowed="p" in flags,
                beds=[(f"{label}{chr(ord('A') + i)}", bed_type) for i, bed_type in enumerate(bed_types)],
            )
        shelters.append(shelter)
    db.session.commit()
    set_time(None)
    return shelters


def load_demo(*, if_empty: bool = True) -> list[tuple[str, str, str]] | None:
    if if_empty and db.session.scalar(select(Agency.id).limit(1)) is not None:
        return None
    north = create_agency("North Shore Safe Harbor (demo)", "north-shore")
    valley = create_agency("River Valley Family Safety (demo)", "river-valley")
    lodge = create_agency("Four Directions Family Lodge (demo)", "four-directions")
    agencies = {a.slug: a for a in (north, valley, lodge)}

    logins: list[tuple[str, str, str]] = []
    accounts = (
        ("admin", "Alex Admin (demo)", north, Role.ADMIN),
        ("advocate", "Ana Advocate (demo)", north, Role.ADVOCATE),
        ("staff", "Sam Staff (demo)", north, Role.SHELTER_STAFF),
        ("coordinator", "Chris Coordinator (demo)", north, Role.COORDINATOR),
        ("valley", "Val Advocate (demo)", valley, Role.ADVOCATE),
        ("valleystaff", "Vic Staff (demo)", valley, Role.SHELTER_STAFF),
        ("lodge", "Lee Lodge Admin (demo)", lodge, Role.ADMIN),
    )
    users = {}
    for username, name, agency, role in accounts:
        password = random_passphrase()
        # The words include "valley": a password must not contain the user name.
        while password_problems(password, username):
            password = random_passphrase()
        users[username] = create_user(username, name, password, [(agency, role)], enrol_totp=True)
        logins.append((username, role.value, password))

    db.session.commit()
    service.update_network_settings(lodge.id, hold_minutes=180, stale_after_minutes=720)

    staff = {north.id: users["staff"].id, valley.id: users["valleystaff"].id, lodge.id: users["lodge"].id}
    advocates = [
        (users["advocate"].id, north.id),
        (users["valley"].id, valley.id),
        (users["lodge"].id, lodge.id),
    ]
    now = service.utcnow()
    start = now - timedelta(days=HISTORY_DAYS)
    with _service_clock() as set_time:
        shelters = _build_network(agencies, start, set_time)
        history = _History(random.Random(SEED), now, set_time)  # noqa: S311 (a seeded replay, not a secret)
        places = []
        for spec, shelter in zip(SHELTERS, shelters, strict=True):
            place = _Place(
                shelter=shelter,
                spec=spec,
                staff_id=staff[shelter.agency_id],
                referrers=[a for a in advocates if a[1] != shelter.agency_id],
                quiet_after=now - STALE_FOR if spec.stale else now,
            )
            places.append(place)
            history.plan(place, start)
        history.run()
    _present(history, places, users)
    # Cases come last, at the real time, on the network as it stands today:
    # the referral among them holds real beds that must still be free.
    _cases(agencies, users, places)
    return logins


def _present(history: _History, places: list[_Place], users: dict[str, Any]) -> None:
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
                        by_label[label].shelter.id, who, actor_id=user.id, from_agency_id=agency_id
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
        service.accept_referral(place.shelter, accepted, actor_id=place.staff_id)
    for label, household in (("NS-2", Household(adults=1, children_ages=(3,))), ("RV-2", Household())):
        place = by_label[label]
        if (beds := history.fit(place, household)) is not None:
            service.place_hold(place.shelter, beds, actor_id=place.staff_id, note="Expected from the hotline")
    if db.session.scalar(select(Bed.id).where(Bed.state == BedState.OUT_OF_SERVICE.value).limit(1)) is None:
        place = by_label["NS-3"]
        bed_id = db.session.scalar(
            select(Bed.id).where(Bed.shelter_id == place.shelter.id, Bed.state == BedState.AVAILABLE.value)
        )
        if bed_id is not None:
            service.take_out_of_service(
                place.shelter, [bed_id], OutOfServiceReason.REPAIR, actor_id=place.staff_id
            )
    now = service.utcnow()
    for place in places:
        if not place.spec.stale and now - place.shelter.availability_updated_at > timedelta(hours=2):
            service.confirm_board(place.shelter, actor_id=place.staff_id)


# --- cases ------------------------------------------------------------------------------------

S = ProtocolStepKey
Y, NO_GO = ProtocolOutcome.DONE, ProtocolOutcome.DECLINED


@dataclass(frozen=True)
class Screen:
    """One lethality screen: when (days before today) and which questions got "yes".

    Every other question is "no", except ``unanswered`` ones (the person chose
    not to answer).  A ``judgment`` reason screens the case in whatever the
    answers say, as the advocate may.
    """

    days_ago: float
    yes: tuple[int, ...]
    unanswered: tuple[int, ...] = ()
    judgment: str | None = None

    def answers(self) -> dict[str, str]:
        return {
            f"q{n}": "yes" if n in self.yes else "no_answer" if n in self.unanswered else "no"
            for n in range(1, 12)
        }


@dataclass(frozen=True)
class CaseSpec:
    """One demo case and its story; times are days before today.

    ``steps`` are the protocol steps of the newest screened-in screening that
    are finished, in order, a quarter of an hour apart after it; the others stay
    open.  ``refer_to`` lists shelter labels of another agency, tried in order
    for a referral at the real time (the first with beds that fit wins).
    """

    agency: str
    owner: str
    alias: str
    language: str
    phone: str | None
    opened: float
    details: dict[str, Any] = field(default_factory=dict)
    screens: tuple[Screen, ...] = ()
    steps: tuple[tuple[ProtocolStepKey, ProtocolOutcome, str | None], ...] = ()
    no_bed: str | None = None
    refer_to: tuple[str, ...] = ()
    closed: tuple[float, CloseReason] | None = None


CASES = (
    # North Shore: two advocates' caseload, every kind of screen result.
    CaseSpec(
        "north-shore", "advocate", "Rosa M. (demo)", "es", "+12185550101", 21,
        dict(referral_source="police", safe_to_text=True, code_word="lemon tea", consent_sms=True,
             contact_note="Text only. Her partner checks the call log.", children_ages="4 9",
             oldest_boy_age=9, cultural_program=CulturalProgram.LATINE.value,
             cultural_note="Would like a Spanish-speaking counselor."),
        screens=(Screen(21, (2, 5, 6, 7)),),
        steps=((S.HOTLINE, Y, "Talked with the hotline advocate for 20 minutes."),
               (S.PRIORITY_PLACEMENT, NO_GO, "Staying with her aunt for now."),
               (S.DENSER_REMINDERS, Y, None)),
    ),
    CaseSpec(
        "north-shore", "advocate", "Hodan A. (demo)", "so", "+12185550102", 9,
        dict(referral_source="hotline", interpreter_needed=True, safe_to_call=True,
             children_ages="1 5 11", oldest_boy_age=11,
             cultural_program=CulturalProgram.IMMIGRANT_REFUGEE.value,
             cultural_note="Halal meals. Needs a quiet place to pray."),
        screens=(Screen(9, (1, 4, 11)),),
        steps=((S.HOTLINE, Y, "Somali interpreter on the line."),),
    ),
    CaseSpec(
        "north-shore", "advocate", "Amina K. (demo)", "ar", "+12185550105", 62,
        dict(referral_source="social_services", interpreter_needed=True, safe_to_text=True,
             children_ages="7", cultural_program=CulturalProgram.IMMIGRANT_REFUGEE.value,
             contact_note="Mornings only, while the children are at school."),
        # Re-screened as things changed: the trend goes up until she screens in.
        screens=(Screen(62, (6, 7)), Screen(34, (5, 6, 7)), Screen(3, (3, 5, 6, 7, 11))),
        steps=((S.HOTLINE, Y, None),),
    ),
    CaseSpec(
        "north-shore", "advocate", "Ayaan D. (demo)", "om", "+12185550106", 0.3,
        dict(referral_source="family_friend", safe_to_call=True, safe_voicemail=True),
        screens=(Screen(0.3, (6,)),),
        no_bed="Staying with her brother's family for now.",
    ),
    CaseSpec(
        "north-shore", "advocate", "Lan T. (demo)", "vi", "+12185550107", 0.1,
        dict(referral_source="health", interpreter_needed=True,
             contact_note="A Vietnamese interpreter by phone worked well."),
    ),
    CaseSpec(
        "north-shore", "admin", "Beth S. (demo)", "en", "+12185550108", 118,
        dict(referral_source="court", safe_to_call=True, safe_voicemail=True,
             access_needs="wheelchair medical",
             access_note="Power wheelchair; needs a fridge for insulin."),
        screens=(Screen(118, (4, 8)),),
        closed=(12, CloseReason.SERVICES_COMPLETE),
    ),
    CaseSpec(
        "north-shore", "advocate", "Grace W. (demo)", "en", "+12185550109", 5,
        dict(referral_source="self", safe_to_text=True, access_needs="deaf interpreter",
             cultural_program=CulturalProgram.DEAF.value,
             contact_note="Text only. Calls through the relay service."),
        screens=(Screen(5, (6, 11), judgment=(
            "Most answers are no, but he was released from jail yesterday and has come to her "
            "work twice. I believe she is in high danger.")),),
        steps=((S.HOTLINE, Y, "Connected through video relay."),),
    ),
    CaseSpec(
        "north-shore", "advocate", "Luz P. (demo)", "es", "+12185550110", 0.15,
        dict(referral_source="prosecutor", safe_to_text=True, children_ages="6", oldest_boy_age=6,
             consent_sms=True, contact_note="Wants a shelter in another county."),
        screens=(Screen(0.12, (2, 3, 5, 6)),),
        steps=((S.HOTLINE, Y, None),),
        refer_to=("RV-1", "RV-2", "RV-3", "FD-2", "FD-1"),
    ),
    CaseSpec(
        "north-shore", "advocate", "Dawn L. (demo)", "oj", "+12185550111", 30,
        dict(referral_source="tribal", safe_to_call=True, children_ages="13 15", oldest_boy_age=15,
             cultural_program=CulturalProgram.INDIGENOUS.value,
             cultural_note="Would like to meet a tribal advocate."),
        screens=(Screen(30, (4, 6, 8)),),
    ),
    CaseSpec(
        "north-shore", "admin", "Tamara R. (demo)", "en", "+12185550112", 2,
        dict(referral_source="court", safe_to_text=True, pets=1,
             pets_note="A small dog; she will not leave without him."),
    ),
    CaseSpec(
        "north-shore", "advocate", "Halima Y. (demo)", "so", "+12185550113", 45,
        dict(referral_source="hotline", safe_to_text=True, consent_share=True, children_ages="10",
             cultural_program=CulturalProgram.IMMIGRANT_REFUGEE.value),
        screens=(Screen(45, (1,), unanswered=(10,)),),
        steps=((S.HOTLINE, Y, None), (S.PRIORITY_PLACEMENT, NO_GO, "Safe with family."),
               (S.DENSER_REMINDERS, Y, None), (S.OFFER_SHARE, Y, "She wants the result shared.")),
    ),
    CaseSpec(
        "north-shore", "advocate", "Yer L. (demo)", "hmn", "+12185550124", 75,
        dict(referral_source="self", safe_to_call=True, children_ages="2",
             cultural_program=CulturalProgram.ASIAN_PACIFIC.value),
        screens=(Screen(75, (5, 7)), Screen(40, (5, 6, 7, 9))),
        steps=((S.HOTLINE, Y, None), (S.DENSER_REMINDERS, Y, None)),
    ),
    # River Valley: one advocate.
    CaseSpec(
        "river-valley", "valley", "Mai V. (demo)", "hmn", "+15075550103", 14,
        dict(referral_source="hotline", safe_to_text=True, children_ages="2 6",
             cultural_program=CulturalProgram.ASIAN_PACIFIC.value,
             cultural_note="Prefers a Hmong-speaking advocate."),
        screens=(Screen(14, (2, 6, 11)),),
        steps=((S.HOTLINE, Y, None), (S.PRIORITY_PLACEMENT, NO_GO, None)),
    ),
    CaseSpec(
        "river-valley", "valley", "Paw H. (demo)", "ksw", "+15075550114", 7,
        dict(referral_source="social_services", interpreter_needed=True, children_ages="0 4",
             cultural_program=CulturalProgram.IMMIGRANT_REFUGEE.value,
             cultural_note="Needs a Karen interpreter."),
        screens=(Screen(7, (7, 8), unanswered=(10,)),),
    ),
    CaseSpec(
        "river-valley", "valley", "Guadalupe R. (demo)", "es", "+15075550115", 3,
        dict(referral_source="police", safe_to_text=True, pets=2, pets_note="Two cats.",
             cultural_program=CulturalProgram.LATINE.value),
        screens=(Screen(3, (1, 2, 4, 5)),),
    ),
    CaseSpec(
        "river-valley", "valley", "Pa Nhia X. (demo)", "hmn", "+15075550116", 0.5,
        dict(referral_source="family_friend", interpreter_needed=True),
    ),
    CaseSpec(
        "river-valley", "valley", "Jessica T. (demo)", "en", "+15075550117", 95,
        dict(referral_source="court", safe_to_call=True),
        screens=(Screen(95, (6,)),),
        closed=(30, CloseReason.MOVED),
    ),
    CaseSpec(
        "river-valley", "valley", "Mariam S. (demo)", "ar", "+15075550118", 20,
        dict(referral_source="health", safe_to_text=True, access_needs="medical",
             access_note="Pregnant; clinic visits every two weeks."),
        # Exactly four "yes" among questions 4 to 11: screened in by the rule.
        screens=(Screen(20, (5, 6, 7, 10)),),
        steps=((S.HOTLINE, Y, None),),
    ),
    # Four Directions: the agency admin carries the cases.
    CaseSpec(
        "four-directions", "lodge", "Winona B. (demo)", "oj", "+12185550104", 10,
        dict(referral_source="tribal", safe_to_text=True, children_ages="3 8",
             cultural_program=CulturalProgram.INDIGENOUS.value,
             cultural_note="Tribal protection order in place."),
        screens=(Screen(10, (2, 4, 5, 6, 11)),),
        steps=((S.HOTLINE, Y, "Called StrongHearts together."), (S.PRIORITY_PLACEMENT, Y, None)),
    ),
    CaseSpec(
        "four-directions", "lodge", "Marie D. (demo)", "en", "+12185550119", 25,
        dict(referral_source="self", cultural_program=CulturalProgram.INDIGENOUS.value),
        screens=(Screen(25, (6,)),),
        no_bed="Her own home; the order keeps him away.",
    ),
    CaseSpec(
        "four-directions", "lodge", "Rachel K. (demo)", "oj", "+12185550120", 4,
        dict(referral_source="police", safe_to_call=True, children_ages="0 3 8 13", oldest_boy_age=13,
             cultural_program=CulturalProgram.INDIGENOUS.value),
        screens=(Screen(4, (3,)),),
    ),
    CaseSpec(
        "four-directions", "lodge", "Tina S. (demo)", "en", "+12185550121", 0.7,
        dict(referral_source="hotline"),
    ),
    CaseSpec(
        "four-directions", "lodge", "Lorraine J. (demo)", "en", "+12185550122", 50,
        dict(referral_source="tribal", safe_to_call=True, safe_voicemail=True, access_needs="medical",
             access_note="Heart medication; walks with a cane.",
             cultural_program=CulturalProgram.ELDERS.value),
        screens=(Screen(50, (6, 7, 9)), Screen(15, (6, 7, 9, 11))),
        steps=((S.HOTLINE, Y, None),),
    ),
)  # fmt: skip

#: Intakes the "advocate" left half done: (days ago, steps with their values).
DRAFTS: tuple[tuple[float, dict[str, dict[str, Any]]], ...] = (
    (
        0.02,
        {
            "person": {
                "alias": "Sofia G. (demo)",
                "language": "es",
                "interpreter_needed": False,
                "referral_source": "hotline",
            },
            "contact": {
                "phone": "+12185550125",
                "safe_to_text": True,
                "safe_to_call": False,
                "safe_voicemail": False,
                "code_word": None,
                "contact_note": "Text after 6 pm.",
            },
        },
    ),
    (
        1.2,
        {
            "person": {
                "alias": "Nimo F. (demo)",
                "language": "so",
                "interpreter_needed": True,
                "referral_source": "police",
            }
        },
    ),
)


@contextmanager
def _intake_clock() -> Iterator[Callable[[datetime], None]]:
    """Like :func:`_service_clock`, for the intake service: screenings, steps and
    closings of the demo's past are stamped at their moment, the real clock is
    back on exit."""
    real: Callable[[], datetime] = intake.utcnow
    moment: list[datetime | None] = [None]
    intake.utcnow = lambda: moment[0] or real()  # type: ignore[assignment]

    def set_time(at: datetime) -> None:
        moment[0] = at

    try:
        yield set_time
    finally:
        intake.utcnow = real  # type: ignore[assignment]


def _cases(agencies: dict[str, Agency], users: dict[str, Any], places: list[_Place]) -> None:
    """The cases of :data:`CASES` and the drafts of :data:`DRAFTS`, through the intake service.

    Each case's past runs on :func:`_intake_clock`, oldest case first so that
    case numbers grow with the date.  ``open_case`` stamps ``opened_at`` with
    the model's own clock, so that one column is moved back to the story's
    moment here; nothing else is written around the service.  Referrals are
    made last, at the real time, because their holds expire like any other.
    """
    instrument = shipped()["lethality-screen@1"]
    now = intake.utcnow()
    by_label = {place.spec.label: place for place in places}
    referrals: list[tuple[int, CaseSpec]] = []

    def story(n: int, spec: CaseSpec) -> Callable[[float], datetime]:
        """The case's moments, "days ago", at its own time of day (not all at one)."""
        shift = timedelta(minutes=41 * (n % 9))
        return lambda days_ago: now - timedelta(days=days_ago) - shift

    stories = sorted(
        ((story(n, spec), spec) for n, spec in enumerate(CASES)), key=lambda s: s[0](s[1].opened)
    )
    with _intake_clock() as set_time:
        for at, spec in stories:
            owner_id = users[spec.owner].id
            opened = at(spec.opened)
            set_time(opened)
            case = intake.open_case(
                agencies[spec.agency].id, owner_id, spec.alias, phone=spec.phone, language=spec.language,
                **spec.details,
            )  # fmt: skip
            case.opened_at = opened
            db.session.commit()
            screened = opened
            for screen in spec.screens:  # a few minutes into the meeting
                screened = at(screen.days_ago) + timedelta(minutes=10)
                set_time(screened)
                intake.screen_case(
                    case, instrument, screen.answers(), judgment_reason=screen.judgment, actor_id=owner_id
                )
            steps = {step.step: step.id for step in intake.protocol_steps(case)}
            for i, (key, outcome, note) in enumerate(spec.steps, start=1):
                set_time(screened + timedelta(minutes=15 * i))
                intake.complete_step(case, steps[key.value], outcome, note=note, actor_id=owner_id)
            if spec.no_bed:
                set_time(screened + timedelta(minutes=30))
                intake.record_placement(
                    case, PlacementKind.NO_BED_NEEDED, note=spec.no_bed, actor_id=owner_id
                )
            if spec.closed:
                set_time(at(spec.closed[0]))
                intake.close_case(case, spec.closed[1].value, actor_id=owner_id)
            if spec.refer_to:
                referrals.append((case.id, spec))
        advocate = users["advocate"]
        for days_ago, steps_values in DRAFTS:
            set_time(now - timedelta(days=days_ago))
            draft = intake.start_draft(agency_id=agencies["north-shore"].id, owner_id=advocate.id)
            for step, values in steps_values.items():
                intake.save_step(draft, step, values, complete=True, actor_id=advocate.id)
    for case_id, spec in referrals:
        _refer(case_id, spec, users[spec.owner].id, by_label)


def _refer(case_id: int, spec: CaseSpec, actor_id: int, by_label: dict[str, _Place]) -> None:
    """A bed at the first shelter of ``spec.refer_to`` that fits the household
    today; "find a bed later" if none does, as an advocate would record it."""
    for label in spec.refer_to:
        case = db.session.get(Case, case_id)
        assert case is not None
        try:
            intake.place_referral(case, by_label[label].shelter.id, actor_id=actor_id)
            return
        except Refused:
            continue
    case = db.session.get(Case, case_id)
    assert case is not None
    intake.record_placement(case, PlacementKind.LATER, note="No bed fitted today.", actor_id=actor_id)
