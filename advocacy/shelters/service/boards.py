"""The read side of the network: the staff board, the network board and their ETags.

Boards never change anything but expired holds (which every read ends
first, so nobody sees a hold past its time).  The network board is built
only from :class:`NetworkRow`, which has no field for a name, address or
coordinates, and carries a shelter's intake line only where its agency shares
it: it is what every agency of the network may see.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, cached_property
from typing import Any

from sqlalchemy import and_, bindparam, case, func, select

from advocacy import clock
from advocacy.extensions import db
from advocacy.shelters.machines import OPEN_REFERRAL
from advocacy.shelters.models import (
    Bed,
    BedState,
    BedType,
    Hold,
    HoldStatus,
    NetworkSettings,
    Referral,
    Room,
    RoomType,
    Shelter,
    Stay,
)
from advocacy.shelters.service.core import DEFAULT_STALE_AFTER_MINUTES, expire_holds, network_settings

# --- the staff board ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardFilters:
    state: str | None = None
    bed_type: str | None = None
    room_type: str | None = None
    accessible: bool = False

    def apply(self, stmt: Any) -> Any:
        if self.state:
            stmt = stmt.where(Bed.state == self.state)
        if self.bed_type:
            stmt = stmt.where(Bed.bed_type == self.bed_type)
        if self.room_type:
            stmt = stmt.where(Room.room_type == self.room_type)
        if self.accessible:
            stmt = stmt.where(Room.accessible.is_(True))
        return stmt


@dataclass
class StaffBoard:
    shelter: Shelter
    beds: list[Any]
    counts: dict[str, int]
    holds: dict[int, Any]  # rows: id, expires_at, note
    stays: dict[int, Any]  # rows: id, adults, children, note, checked_in_at
    referrals: list[Referral]
    now: datetime
    stale_after: timedelta

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @cached_property
    def bed_labels_by_hold(self) -> dict[int | None, list[str]]:
        """The labels of the beds shown, by the hold they are in (``None``: in none), in
        the board's order: each hold and referral names its beds without a pass over all."""
        labels: dict[int | None, list[str]] = {}
        for bed in self.beds:
            labels.setdefault(bed.hold_id, []).append(bed.label)
        return labels

    @property
    def stale(self) -> bool:
        return self.now - self.shelter.availability_updated_at > self.stale_after


def staff_board(
    shelter: Shelter,
    filters: BoardFilters | None = None,
    *,
    holds_ended: bool = False,
    stale_after_minutes: int | None = None,
) -> StaffBoard:
    """The shelter's beds (as narrow rows), their counts, holds, stays and open referrals.

    ``holds_ended``: the caller has just ended the holds past their time in
    this transaction (:func:`board_etag` does), so they are not looked for twice.
    ``stale_after_minutes``: the agency's setting, when the caller read it with
    the shelter (:func:`board_shelter`); otherwise it is read here.
    """
    filters = filters or BoardFilters()
    if not holds_ended:
        expire_holds(shelter_ids=[shelter.id])
    now = clock.now()
    beds = db.session.execute(
        filters.apply(
            select(
                Bed.id,
                Bed.label,
                Bed.bed_type,
                Bed.state,
                Bed.out_of_service_reason,
                Bed.hold_id,
                Bed.stay_id,
                Bed.state_changed_at,
                Room.label.label("room_label"),
                Room.room_type,
                Room.accessible,
                Room.pets_allowed,
            )
            .join(Room, Room.id == Bed.room_id)
            .where(Bed.shelter_id == shelter.id)
        ).order_by(Room.label, Bed.label, Bed.id)
    ).all()
    if filters == BoardFilters():
        # Every bed is on the board: count them here rather than ask again.
        counts: dict[str, int] = {}
        for bed in beds:
            counts[bed.state] = counts.get(bed.state, 0) + 1
    else:
        counts = dict(
            db.session.execute(
                select(Bed.state, func.count()).where(Bed.shelter_id == shelter.id).group_by(Bed.state)
            ).all()
        )
    # Holds and stays as the board shows them: narrow rows, not whole objects.
    holds = {
        h.id: h
        for h in db.session.execute(
            select(Hold.id, Hold.expires_at, Hold.note).where(
                Hold.shelter_id == shelter.id, Hold.status == HoldStatus.ACTIVE.value
            )
        )
    }
    stays = {
        s.id: s
        for s in db.session.execute(
            select(Stay.id, Stay.adults, Stay.children, Stay.note, Stay.checked_in_at).where(
                Stay.shelter_id == shelter.id, Stay.checked_out_at.is_(None)
            )
        )
    }
    referrals = list(
        db.session.scalars(
            select(Referral)
            .where(
                Referral.shelter_id == shelter.id,
                Referral.status.in_(OPEN_REFERRAL),
            )
            # Priority first: the referring advocate asked for it (a screened-in case).
            .order_by(Referral.priority.desc(), Referral.created_at)
        )
    )
    if stale_after_minutes is None:
        stale_after_minutes = network_settings(shelter.agency_id).stale_after_minutes
    return StaffBoard(
        shelter=shelter,
        beds=list(beds),
        counts={s.value: counts.get(s.value, 0) for s in BedState},
        holds=holds,
        stays=stays,
        referrals=referrals,
        now=now,
        stale_after=timedelta(minutes=stale_after_minutes),
    )


