"""A shelter has two identities.

``name`` and ``address`` are the agency's own knowledge and are encrypted;
``public_label`` and ``region`` are what other agencies of the network see, and
are chosen by the agency so as not to identify the place.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from advocacy.extensions import db
from advocacy.types import EncryptedString, UTCDateTime, utcnow


class Shelter(db.Model):
    __tablename__ = "shelter"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(EncryptedString())
    address: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    public_label: Mapped[str] = mapped_column(String(80))
    region: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
