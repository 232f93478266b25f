"""Pushing released records to partners: the outbox worker behind ``flask handoff deliver``.

Each :class:`~advocacy.handoff.models.Delivery` is worked on its own: the
worker checks again, at every attempt, that the record may still leave (not
withheld, its consent not revoked, the partner's endpoint not gone), runs the
location guard again on the stored bytes, checks the push URL again and
connects to the address that check resolved (DNS rebinding), signs with
every valid secret (Standard Webhooks) and POSTs.  A 2xx delivers; a 410
disables the partner's endpoint; anything else is retried after
:data:`BACKOFF` (about three days in all), then given up.

The ``webhook-id`` is the delivery's ``message_id``, the same on every
retry: a worker that crashes after sending and before committing sends
again, and the partner drops the duplicate.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update

from advocacy import clock
from advocacy.actor import Actor
from advocacy.audit.service import record as audit
from advocacy.errors import Refused
from advocacy.extensions import db, is_postgresql
from advocacy.handoff import webhooks
from advocacy.handoff.guard import hits_in_record
from advocacy.handoff.models import Delivery, DeliveryState, HandoffRecord, RecordState
from advocacy.handoff.serialize import FREE_TEXT
from advocacy.handoff.service.partners import signing_secrets
from advocacy.handoff.service.records import known_places

#: The wait after each failed attempt: 1 min, 5 min, 30 min, 2 h, 6 h, then twice a day, ~3 days in all.
BACKOFF = tuple(timedelta(minutes=m) for m in (1, 5, 30, 120, 360, 720, 720, 720, 720, 720, 720))
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Request:
    """One attempt as the transport sends it: connect to ``address``, send ``host`` for TLS and Host."""

    url: str
    host: str
    port: int
    address: str
    headers: dict[str, str]
    body: bytes


#: Sends a request; the HTTP status, or OSError when no answer came.
Transport = Callable[[Request], int]


def https_transport(request: Request) -> int:
    """POST to the pinned address, with the host name for SNI and the certificate check."""
    from urllib.parse import urlsplit

    parts = urlsplit(request.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        context = ssl.create_default_context()
        raw = socket.create_connection((request.address, request.port), timeout=TIMEOUT_SECONDS)
        sock = context.wrap_socket(raw, server_hostname=request.host)
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            request.host, request.port, timeout=TIMEOUT_SECONDS
        )
    else:  # development only: check_push_url refuses http:// in production
        sock = socket.create_connection((request.address, request.port), timeout=TIMEOUT_SECONDS)
        conn = http.client.HTTPConnection(request.host, request.port, timeout=TIMEOUT_SECONDS)
    conn.sock = sock
    try:
        conn.request(
            "POST", path, body=request.body, headers={**request.headers, "Content-Type": "application/json"}
        )
        response = conn.getresponse()
        response.read(1024)
        return response.status
    finally:
        conn.close()


@dataclass
class Outcome:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)


def _due(limit: int) -> list[int]:
    stmt = (
        select(Delivery.id)
        .where(Delivery.state == DeliveryState.PENDING, Delivery.next_attempt_at <= clock.now())
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def _lock(delivery_id: int) -> Delivery | None:
    stmt = select(Delivery).where(Delivery.id == delivery_id, Delivery.state == DeliveryState.PENDING)
    if is_postgresql():
        stmt = stmt.with_for_update(skip_locked=True)
    return db.session.scalar(stmt)


def _retry(delivery: Delivery, error: str, status: int | None = None) -> str:
    delivery.attempts += 1
    delivery.last_error = error
    delivery.last_status = status
    if delivery.attempts > len(BACKOFF):
        delivery.state = DeliveryState.FAILED
        delivery.next_attempt_at = None
        return "failed"
    delivery.next_attempt_at = clock.now() + BACKOFF[delivery.attempts - 1]
    return "retried"


def _end(delivery: Delivery, state: DeliveryState, error: str | None) -> str:
    delivery.state = state
    delivery.next_attempt_at = None
    delivery.last_error = error
    return state.value


def attempt(
    delivery: Delivery,
    transport: Transport,
    *,
    production: bool,
    resolve: webhooks.Resolver = socket.getaddrinfo,
) -> str:
    """One attempt of one delivery; what became of it ("delivered", "retried", "failed", "cancelled")."""
    record: HandoffRecord = delivery.record
    partner = record.partner
    now = clock.now()
    if record.state is RecordState.WITHHELD:
        return _end(delivery, DeliveryState.CANCELLED, "withheld")
    if record.consent.revoked_at is not None:
        record.state, record.withheld_at = RecordState.WITHHELD, now
        return _end(delivery, DeliveryState.CANCELLED, "consent_revoked")
    if record.state is RecordState.DELIVERED:
        delivery.delivered_at = now
        return _end(delivery, DeliveryState.DELIVERED, None)
    if not partner.push_url or partner.push_disabled_at is not None:
        return _end(delivery, DeliveryState.CANCELLED, "no_endpoint")
    body = record.body.encode("utf-8")
    # The guard again, on the bytes that would leave: a shelter added since the release counts.
    if hits_in_record(json.loads(body), FREE_TEXT["partner"], known_places(record.agency_id)):
        return _end(delivery, DeliveryState.FAILED, "guard")
    try:
        target = webhooks._check(partner.push_url, production=production, resolve=resolve)
    except Refused:
        return _retry(delivery, "url")
    secrets = signing_secrets(partner, now)
    if not secrets:
        return _retry(delivery, "no_secret")
    headers = webhooks.headers(secrets, delivery.message_id, webhooks.now_timestamp(), body)
    delivery.last_attempt_at = now
    try:
        status = transport(Request(target.url, target.host, target.port, target.address, headers, body))
    except (OSError, http.client.HTTPException):
        return _retry(delivery, "no_answer")
    delivery.last_status = status
    if 200 <= status < 300:
        delivery.attempts += 1
        delivery.delivered_at = now
        record.state = RecordState.DELIVERED
        _end(delivery, DeliveryState.DELIVERED, None)
        audit(
            Actor.system("handoff-push", record.agency_id),
            "handoff.push",
            "handoff_record",
            record.id,
            agency_id=record.agency_id,
        )
        return "delivered"
    if status == 410:
        delivery.attempts += 1
        partner.push_disabled_at = now
        others = select(Delivery.id).where(
            Delivery.partner_id == partner.id,
            Delivery.state == DeliveryState.PENDING,
            Delivery.id != delivery.id,
        )
        if is_postgresql():
            # Skip the pushes another transaction holds (a revocation cancels them itself; any
            # left pending is cancelled at its next attempt, the endpoint being disabled): waiting
            # for them while holding this one would deadlock with a revocation waiting for it.
            others = others.with_for_update(skip_locked=True)
        ids = list(db.session.scalars(others))
        if ids:
            db.session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.state == DeliveryState.PENDING)
                .values(state=DeliveryState.CANCELLED, next_attempt_at=None, last_error="endpoint_gone")
            )
        return _end(delivery, DeliveryState.FAILED, "endpoint_gone")
    return _retry(delivery, f"http_{status}", status)


def deliver_due(
    transport: Transport = https_transport,
    *,
    production: bool = True,
    resolve: webhooks.Resolver = socket.getaddrinfo,
    limit: int = 100,
    each: Callable[[], object] | None = None,
) -> Outcome:
    """Work every delivery that is due; ``each`` is called after each one (the CLI commits there)."""
    outcome = Outcome()
    for delivery_id in _due(limit):
        delivery = _lock(delivery_id)
        if delivery is None:
            continue  # another worker has it, or it changed
        result = attempt(delivery, transport, production=production, resolve=resolve)
        db.session.flush()
        setattr(outcome, result, getattr(outcome, result) + 1)
        if each is not None:
            each()
    return outcome
