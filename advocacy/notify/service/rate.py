"""A sender's rate, shared by every worker on every machine through one row
of ``sms_send_rate`` per Twilio sender: the moment its next slot begins.

A worker reserves slots for several texts in one atomic update, then each
send waits for its slot; a send that would leave too late for its slot
(:func:`late_tolerance`) reserves again instead, so late wake-ups never
bunch sends into one second.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text

from advocacy import clock
from advocacy.extensions import is_postgresql
from advocacy.notify.models import SmsSender
from advocacy.uow import unit_of_work


def sender_key(sender: SmsSender) -> str:
    """The rate limit is per Twilio sender: a Messaging Service, or a number."""
    return (sender.messaging_service_sid or sender.from_number or f"agency:{sender.agency_id}")[:64]


#: A send that would start later than its slot by more than this (seconds),
#: or by more than 0.9 of a slot when a slot is longer, does not go: it
#: reserves a new slot.  Slots are 1/rate apart, so a send at most one slot
#: late keeps every sliding one-second window to the rate plus one; above
#: 100/s the 10 ms floor lets a window hold at most 1% more (a slot of a
#: few milliseconds cannot be hit on a busy machine).
MIN_LATE_TOLERANCE = 0.01


def late_tolerance(rate_per_second: float) -> float:
    return max(0.9 / max(rate_per_second, 0.001), MIN_LATE_TOLERANCE)


#: A slot never starts sooner than this after the reservation begins: the
#: time to commit it and hand the text to a thread, so that a fresh slot is
#: not already missed when the thread gets it.
SLOT_LEAD = 0.02


def _take(key: str, seconds: float, lead: float = SLOT_LEAD) -> float:
    """Move the sender's next free moment ``seconds`` on from a moment just
    ahead (:data:`SLOT_LEAD`) or from where it was, whichever is later; its
    new value.  One atomic UPDATE in its own committed transaction, so every
    worker on every machine sees it."""
    now = clock.wall_seconds() + lead
    greatest = "GREATEST" if is_postgresql() else "MAX"
    statement = text(
        f"UPDATE sms_send_rate SET next_at = {greatest}(next_at, :now) + :cost "  # noqa: S608
        "WHERE sender_key = :key RETURNING next_at"
    )
    with unit_of_work() as session:
        row = session.execute(statement, {"now": now, "cost": seconds, "key": key}).first()
        if row is None:
            if is_postgresql():
                session.execute(
                    text(
                        "INSERT INTO sms_send_rate (sender_key, next_at) VALUES (:key, 0) ON CONFLICT DO NOTHING"
                    ),
                    {"key": key},
                )
            else:
                session.execute(
                    text("INSERT OR IGNORE INTO sms_send_rate (sender_key, next_at) VALUES (:key, 0)"),
                    {"key": key},
                )
            row = session.execute(statement, {"now": now, "cost": seconds, "key": key}).first()
    assert row is not None
    return float(row[0])


def reserve_slots(key: str, costs: Sequence[float], lead: float = SLOT_LEAD) -> list[float]:
    """Reserve consecutive slots of the sender's rate, one per send, each
    ``cost`` seconds long (segments / rate), in ONE update; the wall-clock
    time (epoch seconds) at which each send may start."""
    end = _take(key, sum(costs), lead)
    starts: list[float] = []
    at = end - sum(costs)
    for cost in costs:
        starts.append(at)
        at += cost
    return starts


def reserve_slot(key: str, segments: int, rate_per_second: float) -> float:
    """One slot of ``segments`` (see :func:`reserve_slots`)."""
    return reserve_slots(key, [segments / max(rate_per_second, 0.001)])[0]