# --- the network board -------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkFilters:
    beds_needed: int = 1
    accessible: bool = False
    pets: bool = False
    language: str | None = None
    region: str | None = None
    family_room: bool = False
    cultural_program: str | None = None
    boy_age: int | None = None
    #: One shelter only (the request page); with ``beds_needed=0`` even a full one.
    shelter_id: int | None = None


@dataclass(frozen=True)
class NetworkRow:
    """What every agency may see of a shelter: its label, its region, what it offers
    and how many beds are open, and its intake line where the agency shares it.
    No name, address or coordinates exist here."""

    shelter_id: int
    public_label: str
    region: str
    languages: tuple[str, ...]
    cultural_program: str | None
    boys_age_limit: int | None
    max_stay_days: int | None
    open_adult: int
    open_child: int
    open_crib: int
    open_accessible: int
    open_pets: int
    open_family: int
    open_matching: int
    #: Open beds that fit the needs in the family room with the most of them.
    open_largest_family_room: int
    in_service: int
    updated_at: datetime
    stale: bool
    #: The shelter's intake line (E.164), only where its agency shares it with the network.
    intake_phone: str | None = None

    @property
    def open_total(self) -> int:
        return self.open_adult + self.open_child + self.open_crib

    def to_dict(self) -> dict[str, Any]:
        """An explicit list of fields (nothing is serialized from columns by accident)."""
        return {
            "shelter": self.shelter_id,
            "label": self.public_label,
            "region": self.region,
            "languages": list(self.languages),
            "cultural_program": self.cultural_program,
            "boys_age_limit": self.boys_age_limit,
            "max_stay_days": self.max_stay_days,
            "open": {
                "adult": self.open_adult,
                "child": self.open_child,
                "crib": self.open_crib,
                "accessible": self.open_accessible,
                "pets": self.open_pets,
                "family_room": self.open_family,
                "matching": self.open_matching,
                "largest_family_room": self.open_largest_family_room,
            },
            "in_service": self.in_service,
            "updated_at": self.updated_at.isoformat(),
            "stale": self.stale,
            "intake_phone": self.intake_phone,
        }


def _count_if(*conditions: Any) -> Any:
    return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)


@cache
def _network_shelters_statement() -> Any:
    """Built once: statements are immutable, and a caller's ``.where`` makes a new one."""
    return (
        select(
            Shelter.id,
            Shelter.public_label,
            Shelter.region,
            Shelter.languages,
            Shelter.cultural_program,
            Shelter.boys_age_limit,
            Shelter.max_stay_days,
            Shelter.availability_updated_at,
            # Only a shared intake line leaves the database for the network board.
            case((Shelter.intake_phone_shared.is_(True), Shelter.intake_phone), else_=None).label(
                "intake_phone"
            ),
            func.coalesce(NetworkSettings.stale_after_minutes, DEFAULT_STALE_AFTER_MINUTES).label(
                "stale_after"
            ),
        )
        .outerjoin(NetworkSettings, NetworkSettings.agency_id == Shelter.agency_id)
        .where(Shelter.active.is_(True))
    )


