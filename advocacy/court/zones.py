"""Times entered and shown in a court's time zone, stored as UTC.

The one subtle part is daylight saving time: on the spring night a wall
time such as 2:30 does not exist, and on the autumn night 1:30 happens
twice.  A time that does not exist is refused (the advocate is told why);
a time that happens twice is taken as its first occurrence (daylight time),
which is how a court's own calendar reads it.  Hearings are not held at
those hours, so both are almost always typos, but neither may be silently
shifted by an hour.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class NonexistentTime(ValueError):
    """The wall time falls in the hour skipped when clocks move forward."""


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_zone(name: str) -> bool:
    """Whether ``name`` is an IANA zone name ("America/Chicago"), not an abbreviation."""
    if name not in _zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_utc(day: date, at: time, zone_name: str) -> datetime:
    """The UTC instant of ``day`` at ``at`` on the court's wall clock."""
    tz = ZoneInfo(zone_name)
    wall = datetime.combine(day, at).replace(tzinfo=tz, fold=0)
    instant = wall.astimezone(UTC)
    back = instant.astimezone(tz)
    if (back.date(), back.time()) != (day, at.replace(tzinfo=None)):
        raise NonexistentTime(f"{day} {at} does not exist in {zone_name}")
    return instant


def local(instant: datetime, zone_name: str) -> datetime:
    """The instant on the court's wall clock (aware, in the court's zone)."""
    return instant.astimezone(ZoneInfo(zone_name))
