"""When the reminders of a court event go out: a pure function of the event,
the agency's schedule and the time it is planned.

A schedule is a short text of offsets before the event, as an agency admin
types it: ``7d 1d 08:00`` is seven days before and one day before (at the
hearing's time of day, in the court's zone, so a change of daylight saving
time in between does not move it by an hour), and 08:00 on the morning of
the hearing.  ``2h`` is two hours before, counted in real time.

Nothing here reads the clock or the database: :func:`plan` is given ``now``,
which keeps every edge (a reminder already due when planned, a hearing at
7:30 with its "morning of" at 8:00, a DST night) testable in one line.
Quiet hours are the outbox's business (they depend on the subscription's
zone, not the court's); the outbox also never sends a message past its
``valid_until``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

#: The default schedule: seven days, one day and the morning of (08:00).
DEFAULT_SCHEDULE = "7d 1d 08:00"
#: Added for a case screened in as high danger: three days and two hours before.
DEFAULT_DENSER = "3d 2h"

#: A reminder must arrive this long before the hearing to be of use; the
#: message's validity ends then (the outbox turns it into Twilio's ValidityPeriod).
ARRIVE_BY = timedelta(minutes=30)

MAX_DAYS = 30
MAX_HOURS = 72

_TOKEN = re.compile(r"(?:(?P<days>\d{1,2})d|(?P<hours>\d{1,2})h|(?P<clock>\d{1,2}):(?P<minute>\d{2}))")


class ScheduleError(ValueError):
    """A schedule text that cannot be read; ``token`` is the part at fault."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


@dataclass(frozen=True, order=True)
class Offset:
    """One reminder of a schedule.  ``kind`` names it in the outbox, where a
    reminder is unique per (event, kind, subscription)."""

    days: int = 0
    hours: int = 0
    morning: time | None = None

    @property
    def kind(self) -> str:
        if self.morning is not None:
            return "reminder_morning"
        if self.days:
            return f"reminder_{self.days}d"
        return f"reminder_{self.hours}h"

    @property
    def text(self) -> str:
        if self.morning is not None:
            return self.morning.strftime("%H:%M")
        return f"{self.days}d" if self.days else f"{self.hours}h"

    def send_at(self, starts_at: datetime, zone: ZoneInfo) -> datetime:
        """When this reminder is due for an event starting at ``starts_at`` (aware)."""
        local = starts_at.astimezone(zone)
        if self.morning is not None:
            wall = datetime.combine(local.date(), self.morning)
        elif self.days:
            wall = datetime.combine(local.date() - timedelta(days=self.days), local.time())
        else:
            return starts_at - timedelta(hours=self.hours)
        # A wall time that does not exist (the hour skipped in spring) is read
        # as the same offset as the hour before, which lands just after the gap.
        return wall.replace(tzinfo=zone).astimezone(starts_at.tzinfo)


def parse_schedule(text: str) -> tuple[Offset, ...]:
    """The offsets of a schedule text, one per kind, earliest first; ScheduleError otherwise."""
    offsets: dict[str, Offset] = {}
    for token in text.replace(",", " ").split():
        match = _TOKEN.fullmatch(token.strip().lower())
        if match is None:
            raise ScheduleError(token)
        if match["days"] is not None:
            days = int(match["days"])
            if not 1 <= days <= MAX_DAYS:
                raise ScheduleError(token)
            offset = Offset(days=days)
        elif match["hours"] is not None:
            hours = int(match["hours"])
            if not 1 <= hours <= MAX_HOURS:
                raise ScheduleError(token)
            offset = Offset(hours=hours)
        else:
            hour, minute = int(match["clock"]), int(match["minute"])
            if hour > 23 or minute > 59:
                raise ScheduleError(token)
            offset = Offset(morning=time(hour, minute))
        offsets.setdefault(offset.kind, offset)
    return tuple(offsets.values())


def schedule_text(offsets: tuple[Offset, ...]) -> str:
    return " ".join(o.text for o in offsets)


@dataclass(frozen=True)
class Planned:
    """One reminder to queue: its kind, when it may go, and until when it may still arrive."""

    kind: str
    send_after: datetime
    valid_until: datetime


def schedule_for(standard: tuple[Offset, ...], denser: tuple[Offset, ...], dense: bool) -> tuple[Offset, ...]:
    """The offsets an event uses: the standard ones, plus the denser ones for a high-danger case."""
    if not dense:
        return standard
    merged = {o.kind: o for o in standard}
    for offset in denser:
        merged.setdefault(offset.kind, offset)
    return tuple(merged.values())


def plan(starts_at: datetime, zone: ZoneInfo, offsets: tuple[Offset, ...], now: datetime) -> list[Planned]:
    """The reminders of an event starting at ``starts_at``, planned at ``now``, in time order.

    A reminder whose time has already passed is left out, not sent late: a
    "7 days before" for a hearing entered 3 days ahead would only confuse.
    A reminder due at or after the time it would stop being useful (a
    "morning of" at 8:00 for a hearing at 7:30) is left out too.
    """
    if starts_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("plan with aware datetimes")
    valid_until = starts_at - ARRIVE_BY
    planned = []
    for offset in offsets:
        send_after = offset.send_at(starts_at, zone)
        if send_after < now or send_after >= valid_until:
            continue
        planned.append(Planned(offset.kind, send_after, valid_until))
    return sorted(planned, key=lambda p: (p.send_after, p.kind))