def network_shelters() -> list[Any]:
    """Every active shelter as the network board reads it (narrow rows), by region.

    The board's page reads them once and takes both its region choices
    (:func:`network_regions`) and its rows (:func:`network_board`) from them.
    """
    return list(db.session.execute(_network_shelters_statement().order_by(Shelter.region)))


@cache
def _network_count_statements(
    accessible: bool, pets: bool, family_room: bool, one_shelter: bool
) -> tuple[Any, Any]:
    """The network board's two counts over beds for one combination of the
    household's needs, built once (the board is read by every advocate looking
    for a bed; building its statements was a sixth of its function calls): open beds per
    shelter by kind, and the largest open family room of each shelter.
    ``one_shelter``: for the shelter bound as ``shelter_id``."""
    available = Bed.state == BedState.AVAILABLE.value
    matching = [available, Bed.bed_type != BedType.CRIB.value]
    if accessible:
        matching.append(Room.accessible.is_(True))
    if pets:
        matching.append(Room.pets_allowed.is_(True))
    if family_room:
        matching.append(Room.room_type == RoomType.FAMILY.value)
    only = [Bed.shelter_id == bindparam("shelter_id")] if one_shelter else []
    counts = (
        select(
            Bed.shelter_id,
            _count_if(available, Bed.bed_type == BedType.ADULT.value).label("adult"),
            _count_if(available, Bed.bed_type == BedType.CHILD.value).label("child"),
            _count_if(available, Bed.bed_type == BedType.CRIB.value).label("crib"),
            _count_if(available, Room.accessible.is_(True)).label("accessible"),
            _count_if(available, Room.pets_allowed.is_(True)).label("pets"),
            _count_if(available, Room.room_type == RoomType.FAMILY.value).label("family"),
            _count_if(*matching).label("matching"),
            _count_if(Bed.state != BedState.OUT_OF_SERVICE.value).label("in_service"),
        )
        .join(Room, Room.id == Bed.room_id)
        .where(*only)
        .group_by(Bed.shelter_id)
    )
    # A household of more than one stays together in one family room (as
    # request_referral places it): what fits it is the largest such room.
    per_room = (
        select(Bed.shelter_id, Bed.room_id, func.count().label("open"))
        .join(Room, Room.id == Bed.room_id)
        .where(*matching, *only, Room.room_type == RoomType.FAMILY.value)
        .group_by(Bed.shelter_id, Bed.room_id)
        .subquery()
    )
    largest = select(per_room.c.shelter_id, func.max(per_room.c.open)).group_by(per_room.c.shelter_id)
    return counts, largest


