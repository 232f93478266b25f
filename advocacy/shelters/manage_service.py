"""What the management pages need beyond :mod:`advocacy.shelters.service`:
creating a shelter or a room with its beds in one transaction, the
availability history in words, and occupancy as a CSV file.

The bed rules themselves (states, events, locks) stay in ``service``; these
functions only call it, read the append-only history, and commit.
"""

from __future__ import annotations

import csv
import io
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from advocacy.auth.models import Membership, User
from advocacy.extensions import db
from advocacy.shelters import service
from advocacy.shelters.models import AvailabilityEvent, Bed, BedType, Room, RoomType, Shelter
from advocacy.shelters.service import OccupancyPoint, Refused

#: Beds of a room are lettered A to Z after the room ("Room 1-A").
MAX_BEDS_PER_ROOM = len(string.ascii_uppercase)
#: A bed label is at most 40 characters: the room's label, a dash and a letter must fit.
MAX_ROOM_LABEL = 36
HISTORY_PAGE_SIZE = 100

#: The history's actions in plain words.  A code missing here is shown as it is
#: stored, so a new action never breaks the page (but should be added here).
ACTION_LABELS: dict[str, Any] = {
    "bed.added": _l("Bed added"),
    "bed.out_of_service": _l("Taken out of service"),
    "bed.back_in_service": _l("Back in service"),
    "hold.placed": _l("Hold placed"),
    "hold.extended": _l("Hold extended"),
    "hold.released": _l("Hold released"),
    "hold.expired": _l("Hold expired"),
    "stay.checked_in": _l("Household checked in"),
    "stay.checked_out": _l("Household checked out"),
    "referral.declined": _l("Referral declined"),
    "referral.cancelled": _l("Referral cancelled by the referring agency"),
}


