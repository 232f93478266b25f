"""The app's one clock.

Every service and every model default reads the time through :func:`now`.
An app normally runs on :class:`SystemClock`; tests install a
:class:`FrozenClock` and move it, and the demo replays five weeks of
history by setting it, so nothing ever monkeypatches a module's ``utcnow``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol

from flask import current_app, has_app_context

EXTENSION_KEY = "advocacy.clock"


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until it is set or moved (tests, the demo)."""

    def __init__(self, at: datetime | None = None) -> None:
        self._at = at or datetime.now(UTC)
        if self._at.tzinfo is None:
            raise ValueError("a clock keeps aware datetimes")

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a clock keeps aware datetimes")
        self._at = at

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        self._at = self._at + (delta or timedelta(**parts))
        return self._at


SYSTEM = SystemClock()


def current() -> Clock:
    """The clock of the app in context (the system clock outside one)."""
    if has_app_context():
        clock = current_app.extensions.get(EXTENSION_KEY)
        if clock is not None:
            return clock  # type: ignore[no-any-return]
    return SYSTEM


def now() -> datetime:
    """The current time, aware, in UTC."""
    return current().now()


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Run the app in context on ``clock`` for a while, then on its own again."""
    previous = current_app.extensions.get(EXTENSION_KEY)
    current_app.extensions[EXTENSION_KEY] = clock
    try:
        yield clock
    finally:
        if previous is None:
            current_app.extensions.pop(EXTENSION_KEY, None)
        else:
            current_app.extensions[EXTENSION_KEY] = previous


def wall_seconds() -> float:
    """Real seconds since the epoch, whatever clock the app runs on: for what
    is physical rather than a rule of the app (a sender's rate per second,
    shared by every worker on every machine)."""
    import time

    return time.time()