def network_board(
    filters: NetworkFilters | None = None, *, holds_ended: bool = False, shelters: list[Any] | None = None
) -> list[NetworkRow]:
    """Open beds per shelter of the whole network, for households with these needs.

    Three queries whatever the size of the network: one over shelters (none
    when the caller passes ``shelters`` from :func:`network_shelters`), one
    grouped count over beds, one for the largest open family room of each
    shelter.  Shelters that cannot take the household (too few
    matching beds, no staff speaking the language, boys over the age limit)
    are left out; the rest are sorted by how many matching beds they have.
    ``holds_ended`` as for :func:`staff_board`.
    """
    filters = filters or NetworkFilters()
    if not holds_ended:
        expire_holds()
    now = clock.now()
    one_shelter = filters.shelter_id is not None
    counts_statement, largest_statement = _network_count_statements(
        filters.accessible, filters.pets, filters.family_room, one_shelter
    )
    params = {"shelter_id": filters.shelter_id} if one_shelter else {}
    counts = {row.shelter_id: row for row in db.session.execute(counts_statement, params)}
    largest_family_room = dict(db.session.execute(largest_statement, params).all())
    if shelters is None:
        stmt = _network_shelters_statement()
        if filters.region:
            stmt = stmt.where(Shelter.region == filters.region)
        if filters.cultural_program:
            stmt = stmt.where(Shelter.cultural_program == filters.cultural_program)
        if filters.shelter_id is not None:
            stmt = stmt.where(Shelter.id == filters.shelter_id)
        shelters = list(db.session.execute(stmt))
    else:
        # The same conditions as the statement above, on rows already read.
        shelters = [
            s
            for s in shelters
            if (not filters.region or s.region == filters.region)
            and (not filters.cultural_program or s.cultural_program == filters.cultural_program)
            and (filters.shelter_id is None or s.id == filters.shelter_id)
        ]
    rows: list[NetworkRow] = []
    for s in shelters:
        languages = tuple(s.languages.split())
        if filters.language and filters.language not in languages:
            continue
        if (
            filters.boy_age is not None
            and s.boys_age_limit is not None
            and filters.boy_age > s.boys_age_limit
        ):
            continue
        c = counts.get(s.id)
        row = NetworkRow(
            shelter_id=s.id,
            public_label=s.public_label,
            region=s.region,
            languages=languages,
            cultural_program=s.cultural_program,
            boys_age_limit=s.boys_age_limit,
            max_stay_days=s.max_stay_days,
            open_adult=int(c.adult) if c else 0,
            open_child=int(c.child) if c else 0,
            open_crib=int(c.crib) if c else 0,
            open_accessible=int(c.accessible) if c else 0,
            open_pets=int(c.pets) if c else 0,
            open_family=int(c.family) if c else 0,
            open_matching=int(c.matching) if c else 0,
            open_largest_family_room=int(largest_family_room.get(s.id, 0)),
            in_service=int(c.in_service) if c else 0,
            updated_at=s.availability_updated_at,
            stale=now - s.availability_updated_at > timedelta(minutes=int(s.stale_after)),
            intake_phone=s.intake_phone,
        )
        fits = row.open_matching if filters.beds_needed <= 1 else row.open_largest_family_room
        if fits >= filters.beds_needed:
            rows.append(row)
    rows.sort(key=lambda r: (r.stale, -r.open_matching, r.region, r.public_label))
    return rows


def network_regions(shelters: list[Any] | None = None) -> list[str]:
    """The regions of the active shelters, in the database's order; from ``shelters``
    (:func:`network_shelters`, already by region) when the caller has read them."""
    if shelters is not None:
        return list(dict.fromkeys(s.region for s in shelters))
    return list(
        db.session.scalars(
            select(Shelter.region).where(Shelter.active.is_(True)).distinct().order_by(Shelter.region)
        )
    )


# --- ETags: an unchanged board costs one small query ---------------------------------------------


def board_etag(*parts: object, shelter_id: int | None = None, shelter: Shelter | None = None) -> str:
    """A validator for a board: the shelters' versions, the minute (the board
    says "N minutes ago" and "time left"), and what the caller adds (language,
    filters, user).  Holds due to expire are expired first, so an expiry is a change.

    ``shelter``: one shelter's board, from the row the caller read in this
    transaction with nothing changed on its board since (a view's
    ``own_shelter``): its ``board_version`` is the version, without a query.
    The row was read before the board's rows are, so the ETag never claims a
    newer board than the page shows; when the expiry ends holds it bumps the
    version and expires the session, and the attribute reloads the new one.
    The ETag is the one ``shelter_id`` gives.  ``shelter_id`` (one shelter,
    any row) and neither (the whole network) ask the database.
    """
    if shelter is not None:
        expire_holds(shelter_ids=[shelter.id])
        versions: tuple[Any, ...] = (1, shelter.board_version, shelter.id)
    else:
        expire_holds(shelter_ids=None if shelter_id is None else [shelter_id])
        stmt = select(
            func.count(Shelter.id), func.coalesce(func.sum(Shelter.board_version), 0), func.max(Shelter.id)
        )
        if shelter_id is not None:
            stmt = stmt.where(Shelter.id == shelter_id)
        versions = tuple(db.session.execute(stmt).one())
    minute = int(clock.now().timestamp() // 60)
    raw = "|".join(str(p) for p in (*versions, *parts))
    # "<content>.<minute>": a page can tell a real change from the clock moving on.
    return f"{hashlib.sha256(raw.encode()).hexdigest()[:24]}.{minute}"