class FieldRefused(Refused):
    """A refusal that belongs next to one field of the form (``field`` names it)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


# --- shelters and rooms ------------------------------------------------------------------


def create_shelter(agency_id: int, values: dict[str, Any]) -> Shelter:
    """A new shelter, committed; :class:`Refused` (nothing saved) when its
    network label or region gives away its name or address."""
    try:
        shelter = service.add_shelter(agency_id, **values)
    except Refused:
        db.session.rollback()
        raise
    db.session.commit()
    return shelter


def bed_labels(room_label: str, counts: Sequence[tuple[BedType, int]]) -> list[tuple[str, BedType]]:
    """Labels for a new room's beds: "<room>-A", "<room>-B"..., adult beds first,
    then child beds, then cribs, so staff can find a bed by its letter."""
    types = [bed_type for bed_type, count in counts for _n in range(count)]
    if len(types) > MAX_BEDS_PER_ROOM:
        raise FieldRefused(_("A room has at most 26 beds. Add another room for more."), "adult_beds")
    return [(f"{room_label}-{letter}", t) for letter, t in zip(string.ascii_uppercase, types, strict=False)]


def add_room_with_beds(
    shelter: Shelter,
    label: str,
    *,
    room_type: RoomType,
    accessible: bool,
    pets_allowed: bool,
    adult_beds: int,
    child_beds: int,
    cribs: int,
    actor_id: int | None,
) -> Room:
    """A room and its lettered beds, committed together (each bed's first event
    says it became available), or :class:`FieldRefused` with nothing saved."""
    label = " ".join(label.split())
    if not label or len(label) > MAX_ROOM_LABEL:
        raise FieldRefused(_("Enter a room label of at most 36 characters."), "label")
    if adult_beds + child_beds + cribs < 1:
        raise FieldRefused(_("A room needs at least one bed or crib."), "adult_beds")
    beds = bed_labels(
        label, [(BedType.ADULT, adult_beds), (BedType.CHILD, child_beds), (BedType.CRIB, cribs)]
    )
    taken = db.session.scalar(
        select(Room.id).where(Room.shelter_id == shelter.id, func.lower(Room.label) == label.lower())
    )
    if taken is not None:
        raise FieldRefused(
            _("This shelter already has a room with this label. Choose another label."), "label"
        )
    room = service.add_room(
        shelter,
        label,
        room_type=room_type,
        accessible=accessible,
        pets_allowed=pets_allowed,
        beds=beds,
        actor_id=actor_id,
    )
    db.session.commit()
    return room


# --- availability history ------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    id: int
    occurred_at: datetime
    bed_label: str
    room_label: str
    action: str
    from_state: str | None
    to_state: str
    reason: str | None
    #: None: the app itself (a hold that expired).
    actor_id: int | None
    #: The colleague's name; None for the app itself or someone of another agency.
    actor_name: str | None

    @property
    def automatic(self) -> bool:
        return self.actor_id is None


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    #: The cursor of the next (older) page, None on the last page.
    next_before: int | None


def history(shelter: Shelter, *, before: int | None = None, size: int = HISTORY_PAGE_SIZE) -> HistoryPage:
    """One page of the shelter's bed events, newest first.

    Ordered by when the change happened, then by id: an expired hold's events
    are written when the expiry is noticed but carry the hold's own expiry
    time.  The cursor is an event id; the page after it starts below that
    event's (time, id), read through the (shelter_id, occurred_at) index.
    Three queries whatever the page size: the cursor, the events with their
    bed and room labels, and the names of the people who made them.
    """
    stmt = (
        select(
            AvailabilityEvent.id,
            AvailabilityEvent.occurred_at,
            AvailabilityEvent.action,
            AvailabilityEvent.from_state,
            AvailabilityEvent.to_state,
            AvailabilityEvent.reason,
            AvailabilityEvent.actor_id,
            Bed.label.label("bed_label"),
            Room.label.label("room_label"),
        )
        .join(Bed, Bed.id == AvailabilityEvent.bed_id)
        .join(Room, Room.id == Bed.room_id)
        .where(AvailabilityEvent.shelter_id == shelter.id)
        .order_by(AvailabilityEvent.occurred_at.desc(), AvailabilityEvent.id.desc())
        .limit(size + 1)
    )
    if before is not None:
        cursor = db.session.scalar(
            select(AvailabilityEvent.occurred_at).where(
                AvailabilityEvent.id == before, AvailabilityEvent.shelter_id == shelter.id
            )
        )
        if cursor is None:
            return HistoryPage(rows=[], next_before=None)
        stmt = stmt.where(
            or_(
                AvailabilityEvent.occurred_at < cursor,
                and_(AvailabilityEvent.occurred_at == cursor, AvailabilityEvent.id < before),
            )
        )
    events = db.session.execute(stmt).all()
    more = len(events) > size
    events = events[:size]
    names = colleague_names(shelter.agency_id, (e.actor_id for e in events if e.actor_id is not None))
    rows = [
        HistoryRow(
            id=e.id,
            occurred_at=e.occurred_at,
            bed_label=e.bed_label,
            room_label=e.room_label,
            action=e.action,
            from_state=e.from_state,
            to_state=e.to_state,
            reason=e.reason,
            actor_id=e.actor_id,
            actor_name=names.get(e.actor_id) if e.actor_id is not None else None,
        )
        for e in events
    ]
    return HistoryPage(rows=rows, next_before=rows[-1].id if more else None)


def colleague_names(agency_id: int, user_ids: Iterable[int]) -> dict[int, str]:
    """Names of the people among ``user_ids`` who belong to the agency, in one query.

    An advocate of another agency who asked for a hold is left out: the
    shelter's agency learns a referral's token and household, not who made it.
    """
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    members = select(Membership.user_id).where(Membership.agency_id == agency_id)
    return dict(
        db.session.execute(
            select(User.id, User.display_name).where(User.id.in_(ids), User.id.in_(members))
        ).all()
    )


# --- occupancy as a file --------------------------------------------------------------------

#: Characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell that a spreadsheet shows as text, never runs as a formula (OWASP: CSV injection)."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def occupancy_csv(points: Sequence[OccupancyPoint]) -> str:
    """The occupancy series as CSV, one row per day.

    The header row and the values are in English and machine form (ISO dates,
    a rate with a dot) whatever the page's language: the file is for
    spreadsheets and other tools, which read one format, not for reading aloud.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["date", "occupied", "in_service", "occupancy_rate"])
    for p in points:
        writer.writerow(
            [safe_cell(v) for v in (p.day.isoformat(), p.occupied, p.in_service, f"{p.rate:.3f}")]
        )
    return out.getvalue()
