"""Partners, their keys, release consents, hand-off records and their deliveries.

A *partner* is the coordinating organization's tracking system, registered
by one agency.  It reaches the agency through API tokens (stored as SHA-256
hashes, shown once) and receives pushes signed with a webhook secret
(stored encrypted, because the app must sign with it).  Both rotate without
downtime: the old one keeps working until the end of a grace period.

A *consent* is the victim's written, time-limited release of information
for one case and one partner, for some event types.  It always expires.

A *record* is one hand-off, frozen at release: ``body`` holds the exact
bytes that leave (the advocate previewed them), encrypted at rest.  A
released record is never changed (database triggers refuse an UPDATE of any
of :data:`RECORD_FROZEN_COLUMNS`, and any DELETE); a correction is a new
record that names the old one (``corrects_id``).  ``state`` says whether it may still leave:
a record that has not reached the partner when its consent is revoked is
*withheld*, and then it never leaves.

A *delivery* is the push outbox row of one record: written in the same
transaction as the record, worked by ``flask handoff deliver``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from advocacy import clock
from advocacy.appendonly import make_columns_frozen
from advocacy.extensions import db
from advocacy.handoff.vocabulary import EventType
from advocacy.types import EncryptedString, UTCDateTime
from advocacy.vocab import LabelledEnum, enum_column


class ConsentMeans(LabelledEnum):
    """How the person gave their written consent (the form itself stays on paper or in the file)."""

    SIGNED_PAPER = "signed_paper", _l("Signed paper form")
    SIGNED_ELECTRONIC = "signed_electronic", _l("Signed electronic form")


class RecordState(LabelledEnum):
    RELEASED = "released", _l("Released, not yet received")
    DELIVERED = "delivered", _l("Received by the partner")
    WITHHELD = "withheld", _l("Withheld: consent revoked before delivery")


class DeliveryState(LabelledEnum):
    PENDING = "pending", _l("Waiting to be pushed")
    DELIVERED = "delivered", _l("Pushed")
    FAILED = "failed", _l("Push gave up")
    CANCELLED = "cancelled", _l("Push cancelled")


class Partner(db.Model):
    __tablename__ = "handoff_partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    #: The event types (vocabulary values) this partner may receive at all.
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    push_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    #: Set when the partner's endpoint answered 410 Gone: no more pushes until an admin saves a URL.
    push_disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: The per-partner key of the pseudonymous victim reference (base64), never shown.
    pseudonym_key: Mapped[str] = mapped_column(EncryptedString())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    def allows(self, event_type: EventType | str) -> bool:
        return str(getattr(event_type, "value", event_type)) in (self.event_types or [])


class PartnerToken(db.Model):
    __tablename__ = "handoff_token"
    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_created"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("handoff_partner.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: SHA-256 of the token (hex): a token is 32 random bytes, so no slow hash is needed.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The token's first characters, for the admin to tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    partner: Mapped[Partner] = relationship()

    def valid_at(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


class WebhookSecret(db.Model):
    __tablename__ = "handoff_webhook_secret"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("handoff_partner.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    secret: Mapped[str] = mapped_column(EncryptedString())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    #: When it stops signing: None while it is the current secret; the end of the grace
    #: period after a rotation; the moment of revocation.
    retires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    def valid_at(self, now: datetime) -> bool:
        return self.retires_at is None or now < self.retires_at


class Consent(db.Model):
    """A release of information: for one case and partner, some event types, until it expires."""

    __tablename__ = "handoff_consent"
    __table_args__ = (
        CheckConstraint("expires_at > given_at", name="expires_after_given"),
        Index("ix_handoff_consent_case_partner", "case_id", "partner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("handoff_partner.id"), index=True)
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())
    means: Mapped[ConsentMeans] = mapped_column(enum_column(ConsentMeans, "means"))
    #: Where the signed form is (a file number, a scan's name): never the form's content.
    form_reference: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    partner: Mapped[Partner] = relationship()

    def covers(self, event_type: EventType | str) -> bool:
        return str(getattr(event_type, "value", event_type)) in (self.event_types or [])

    def valid_at(self, now: datetime) -> bool:
        return self.revoked_at is None and self.given_at <= now < self.expires_at


def _new_uuid() -> str:
    return str(uuid.uuid4())


class HandoffRecord(db.Model):
    __tablename__ = "handoff_record"
    __table_args__ = (
        # The pull API pages through one partner's records in id order from a cursor.
        Index("ix_handoff_record_partner_id", "partner_id", "id"),
        CheckConstraint("(state = 'withheld') = (withheld_at IS NOT NULL)", name="withheld_when"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=_new_uuid)
    schema_version: Mapped[int] = mapped_column(Integer)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("handoff_partner.id"))
    consent_id: Mapped[int] = mapped_column(ForeignKey("handoff_consent.id"), index=True)
    partner_case_reference: Mapped[str] = mapped_column(String(64))
    victim_reference: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[EventType] = mapped_column(enum_column(EventType, "event_type", 40))
    event_date: Mapped[date] = mapped_column(Date)
    choices: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Free text written about a victim: encrypted at rest, like every personal field.
    summary: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("handoff_record.id"), nullable=True)
    #: The exact bytes that leave (the partner audience's serialization), encrypted at rest.
    body: Mapped[str] = mapped_column(EncryptedString())
    state: Mapped[RecordState] = mapped_column(enum_column(RecordState, "state"))
    released_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    withheld_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    partner: Mapped[Partner] = relationship()
    consent: Mapped[Consent] = relationship()
    corrects: Mapped[HandoffRecord | None] = relationship(remote_side=[id])


class Delivery(db.Model):
    """The push of one record: the outbox row, written with the record."""

    __tablename__ = "handoff_delivery"
    __table_args__ = (Index("ix_handoff_delivery_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Sent as ``webhook-id``: the same on every retry, so the partner can drop duplicates.
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("handoff_record.id"), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("handoff_partner.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    state: Mapped[DeliveryState] = mapped_column(enum_column(DeliveryState, "state"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: The last HTTP status, or None when no answer came (a refused connection, a timeout).
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: A short code of what went wrong ("timeout", "http_500", "guard", "url"): never a body.
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    record: Mapped[HandoffRecord] = relationship()


#: What a released record says: the database refuses to change any of it, and to delete the row.
#: Only where it stands moves on (``state``, ``acknowledged_at``, ``withheld_at``); a correction is a
#: new record naming the old one (``corrects_id``).
RECORD_FROZEN_COLUMNS = (
    "uuid",
    "schema_version",
    "agency_id",
    "case_id",
    "partner_id",
    "consent_id",
    "partner_case_reference",
    "victim_reference",
    "event_type",
    "event_date",
    "choices",
    "summary",
    "corrects_id",
    "body",
    "released_by",
    "released_at",
)
make_columns_frozen(HandoffRecord.__table__, RECORD_FROZEN_COLUMNS)  # type: ignore[arg-type]
