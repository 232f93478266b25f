"""Claiming: the first step of the worker (:mod:`advocacy.notify.service.worker`).

One short transaction takes due ``queued`` rows, oldest first (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, so two workers never wait for or take the same
row; on SQLite the conditional UPDATE of a single write transaction).  Each
row becomes ``claimed`` by a token unique to the batch, with a lease, and its
attempt is counted; rows past their ``valid_until`` fail instead ("Call the
victim").  The same transaction reads and renders what each send needs
(:class:`Prepared`); it commits **before** Twilio is called.  Later, before
a slot is reserved, :func:`still_wanted` looks again at the subscriptions of
a batch that has waited.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, select, update

from advocacy import clock
from advocacy.extensions import db, is_postgresql
from advocacy.notify.models import (
    Attention,
    MessageState,
    OutboxMessage,
    SmsSender,
    Subscription,
    SubscriptionState,
)
from advocacy.notify.service.enrol import sender_for
from advocacy.notify.service.outcomes import EVENT_KINDS, requeue_or_fail
from advocacy.notify.service.rate import sender_key
from advocacy.notify.service.render import render_message
from advocacy.notify.transport import MAX_VALIDITY
from advocacy.uow import unit_of_work

DEFAULT_LEASE = timedelta(minutes=5)


def expire_leases(now: datetime) -> int:
    """Claims whose lease ran out (their worker died) become ``unknown``."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.state == MessageState.CLAIMED, OutboxMessage.lease_until < now)
        .values(state=MessageState.UNKNOWN, lease_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def due_statement(now: datetime, limit: int) -> Select[Any]:
    """The claim's query: the oldest due ``queued`` rows.  It reads the partial
    index ``ix_sms_outbox_due`` (queued rows only), so its cost follows the
    rows waiting, never the rows already sent (``bench/dispatch.py`` prints
    its plan)."""
    stmt = (
        select(OutboxMessage.id, OutboxMessage.valid_until)
        .where(OutboxMessage.state == MessageState.QUEUED, OutboxMessage.send_after <= now)
        .order_by(OutboxMessage.send_after, OutboxMessage.id)
        .limit(limit)
    )
    if is_postgresql():
        stmt = stmt.with_for_update(skip_locked=True, of=OutboxMessage)
    return stmt


def _claim_rows(token: str, limit: int, lease: timedelta) -> list[int]:
    """In the caller's transaction: claim up to ``limit`` due rows for ``token``."""
    session = db.session
    now = clock.now()
    expire_leases(now)
    rows = session.execute(due_statement(now, limit)).all()
    late = [r.id for r in rows if r.valid_until <= now]
    due = [r.id for r in rows if r.valid_until > now]
    if late:
        for message in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(late))):
            if message.state == MessageState.QUEUED:
                message.state = MessageState.FAILED
                message.updated_at = now
                if message.kind in EVENT_KINDS:
                    message.attention = Attention.EXPIRED
    if not due:
        return []
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due), OutboxMessage.state == MessageState.QUEUED)
        .values(
            state=MessageState.CLAIMED,
            claimed_by=token,
            claimed_at=now,
            lease_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.claimed_by == token, OutboxMessage.state == MessageState.CLAIMED)
            .order_by(OutboxMessage.id)
        )
    )


def _new_token(worker: str) -> str:
    return f"{worker}:{secrets.token_hex(6)}"[:64]


def claim(worker: str, limit: int, lease: timedelta = DEFAULT_LEASE) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due rows in one committed transaction; returns the
    batch token and the ids claimed.  Rows already past their validity fail."""
    token = _new_token(worker)
    with unit_of_work():
        due = _claim_rows(token, limit, lease)
    return token, due


@dataclass(frozen=True)
class Prepared:
    """One claimed text, rendered and ready to send: everything the sending
    thread needs, so it touches no ORM object outside a transaction."""

    id: int
    #: The claim's batch token: the answer is recorded only while it holds.
    token: str
    to: str
    body: str
    segments: int
    validity: int
    valid_until: datetime
    key: str
    rate: float
    messaging_service_sid: str | None
    from_number: str | None
    #: ``time.monotonic()`` when the subscription was last looked at.
    prepared_at: float = 0.0

    @property
    def cost(self) -> float:
        """Seconds of the sender's rate this text takes."""
        return self.segments / max(self.rate, 0.001)


