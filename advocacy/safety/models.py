"""Safety plans: one per case, every save a version, and each agency's local numbers.

A plan's content (the victim's own words, section by section) lives in its
versions only: :class:`PlanVersion` rows are written once and never changed,
so "every change kept" is a property of the table, and the plan row holds
what the plan page needs to decide a save (``current_version``, the number
of the newest version, which a save compares and moves in one statement:
optimistic concurrency, :mod:`advocacy.safety.service`).

The content is JSON (``{"sections": {...}, "checked": [...]}``, described in
:mod:`advocacy.safety.content`), encrypted like every other word a victim said.

Local numbers are the agency's own lines (its crisis line, a tribal advocate,
a legal clinic): name, number, hours, languages.  Never an address: the
service refuses anything shaped like one, and any name of the agency's shelters.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from advocacy import clock
from advocacy.extensions import db
from advocacy.types import EncryptedString, UTCDateTime


class SafetyPlan(db.Model):
    __tablename__ = "safety_plan"
    __table_args__ = (
        UniqueConstraint("case_id", name="uq_safety_plan_case"),
        CheckConstraint("current_version >= 0", name="version_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    #: The newest version's number; 0 before the first save.
    current_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    case = relationship("Case")


class PlanVersion(db.Model):
    """One save of a plan: who, when, the packs and language chosen, and what was written."""

    __tablename__ = "safety_plan_version"
    __table_args__ = (
        UniqueConstraint("plan_id", "number", name="uq_safety_plan_version_number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("safety_plan.id"))
    number: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    #: Space-separated pack keys (:class:`advocacy.content.Pack`), in pack order.
    packs: Mapped[str] = mapped_column(String(200))
    #: The victim's language for this plan (a registry tag): guidance, print and texts.
    locale: Mapped[str] = mapped_column(String(16))
    #: JSON of the sections' content, encrypted.
    content: Mapped[str] = mapped_column(EncryptedString())

    author = relationship("User")

    @property
    def pack_keys(self) -> list[str]:
        return self.packs.split()


class LocalNumber(db.Model):
    """A number an agency adds to every plan of its cases, after the national ones."""

    __tablename__ = "safety_local_number"
    __table_args__ = (Index("ix_safety_local_number_agency", "agency_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    name: Mapped[str] = mapped_column(String(120))
    number: Mapped[str] = mapped_column(String(32))
    hours: Mapped[str] = mapped_column(String(120))
    languages: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
