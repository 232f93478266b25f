"""What happened to a shelter's beds: the availability history in words, and
occupancy over time (a series for the chart, and CSV).

Both read the append-only :class:`AvailabilityEvent` table only; nothing here
writes.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case, func, or_, select

from advocacy import clock
from advocacy.auth.models import Membership, User
from advocacy.extensions import db
from advocacy.shelters import machines
from advocacy.shelters.models import AvailabilityEvent, Bed, BedState, Room, Shelter

HISTORY_PAGE_SIZE = 100


def action_label(code: str) -> str:
    """An event's action in plain words (from the bed machine's table)."""
    return machines.BED.label(code)


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


# --- occupancy over time ---------------------------------------------------------------------


@dataclass(frozen=True)
class OccupancyPoint:
    day: date
    occupied: int
    in_service: int

    @property
    def rate(self) -> float:
        return self.occupied / self.in_service if self.in_service else 0.0


def occupancy(shelter: Shelter, days: int = 30) -> list[OccupancyPoint]:
    """Occupied and in-service beds at the end of each day, from the event history.

    Each event moves a bed from one state to another, so the number of
    occupied beds at a moment is the count of events into "occupied" minus
    the count out of it up to then; the same for beds in service.  One grouped
    query per shelter and range, whatever the length of the history.
    """
    # Days are the agency's days: a check-in at 8 pm in Duluth counts on that
    # day, not on the next UTC one.
    zone = ZoneInfo(current_app.config["SETTINGS"].default_timezone)
    today = clock.now().astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)

    occupied_delta = case((AvailabilityEvent.to_state == BedState.OCCUPIED.value, 1), else_=0) - case(
        (AvailabilityEvent.from_state == BedState.OCCUPIED.value, 1), else_=0
    )
    in_service_delta = case(
        (
            and_(
                AvailabilityEvent.to_state != BedState.OUT_OF_SERVICE.value,
                func.coalesce(AvailabilityEvent.from_state, BedState.OUT_OF_SERVICE.value)
                == BedState.OUT_OF_SERVICE.value,
            ),
            1,
        ),
        else_=0,
    ) - case(
        (
            and_(
                AvailabilityEvent.to_state == BedState.OUT_OF_SERVICE.value,
                AvailabilityEvent.from_state.is_not(None),
                AvailabilityEvent.from_state != BedState.OUT_OF_SERVICE.value,
            ),
            1,
        ),
        else_=0,
    )
    base = db.session.execute(
        select(
            func.coalesce(func.sum(occupied_delta), 0), func.coalesce(func.sum(in_service_delta), 0)
        ).where(AvailabilityEvent.shelter_id == shelter.id, AvailabilityEvent.occurred_at < start)
    ).one()
    events = db.session.execute(
        select(AvailabilityEvent.occurred_at, occupied_delta.label("occ"), in_service_delta.label("svc"))
        .where(AvailabilityEvent.shelter_id == shelter.id, AvailabilityEvent.occurred_at >= start)
        .order_by(AvailabilityEvent.occurred_at)
    ).all()
    by_day: dict[date, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for event in events:
        day = event.occurred_at.astimezone(zone).date()
        occ, svc = by_day[day]
        by_day[day] = (occ + event.occ, svc + event.svc)
    occupied, in_service = int(base[0]), int(base[1])
    points = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        occ, svc = by_day.get(day, (0, 0))
        occupied += occ
        in_service += svc
        points.append(OccupancyPoint(day=day, occupied=occupied, in_service=in_service))
    return points


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