def _prepare_one(message: OutboxMessage, sender: SmsSender, now: datetime, token: str) -> Prepared | None:
    """What the send needs; a row whose subscription stopped is cancelled
    instead (None).  Raises ValueError when the text cannot be rendered."""
    subscription = message.subscription
    allowed = subscription.live if message.kind == "code" else subscription.state == "confirmed"
    if not allowed:
        message.state = MessageState.CANCELLED
        message.lease_until = None
        message.updated_at = now
        return None
    settings = current_app.config["SETTINGS"]
    rendered = render_message(message, sender)
    seconds = int((message.valid_until - now).total_seconds())
    service = sender.messaging_service_sid or None
    from_number = None if service else (sender.from_number or settings.twilio_from_number or "+15005550006")
    return Prepared(
        id=message.id,
        token=token,
        to=subscription.phone,
        body=rendered.text,
        segments=rendered.info.segments,
        validity=max(1, min(MAX_VALIDITY, seconds)),
        valid_until=message.valid_until,
        key=sender_key(sender),
        rate=sender.rate_per_second,
        messaging_service_sid=service,
        from_number=from_number,
        prepared_at=time.monotonic(),
    )


def claim_and_prepare(worker: str, limit: int, lease: timedelta = DEFAULT_LEASE) -> list[Prepared]:
    """Claim a batch and read what each send needs, in ONE committed
    transaction (the claim is committed before any call to Twilio).  Rows
    whose subscription stopped are cancelled, rows that cannot be rendered go
    back to the queue (or fail), in the same transaction."""
    token = _new_token(worker)
    prepared: list[Prepared] = []
    with unit_of_work() as session:
        ids = _claim_rows(token, limit, lease)
        if not ids:
            return []
        now = clock.now()
        senders: dict[int, SmsSender] = {}
        messages = session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
        )
        for message in messages.unique():
            if message.agency_id not in senders:
                senders[message.agency_id] = sender_for(message.agency_id)
            try:
                item = _prepare_one(message, senders[message.agency_id], now, token)
            except ValueError:
                requeue_or_fail(message, message.valid_until, None, now)
                continue
            if item is not None:
                prepared.append(item)
    return prepared


#: A text claimed longer ago than this (seconds) has its subscription looked
#: at again before its slot is reserved: at a slow rate a batch takes a
#: while to send, and an advocate may end the subscription meanwhile.
RECHECK_AFTER = 2.0


def still_wanted(items: Sequence[Prepared]) -> list[Prepared]:
    """Those of ``items`` whose subscription may still be texted; the others
    are cancelled (still this batch's claim only), in one transaction."""
    if not items:
        return []
    with unit_of_work() as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.kind, Subscription.state)
            .join(Subscription, Subscription.id == OutboxMessage.subscription_id)
            .where(OutboxMessage.id.in_([i.id for i in items]))
        ).all()
        live = {SubscriptionState.PENDING.value, SubscriptionState.CONFIRMED.value}
        ok = {
            r.id
            for r in rows
            if (
                str(r.state) in live
                if r.kind == "code"
                else str(r.state) == SubscriptionState.CONFIRMED.value
            )
        }
        stopped = [i for i in items if i.id not in ok]
        if stopped:
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_([i.id for i in stopped]),
                    OutboxMessage.claimed_by.in_({i.token for i in stopped}),
                    OutboxMessage.state == MessageState.CLAIMED,
                )
                .values(state=MessageState.CANCELLED, lease_until=None, updated_at=clock.now())
                .execution_options(synchronize_session=False)
            )
    return [i for i in items if i.id in ok]


def recheck_stale(items: list[Prepared]) -> list[Prepared]:
    """``items`` as they are if they were prepared a moment ago, else only
    those :func:`still_wanted` keeps (one query for the batch, not per text)."""
    if items and time.monotonic() - min(i.prepared_at for i in items) > RECHECK_AFTER:
        return still_wanted(items)
    return items
