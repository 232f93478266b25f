"""Writing the audit chains.

``record`` is called in the same transaction as the change it describes, so a
change and its audit row commit or roll back together.  Each agency's chain is
serialized by its own :class:`AuditChain` row (the UPDATE that claims the next
place takes the row lock until commit), so the chain never forks under
concurrent requests while unrelated agencies append in parallel.  Verification
and checkpoints are in :mod:`advocacy.audit.verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from functools import cache
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite

from advocacy import clock
from advocacy.actor import Actor
from advocacy.audit.models import DEPLOYMENT_CHAIN, AuditChain, AuditEvent
from advocacy.extensions import db, is_postgresql

GENESIS = "0" * 64

log = logging.getLogger("advocacy.audit")


def mac(*fields: object) -> str:
    """HMAC-SHA256 with the deployment's hash key over ``fields`` (None as the empty string)."""
    key = current_app.config["SETTINGS"].hash_key.encode()
    text = "\x1f".join("" if f is None else str(f) for f in fields)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _digest(prev_hash: str, event: Any) -> str:
    """HMAC of an event (an AuditEvent or a row with the same fields) after ``prev_hash``.

    An entry of a per-agency chain also signs its chain and place, so an entry
    cannot be moved to another chain or position; a legacy entry (``seq`` None)
    keeps the fields it was signed with.
    """
    fields: list[object] = [
        prev_hash,
        event.occurred_at.isoformat(),
        event.actor_id or "",
        event.agency_id or "",
        event.action,
        event.object_type,
        event.object_id,
    ]
    if event.seq is not None:
        fields += [event.chain_id, event.seq]
    return mac(*fields)


@cache
def _statements() -> tuple[Any, Any, Any]:
    """The append's three statements, built once (every case view and opened board appends):
    claim the next place (taking the chain's row lock), write the entry, move the head."""
    chain = AuditChain.__table__
    claim = (
        update(chain)
        .where(chain.c.chain_id == bindparam("chain"))
        .values(length=chain.c.length + 1)
        .returning(chain.c.length, chain.c.head)
    )
    write = insert(AuditEvent.__table__)
    move = update(chain).where(chain.c.chain_id == bindparam("chain")).values(head=bindparam("new_head"))
    return claim, write, move


def _claim_next(chain_id: int) -> tuple[int, str]:
    """Take the chain's lock and its next place: (the new entry's seq, the previous head)."""
    claim = _statements()[0]
    row = db.session.execute(claim, {"chain": chain_id}).one_or_none()
    if row is None:  # the chain's first entry: create its head (a concurrent first entry may win)
        dialect = postgresql if is_postgresql() else sqlite
        db.session.execute(
            dialect.insert(AuditChain)
            .values(chain_id=chain_id, length=0, head=GENESIS)
            .on_conflict_do_nothing(index_elements=["chain_id"])
        )
        row = db.session.execute(claim, {"chain": chain_id}).one()
    return row.length, row.head


def record(
    actor: Actor,
    action: str,
    object_type: str | None = None,
    object_id: int | str | None = None,
    *,
    agency_id: int | None = None,
) -> None:
    """Append one event to its agency's chain, in the caller's transaction (not committed here).

    The entry names the acting user; a worker's or a partner's entry has no
    user (its action says what happened).  The row is written with one Core
    INSERT, not through the session's unit of work: nothing reads it back in
    the request, and every case view and opened board pays for this append.
    """
    actor_id = actor.user_id
    chain_id = DEPLOYMENT_CHAIN if agency_id is None else agency_id
    seq, prev = _claim_next(chain_id)
    values: dict[str, Any] = {
        "occurred_at": clock.now().replace(microsecond=0),
        "actor_id": actor_id,
        "agency_id": agency_id,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "prev_hash": prev,
        "chain_id": chain_id,
        "seq": seq,
    }
    values["entry_hash"] = entry_hash = _digest(prev, SimpleNamespace(**values))
    _claim, write, move = _statements()
    db.session.execute(write, values)
    db.session.execute(move, {"chain": chain_id, "new_head": entry_hash})
    log.debug("audit", extra={"action": action, "object_type": object_type, "actor_id": actor_id})
