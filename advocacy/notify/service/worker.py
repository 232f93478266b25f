"""The worker: claims due rows, sends them, records what happened.

Any number of workers, in any number of processes on any number of machines,
share the outbox table and nothing else:

1. **Claim** (one short transaction): due ``queued`` rows, oldest first,
   ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (two workers never wait for or
   take the same row); on SQLite the conditional UPDATE of a single write
   transaction.  Each row becomes ``claimed`` by a token unique to this
   batch, with a lease, and its attempt is counted.  Rows past their
   ``valid_until`` fail instead ("Call the victim").  Committed **before**
   Twilio is called.
2. **Send**, outside any transaction: the text is rendered in the victim's
   language, a slot is reserved in the sender's rate (:func:`reserve_slot`,
   one atomic UPDATE shared by every worker), then one API call with the
   status callback URL and a ValidityPeriod ending at ``valid_until``.
3. **Record** (one short transaction): only if the row is still this
   batch's claim (or became ``unknown`` when the lease ran out): the SID,
   or the error path of :mod:`advocacy.notify.service.outcomes`.

On a crash: before 1 commits, nothing happened; between 1 and the API call,
the row stays ``claimed`` until its lease ends, then becomes ``unknown``;
between the call and 3, the same, and the reconciler finds the message in
Twilio's Messages list (``sent``) or not (queued again: Twilio does not have
it).  A row is never sent twice because only a row Twilio provably lacks is
queued again.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, url_for
from sqlalchemy import Select, func, select, text, update

from advocacy import clock
from advocacy.extensions import db, is_postgresql
from advocacy.notify.models import Attention, MessageState, OutboxMessage, SmsSender
from advocacy.notify.service.enrol import sender_for
from advocacy.notify.service.outcomes import EVENT_KINDS, apply_send_result, apply_status, requeue_or_fail
from advocacy.notify.service.render import render_message
from advocacy.notify.transport import MAX_VALIDITY, Outcome, Sender, SendResult
from advocacy.uow import unit_of_work

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(minutes=5)
#: Rows whose claim is older than this are reconciled (the clocks' skew, and
#: time for Twilio's list to show a message just created).
RECONCILE_AFTER = timedelta(seconds=60)


def sender_key(sender: SmsSender) -> str:
    """The rate limit is per Twilio sender: a Messaging Service, or a number."""
    return (sender.messaging_service_sid or sender.from_number or f"agency:{sender.agency_id}")[:64]


def reserve_slot(key: str, segments: int, rate_per_second: float) -> float:
    """Reserve ``segments`` of the sender's rate; returns the wall-clock time
    (epoch seconds) at which this send may start.  One atomic UPDATE, in its
    own committed transaction, so every worker on every machine sees it."""
    cost = segments / max(rate_per_second, 0.001)
    now = clock.wall_seconds()
    greatest = "GREATEST" if is_postgresql() else "MAX"
    with unit_of_work() as session:
        row = session.execute(
            text(
                f"UPDATE sms_send_rate SET next_at = {greatest}(next_at, :now) + :cost "  # noqa: S608
                "WHERE sender_key = :key RETURNING next_at"
            ),
            {"now": now, "cost": cost, "key": key},
        ).first()
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
            row = session.execute(
                text(
                    f"UPDATE sms_send_rate SET next_at = {greatest}(next_at, :now) + :cost "  # noqa: S608
                    "WHERE sender_key = :key RETURNING next_at"
                ),
                {"now": now, "cost": cost, "key": key},
            ).first()
    assert row is not None
    return float(row[0]) - cost


@dataclass
class Stats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    reconciled: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


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


def claim(worker: str, limit: int, lease: timedelta = DEFAULT_LEASE) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due rows in one committed transaction; returns the
    batch token and the ids claimed.  Rows already past their validity fail."""
    token = f"{worker}:{secrets.token_hex(6)}"[:64]
    with unit_of_work() as session:
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
        if due:
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
            due = list(
                session.scalars(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.claimed_by == token, OutboxMessage.state == MessageState.CLAIMED)
                    .order_by(OutboxMessage.id)
                )
            )
    return token, due


@dataclass(frozen=True)
class _Prepared:
    id: int
    to: str
    body: str
    segments: int
    validity: int
    valid_until: datetime
    key: str
    rate: float
    messaging_service_sid: str | None
    from_number: str | None


def _prepare(message_id: int, token: str) -> _Prepared | None:
    """Read what the send needs, in a short transaction of its own; a row whose
    subscription stopped meanwhile is cancelled instead."""
    settings = current_app.config["SETTINGS"]
    with unit_of_work() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None or message.claimed_by != token or message.state != MessageState.CLAIMED:
            return None
        subscription = message.subscription
        allowed = subscription.live if message.kind == "code" else subscription.state == "confirmed"
        now = clock.now()
        if not allowed:
            message.state = MessageState.CANCELLED
            message.lease_until = None
            message.updated_at = now
            return None
        sender = sender_for(message.agency_id)
        rendered = render_message(message, sender)
        seconds = int((message.valid_until - now).total_seconds())
        service = sender.messaging_service_sid or None
        from_number = (
            None if service else (sender.from_number or settings.twilio_from_number or "+15005550006")
        )
        return _Prepared(
            id=message.id,
            to=subscription.phone,
            body=rendered.text,
            segments=rendered.info.segments,
            validity=max(1, min(MAX_VALIDITY, seconds)),
            valid_until=message.valid_until,
            key=sender_key(sender),
            rate=sender.rate_per_second,
            messaging_service_sid=service,
            from_number=from_number,
        )


