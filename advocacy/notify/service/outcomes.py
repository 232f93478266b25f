"""What a send result or a status callback does to an outbox row and its
subscription: the error-code paths of MISSION.md 4, in one place.

========================  ====================================================
21610 (opted out)         row failed; subscription opted out; call the victim
21211, 21614, 30005/6     row failed; subscription ended (invalid number)
30003 (unreachable)       sent again once, later (if still in time)
30007 (filtered)          row failed; an advocate reviews (call the victim)
30036 (expired at Twilio) row failed; call the victim
20429, 429, 5xx, no conn  back to the queue with exponential backoff, up to
                          :data:`MAX_ATTEMPTS`, never past ``valid_until``
timeout, broken answer    ``unknown``: reconciled by asking Twilio, never
                          resent blindly
other 4xx                 row failed; call the victim
========================  ====================================================

"Call the victim" is raised only for the texts tied to an event (reminder,
changed, cancelled): a code that does not arrive is seen by the advocate
who is waiting for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from advocacy import clock
from advocacy.actor import Actor
from advocacy.extensions import db
from advocacy.notify.models import (
    Attention,
    EndReason,
    MessageKind,
    MessageState,
    OutboxMessage,
    SmsCallback,
    Subscription,
)
from advocacy.notify.transport import (
    CallbackOutcome,
    Outcome,
    SendResult,
    classify_callback,
    furthest_status,
)

MAX_ATTEMPTS = 5
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
#: 30003 (phone off or out of coverage) is tried once more after this.
UNREACHABLE_RETRY = timedelta(minutes=30)
EVENT_KINDS = frozenset({MessageKind.REMINDER, MessageKind.CHANGED, MessageKind.CANCELLED})
SYSTEM = Actor.system("sms-worker")


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """30 s, 1 min, 2 min... capped at an hour; Twilio's Retry-After when longer."""
    delay = min(BASE_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


def _alert(message: OutboxMessage, why: Attention) -> None:
    if MessageKind(message.kind) in EVENT_KINDS and message.attention is None:
        message.attention = why


def _fail(message: OutboxMessage, why: Attention, error_code: int | None, now: datetime) -> None:
    message.state = MessageState.FAILED
    message.lease_until = None
    message.error_code = error_code
    message.updated_at = now
    _alert(message, why)


def _end(subscription: Subscription, reason: EndReason) -> None:
    from advocacy.notify.service.enrol import end_subscription

    end_subscription(SYSTEM, subscription, reason)


def requeue_or_fail(message: OutboxMessage, at: datetime, error_code: int | None, now: datetime) -> None:
    """Back to the queue for ``at`` when that is still in time; failed otherwise."""
    if message.attempts >= MAX_ATTEMPTS or at >= message.valid_until:
        _fail(message, Attention.UNDELIVERABLE, error_code, now)
        return
    message.state = MessageState.QUEUED
    message.lease_until = None
    message.claimed_by = None
    message.send_after = at
    message.error_code = error_code
    message.updated_at = now


def apply_send_result(
    message: OutboxMessage,
    result: SendResult,
    segments: int,
    callbacks: Iterable[SmsCallback] | None = None,
) -> None:
    """Record what Twilio said to a create.  The caller has checked the row is
    still this worker's claim (or unknown after a lease ran out: a late
    answer still tells the truth).  ``callbacks``: the status callbacks
    already stored for the SID, when the caller read them for many rows at
    once (they are looked up otherwise)."""
    now = clock.now()
    outcome = result.outcome
    message.segments = segments
    if outcome is Outcome.SENT:
        message.state = MessageState.SENT
        message.lease_until = None
        message.provider_sid = result.sid
        message.provider_status = result.status
        message.sent_at = now
        message.updated_at = now
        if callbacks is None:
            db.session.flush()
            callbacks = db.session.scalars(
                select(SmsCallback).where(SmsCallback.message_sid == result.sid).order_by(SmsCallback.id)
            )
        # A callback may have come before this answer was recorded.
        for callback in callbacks:
            apply_status(message, callback.status, callback.error_code)
        return
    if outcome is Outcome.OPTED_OUT:
        _fail(message, Attention.OPTED_OUT, result.error_code, now)
        _end(message.subscription, EndReason.OPTED_OUT)
    elif outcome is Outcome.INVALID_NUMBER:
        _fail(message, Attention.INVALID_NUMBER, result.error_code, now)
        _end(message.subscription, EndReason.INVALID_NUMBER)
    elif outcome.retry:
        requeue_or_fail(message, now + backoff(message.attempts, result.retry_after), result.error_code, now)
    elif outcome is Outcome.UNKNOWN:
        message.state = MessageState.UNKNOWN
        message.lease_until = None
        message.updated_at = now
    else:
        _fail(message, Attention.UNDELIVERABLE, result.error_code, now)
    db.session.flush()


_TWILIO_TO_STATE = {
    "delivered": MessageState.DELIVERED,
    "read": MessageState.DELIVERED,
}


def apply_status(message: OutboxMessage, status: str, error_code: int | None) -> None:
    """A status Twilio reported for the row's message: keep the furthest, and
    act on a failure's code.  Never moves the row backwards, except the one
    retry of 30003 (the message did not arrive; a new one is sent)."""
    kept = furthest_status(message.provider_status, status)
    if kept == message.provider_status and status != message.provider_status:
        return  # an older status arriving late
    message.provider_status = kept
    now = clock.now()
    if MessageState(message.state) in (MessageState.CANCELLED, MessageState.FAILED, MessageState.DELIVERED):
        return
    if status in _TWILIO_TO_STATE:
        message.state = _TWILIO_TO_STATE[status]
        message.lease_until = None
        message.updated_at = now
    elif status in ("undelivered", "failed"):
        outcome = classify_callback(error_code)
        if outcome is CallbackOutcome.RETRY_LATER and message.attempts < 2:
            requeue_or_fail(message, now + UNREACHABLE_RETRY, error_code, now)
            message.provider_sid = None
            message.provider_status = None
        elif outcome is CallbackOutcome.OPTED_OUT:
            _fail(message, Attention.OPTED_OUT, error_code, now)
            _end(message.subscription, EndReason.OPTED_OUT)
        elif outcome is CallbackOutcome.INVALID_NUMBER:
            _fail(message, Attention.INVALID_NUMBER, error_code, now)
            _end(message.subscription, EndReason.INVALID_NUMBER)
        elif outcome is CallbackOutcome.FILTERED:
            _fail(message, Attention.FILTERED, error_code, now)
        elif outcome is CallbackOutcome.EXPIRED:
            _fail(message, Attention.EXPIRED, error_code, now)
        else:
            _fail(message, Attention.UNDELIVERABLE, error_code, now)
    elif MessageState(message.state) in (MessageState.CLAIMED, MessageState.UNKNOWN, MessageState.QUEUED):
        # "queued"/"sent" at Twilio: it has the message.
        message.state = MessageState.SENT
        message.lease_until = None
        message.updated_at = now
    db.session.flush()


def record_callback(message_sid: str, status: str, error_code: int | None) -> bool:
    """Apply one status callback; False when this (sid, status) was seen before
    (a replay changes nothing).  Unknown SIDs are kept for when the worker
    records the SID (the callback raced the worker's commit)."""
    seen = db.session.scalar(
        select(SmsCallback.id).where(SmsCallback.message_sid == message_sid, SmsCallback.status == status)
    )
    if seen is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(
                SmsCallback(
                    message_sid=message_sid, status=status, error_code=error_code, received_at=clock.now()
                )
            )
    except IntegrityError:
        return False  # the same callback, delivered twice at once
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.provider_sid == message_sid).with_for_update()
    )
    if message is not None:
        apply_status(message, status, error_code)
    return True
