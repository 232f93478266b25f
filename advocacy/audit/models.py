"""An append-only, hash-chained audit log: one chain per agency, anchored by signed checkpoints.

Each row stores an HMAC over its own fields, its place in its chain and the
previous row's HMAC, so an edited, inserted or deleted row breaks the chain
from that point on, and nobody without ``ADVOCACY_HASH_KEY`` can forge a
consistent chain.  Database triggers refuse UPDATE, DELETE and (on
PostgreSQL) TRUNCATE.  Rows hold ids and action names only: no names, phone
numbers, free text or IP addresses.

Every agency has its own chain (and events without an agency the deployment's
chain, number 0), so an append locks only its own chain's :class:`AuditChain`
row: agencies never queue behind each other.  What the chain alone cannot
show, a cut-off tail, the checkpoints show: ``flask audit verify`` signs the
length and head of every chain it found intact into :class:`AuditCheckpoint`
(and the structured log), and the next run compares with them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, Boolean, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from advocacy import clock
from advocacy.appendonly import make_append_only
from advocacy.extensions import db
from advocacy.types import UTCDateTime

#: The chain of events that belong to no agency (a sign-in with an unknown name, say).
DEPLOYMENT_CHAIN = 0


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __table_args__ = (Index("uq_audit_event_chain_id_seq", "chain_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    agency_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The agency's chain (DEPLOYMENT_CHAIN without one) and the entry's place in it,
    # from 1.  Entries written before chains were per agency have no place (None):
    # they form the one "legacy" chain in id order.
    chain_id: Mapped[int] = mapped_column(Integer, default=DEPLOYMENT_CHAIN, server_default="0")
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AuditChain(db.Model):
    """The head of one chain: its length and last hash.  Its row lock serializes that chain's appends.

    The append claims the next place (``length``) itself; the head is moved by
    the database, by a trigger on each entry written (:func:`head_trigger_statements`).
    """

    __tablename__ = "audit_chain"

    chain_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    length: Mapped[int] = mapped_column(Integer, default=0)
    head: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(db.Model):
    """One verification of one chain, signed: the anchor the next verification compares with.

    ``chain`` names the chain (``audit:12``, ``audit:legacy``, ``availability:12``).
    An intact chain's row holds its length and head; a broken chain's row says
    where it broke (``first_bad``) or how many entries are missing.  Only intact
    rows anchor; the newest row of a chain is what the audit page shows.
    """

    __tablename__ = "audit_checkpoint"
    __table_args__ = (Index("ix_audit_checkpoint_chain_id", "chain", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    chain: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean)
    length: Mapped[int] = mapped_column(Integer)
    # The last entry's id (the availability history has no per-chain sequence).
    last_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    head: Mapped[str] = mapped_column(String(64))
    first_bad: Mapped[int | None] = mapped_column(Integer, nullable=True)
    missing: Mapped[int | None] = mapped_column(Integer, nullable=True)
    signature: Mapped[str] = mapped_column(String(64))


def head_trigger_statements(dialect: str) -> list[str]:
    """A trigger that moves a chain's head to each entry written to it.

    The append then sends two statements, not three (claim the place, write
    the entry), and the head cannot disagree with the chain's last entry,
    whoever writes it.  Entries without a place (the legacy chain) move no head.
    """
    if dialect == "sqlite":
        return [
            "CREATE TRIGGER audit_event_moves_head AFTER INSERT ON audit_event "
            "WHEN NEW.seq IS NOT NULL "
            "BEGIN UPDATE audit_chain SET head = NEW.entry_hash WHERE chain_id = NEW.chain_id; END"
        ]
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION audit_event_moves_head() RETURNS trigger AS $$ "
            "BEGIN UPDATE audit_chain SET head = NEW.entry_hash WHERE chain_id = NEW.chain_id; "
            "RETURN NULL; END; $$ LANGUAGE plpgsql",
            "CREATE TRIGGER audit_event_moves_head AFTER INSERT ON audit_event "
            "FOR EACH ROW WHEN (NEW.seq IS NOT NULL) EXECUTE FUNCTION audit_event_moves_head()",
        ]
    raise ValueError(f"no head trigger for {dialect}")


def drop_head_trigger_statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return ["DROP TRIGGER audit_event_moves_head"]
    return ["DROP TRIGGER audit_event_moves_head ON audit_event", "DROP FUNCTION audit_event_moves_head()"]


# The migrations that create these tables run the same statements.
make_append_only(AuditEvent.__table__)
make_append_only(AuditCheckpoint.__table__)
for _dialect in ("sqlite", "postgresql"):
    for _statement in head_trigger_statements(_dialect):
        # On audit_event's creation: its trigger names audit_chain, which needs only
        # to exist when an entry is written.
        event.listen(AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))
