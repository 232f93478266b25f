"""An append-only, hash-chained audit table.

Each row stores an HMAC over its own fields and the previous row's HMAC, so an
edited, inserted or deleted row breaks the chain from that point on, and
nobody without ``ADVOCACY_HASH_KEY`` can forge a consistent chain.  Database
triggers refuse UPDATE and DELETE on both engines.  Rows hold ids and action
names only: no names, phone numbers, free text or IP addresses.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from advocacy import clock
from advocacy.appendonly import make_append_only
from advocacy.extensions import db
from advocacy.types import UTCDateTime


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    agency_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


# The migration that creates the table runs the same statements.
make_append_only(AuditEvent.__table__)
