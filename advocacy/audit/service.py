"""Writing and verifying the audit chain.

``record`` is called in the same transaction as the change it describes, so a
change and its audit row commit or roll back together.  Appends are serialized
(a PostgreSQL advisory lock; SQLite has one writer anyway) so the chain never
forks under concurrent requests.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select, text

from advocacy import clock
from advocacy.actor import Actor
from advocacy.audit.models import AuditEvent
from advocacy.extensions import db, is_postgresql

GENESIS = "0" * 64
# An arbitrary constant that names "the audit chain" among advisory locks.
_ADVISORY_LOCK_KEY = 7_160_233

log = logging.getLogger("advocacy.audit")


def _digest(prev_hash: str, event: Any) -> str:
    """HMAC of an event (an AuditEvent or a row with the same fields) after ``prev_hash``."""
    fields = [
        prev_hash,
        event.occurred_at.isoformat(),
        str(event.actor_id or ""),
        str(event.agency_id or ""),
        event.action,
        event.object_type or "",
        event.object_id or "",
    ]
    key = current_app.config["SETTINGS"].hash_key.encode()
    return hmac.new(key, "\x1f".join(fields).encode(), hashlib.sha256).hexdigest()


def record(
    actor: Actor,
    action: str,
    object_type: str | None = None,
    object_id: int | str | None = None,
    *,
    agency_id: int | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction (not committed here).

    The entry names the acting user; a worker's or a partner's entry has no
    user (its action says what happened).
    """
    actor_id = actor.user_id
    session = db.session
    if is_postgresql():
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
    prev = session.scalar(select(AuditEvent.entry_hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        occurred_at=clock.now().replace(microsecond=0),
        actor_id=actor_id,
        agency_id=agency_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        prev_hash=prev or GENESIS,
    )
    event.entry_hash = _digest(event.prev_hash, event)
    session.add(event)
    session.flush()
    log.debug("audit", extra={"action": action, "object_type": object_type, "actor_id": actor_id})
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None


def verify_chain(batch_size: int = 1000) -> ChainReport:
    """Walk the whole chain in id order, in batches, and report the first broken row.

    Rows are read as plain tuples, not ORM objects, so a long chain neither
    fills the session's identity map nor disturbs objects the caller holds.
    """
    columns = [getattr(AuditEvent, c.key) for c in AuditEvent.__table__.columns]
    prev = GENESIS
    checked = 0
    last_id = 0
    while rows := db.session.execute(
        select(*columns).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch_size)
    ).all():
        for event in rows:
            if event.prev_hash != prev or not hmac.compare_digest(event.entry_hash, _digest(prev, event)):
                return ChainReport(ok=False, checked=checked, first_bad_id=event.id)
            prev = event.entry_hash
            checked += 1
            last_id = event.id
    return ChainReport(ok=True, checked=checked)