def _record(prepared: _Prepared, token: str, result: SendResult, *, simulate_delivery: bool) -> None:
    with unit_of_work() as session:
        message = session.scalar(
            select(OutboxMessage).where(OutboxMessage.id == prepared.id).with_for_update()
        )
        if message is None:
            return
        mine = message.claimed_by == token and message.state in (MessageState.CLAIMED, MessageState.UNKNOWN)
        if not mine:
            log.warning("sms send result for a row no longer claimed", extra={"action": "sms.late_result"})
            return
        apply_send_result(message, result, prepared.segments)
        if simulate_delivery and result.outcome is Outcome.SENT:
            apply_status(message, "delivered", None)


class Worker:
    """One worker thread's loop.  ``make_sender`` is called in the thread
    that sends (a Twilio client is not thread-safe: one per thread)."""

    def __init__(
        self,
        app: Flask,
        make_sender: Callable[[], Sender],
        *,
        name: str = "worker",
        batch_size: int = 20,
        lease: timedelta = DEFAULT_LEASE,
        simulate_delivery: bool = False,
    ) -> None:
        self.app = app
        self.make_sender = make_sender
        self.name = name
        self.batch_size = batch_size
        self.lease = lease
        self.simulate_delivery = simulate_delivery
        self.stats = Stats()
        self._sender: Sender | None = None

    @property
    def sender(self) -> Sender:
        if self._sender is None:
            self._sender = self.make_sender()
        return self._sender

    def status_callback_url(self) -> str:
        base = self.app.config["SETTINGS"].public_base_url
        with self.app.test_request_context():
            return base.rstrip("/") + url_for("notify.twilio_status")

    def run_batch(self) -> int:
        """Claim one batch and send it; how many rows were claimed."""
        with self.app.app_context():
            token, ids = claim(self.name, self.batch_size, self.lease)
            self.stats.claimed += len(ids)
            callback = self.status_callback_url()
            for message_id in ids:
                self._send_one(message_id, token, callback)
            db.session.remove()
        return len(ids)

    def _send_one(self, message_id: int, token: str, callback: str) -> None:
        try:
            prepared = _prepare(message_id, token)
        except ValueError:
            with unit_of_work() as session:
                message = session.get(OutboxMessage, message_id)
                if message is not None and message.claimed_by == token:
                    requeue_or_fail(message, message.valid_until, None, clock.now())
            return
        if prepared is None:
            return
        start = reserve_slot(prepared.key, prepared.segments, prepared.rate)
        wait = start - clock.wall_seconds()
        if wait > 0:
            time.sleep(wait)
        result = self.sender.send(
            prepared.to,
            prepared.body,
            status_callback=callback,
            validity_seconds=prepared.validity,
            messaging_service_sid=prepared.messaging_service_sid,
            from_number=prepared.from_number,
        )
        self.stats.outcomes[result.outcome.value] = self.stats.outcomes.get(result.outcome.value, 0) + 1
        if result.outcome is Outcome.SENT:
            self.stats.sent += 1
        elif result.outcome.retry:
            self.stats.retried += 1
        elif result.outcome is Outcome.UNKNOWN:
            self.stats.unknown += 1
        else:
            self.stats.failed += 1
        _record(prepared, token, result, simulate_delivery=self.simulate_delivery)

    def run_until_idle(self, max_batches: int = 10_000) -> Stats:
        """Send everything due now (``--once``)."""
        for _i in range(max_batches):
            if not self.run_batch():
                break
        return self.stats


def run_workers(workers: list[Worker]) -> list[Stats]:
    """Run several workers in threads until nothing is due; their stats."""
    threads = [threading.Thread(target=w.run_until_idle, name=w.name) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [w.stats for w in workers]


def due_count() -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.state == MessageState.QUEUED, OutboxMessage.send_after <= clock.now())
        )
        or 0
    )


# --- Reconciliation ------------------------------------------------------------------------


def reconcile_unknown(client: Any | None, limit: int = 100) -> int:
    """Resolve ``unknown`` rows by asking Twilio, never by sending again.

    For each row whose claim is older than :data:`RECONCILE_AFTER`: a message
    to that number with the same words since the claim means it was sent
    (the SID is kept); none means Twilio does not have it, so it is queued
    again if still in time.  Without a Twilio client (the console backend)
    nothing can be asked: the row stays unknown and, for a reminder, the
    advocate is asked to call.  Returns how many rows were resolved.
    """
    from advocacy.notify.transport import reconcile

    resolved = 0
    with unit_of_work() as session:
        now = clock.now()
        expire_leases(now)
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.state == MessageState.UNKNOWN)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if is_postgresql():
            stmt = stmt.with_for_update(skip_locked=True, of=OutboxMessage)
        for message in session.scalars(stmt):
            if message.claimed_at is None or now - message.claimed_at < RECONCILE_AFTER:
                continue
            if client is None:
                if message.kind in EVENT_KINDS and message.attention is None:
                    message.attention = Attention.UNKNOWN
                message.checked_at = now
                continue
            sender = sender_for(message.agency_id)
            try:
                body = render_message(message, sender).text
                found = reconcile(
                    client,
                    message.subscription.phone,
                    message.claimed_at,
                    messaging_service_sid=sender.messaging_service_sid or None,
                    from_number=None if sender.messaging_service_sid else sender.from_number or None,
                )
            except Exception:  # noqa: BLE001 - Twilio unreachable: try again next time
                log.warning("sms reconcile failed", extra={"action": "sms.reconcile_failed"})
                message.checked_at = now
                continue
            match = next((m for m in found if m.body == body), None)
            if match is not None:
                message.state = MessageState.SENT
                message.provider_sid = match.sid
                message.provider_status = match.status
                message.sent_at = match.date_created or now
                message.updated_at = now
                session.flush()
                if match.status:
                    apply_status(message, match.status, match.error_code)
            else:
                requeue_or_fail(message, now, None, now)
            resolved += 1
    return resolved
