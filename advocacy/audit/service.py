"""Writing the audit chains.

``record`` is called in the same transaction as the change it describes, so a
change and its audit row commit or roll back together.  Each agency's chain is
serialized by its own :class:`AuditChain` row (the UPDATE that claims the next
place takes the row lock until commit), so the chain never forks under
concurrent requests while unrelated agencies append in parallel.  Verification
and checkpoints are in :mod:`advocacy.audit.verify`.

The entry is appended when its transaction commits, not when ``record`` is
called.  A case view records that it read the case before its page is
rendered; had it claimed its chain's place then, the agency's row lock
would be held through the render, and an agency's views (two sync workers,
or forty) would render one at a time.  ``record`` keeps the entry, with its
time, in the session (``session.info``); just before the commit the
session's pending entries are appended, chain by chain in chain order (two
transactions that each append to two chains never wait for each other in a
circle), so each lock is held for the append and the commit alone.  The
entry stays tied to the transaction it was recorded in: a savepoint rolled
back (a service's refusal, :func:`advocacy.uow.savepoint`) takes its
entries with it, a rollback takes all of them, exactly as rows written
straight away were.  A statement that reads the audit tables in the same
transaction (the admin's audit page, a verification, a test) first appends
what is pending, as the session's autoflush does for its own objects, so a
reader sees its transaction's entries.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, event, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql.util import find_tables

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
def _statements() -> tuple[Any, Any]:
    """The append's two statements, built once (every case view and opened board appends):
    claim the next place (taking the chain's row lock), write the entry (whose
    trigger moves the head: :func:`advocacy.audit.models.head_trigger_statements`)."""
    chain = AuditChain.__table__
    claim = (
        update(chain)
        .where(chain.c.chain_id == bindparam("chain"))
        .values(length=chain.c.length + 1)
        .returning(chain.c.length, chain.c.head)
    )
    return claim, insert(AuditEvent.__table__)


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


PENDING = "advocacy.audit.pending"


@dataclass(frozen=True)
class _Pending:
    """An entry recorded and not yet appended: its chain, its fields, and the
    transaction (or savepoint) it was recorded in."""

    chain_id: int
    values: dict[str, Any]
    transaction: SessionTransaction


def record(
    actor: Actor,
    action: str,
    object_type: str | None = None,
    object_id: int | str | None = None,
    *,
    agency_id: int | None = None,
) -> None:
    """Record one event for its agency's chain, in the caller's transaction: appended
    when that transaction commits (see the module's docstring), never committed here.

    The entry names the acting user; a worker's or a partner's entry has no
    user (its action says what happened).  Its time is the time of this call.
    """
    session = db.session()
    values: dict[str, Any] = {
        "occurred_at": clock.now().replace(microsecond=0),
        "actor_id": actor.user_id,
        "agency_id": agency_id,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
    }
    chain_id = DEPLOYMENT_CHAIN if agency_id is None else agency_id
    # The entry belongs to the transaction it is recorded in, begun here if nothing
    # has been read yet (so a rollback before the first statement drops it too).
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault(PENDING, []).append(_Pending(chain_id, values, transaction))
    log.debug("audit", extra={"action": action, "object_type": object_type, "actor_id": values["actor_id"]})


def append_pending(session: Session) -> None:
    """Append the session's pending entries to their chains (in chain order, each
    chain's in the order recorded), in the session's transaction.

    Called before the commit and before a read of the audit tables; the
    entries are taken off the list first, so the statements below, which pass
    through the same hooks, find nothing pending.
    """
    pending: list[_Pending] | None = session.info.pop(PENDING, None)
    if not pending:
        return
    write = _statements()[1]
    for entry in sorted(pending, key=lambda e: e.chain_id):
        seq, prev = _claim_next(entry.chain_id)
        values = {**entry.values, "prev_hash": prev, "chain_id": entry.chain_id, "seq": seq}
        values["entry_hash"] = _digest(prev, SimpleNamespace(**values))
        session.execute(write, values)  # its trigger moves the chain's head


def _within(transaction: SessionTransaction, ended: SessionTransaction) -> bool:
    """Whether ``transaction`` is ``ended`` or began inside it (a savepoint of it)."""
    current: SessionTransaction | None = transaction
    while current is not None:
        if current is ended:
            return True
        current = current.parent
    return False


@event.listens_for(Session, "before_commit")
def _append_before_commit(session: Session) -> None:
    # before_commit is also called when a savepoint is released: its entries
    # wait for the outer transaction's commit, as its rows would.
    if not session.in_nested_transaction():
        append_pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    # A savepoint's entries (and its own savepoints'); the whole transaction's end
    # is _forget_at_end's.
    pending: list[_Pending] | None = session.info.get(PENDING)
    if pending:
        session.info[PENDING] = [e for e in pending if not _within(e.transaction, previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    # The transaction ended: committed (its entries appended), rolled back, or
    # closed without either; nothing pending outlives it.
    if transaction.parent is None:
        session.info.pop(PENDING, None)


# Whether a statement reads the audit tables, per statement shape: its cache key,
# which SQLAlchemy memoizes on the statement and asks again to find its compiled
# form (a walk over a statement's tables costs some 20 µs, and most of a page's
# statements are built anew each request).  Shapes are as many as the code has.
_READS_AUDIT: dict[Any, bool] = {}
_READS_AUDIT_MAX = 5_000


def _reads_audit(statement: Any) -> bool:
    cache_key = statement._generate_cache_key()
    key = None if cache_key is None else cache_key.key
    known = None if key is None else _READS_AUDIT.get(key)
    if known is None:
        # By name: an ORM statement's tables are annotated copies of the models' own.
        names = (AuditEvent.__table__.name, AuditChain.__table__.name)
        known = any(getattr(t, "name", None) in names for t in find_tables(statement, include_joins=True))
        if key is not None and len(_READS_AUDIT) < _READS_AUDIT_MAX:
            _READS_AUDIT[key] = known
    return known


@event.listens_for(Session, "do_orm_execute")
def _append_before_read(state: ORMExecuteState) -> None:
    if state.session.info.get(PENDING) and state.is_select and _reads_audit(state.statement):
        append_pending(state.session)
