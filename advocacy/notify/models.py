"""The SMS side of court reminders: subscriptions, the outbox, what comes back.

* :class:`SmsSender`: an agency's sending set-up (its Twilio Messaging
  Service, program name, help contact, send rate, default quiet hours).
* :class:`Subscription`: one victim's consent to reminders on one number,
  confirmed only by the code read back (MISSION.md 4, "Enrolment").  The
  number is encrypted; ``phone_hash`` is the keyed hash of its E.164 form,
  so an inbound text finds its subscription without decrypting anything.
* :class:`OutboxMessage`: the transactional outbox.  A row is written in the
  transaction of whatever caused it (a court event, an enrolment) and is
  the queue the workers claim from; its ``state`` only moves forward.
* :class:`SmsCallback`: each (MessageSid, status) Twilio reported, once:
  what makes status callbacks idempotent.
* :class:`InboundMessage`: a victim's reply, its body encrypted, for the
  advocate's inbox.
* :class:`SendRate`: one row per sender holding the next free send slot,
  the coordination point of the rate limit across every worker.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from advocacy import clock
from advocacy.extensions import db
from advocacy.types import EncryptedString, UTCDateTime
from advocacy.vocab import LabelledEnum, enum_column

#: Default quiet hours, minutes after local midnight (21:00 to 08:00).
QUIET_START = 21 * 60
QUIET_END = 8 * 60


class SubscriptionState(LabelledEnum):
    PENDING = "pending", _l("Waiting for the code")
    CONFIRMED = "confirmed", _l("Confirmed")
    OPTED_OUT = "opted_out", _l("Replied STOP")
    ENDED = "ended", _l("Ended")


class EndReason(LabelledEnum):
    """Why a subscription stopped (or never started)."""

    ADVOCATE = "advocate", _l("Stopped by an advocate")
    CODE_FAILED = "code_failed", _l("The code was not confirmed")
    CODE_EXPIRED = "code_expired", _l("The code expired")
    OPTED_OUT = "opted_out", _l("The victim replied STOP")
    INVALID_NUMBER = "invalid_number", _l("The number cannot receive texts")
    REPLACED = "replaced", _l("Replaced by a new number")


class Style(LabelledEnum):
    DISCREET = "discreet", _l("Discreet (no court, case, name or place)")
    DETAILED = "detailed", _l("Detailed (names the court and courtroom)")


class MessageState(LabelledEnum):
    """An outbox row's life.  ``claimed`` is committed before Twilio is called
    (the row is "sending"); a crash leaves it claimed past its lease, and it
    becomes ``unknown`` (maybe sent) until reconciled, never resent blindly."""

    QUEUED = "queued", _l("Waiting to be sent")
    CLAIMED = "claimed", _l("Sending")
    SENT = "sent", _l("Sent")
    DELIVERED = "delivered", _l("Delivered")
    FAILED = "failed", _l("Not delivered")
    CANCELLED = "cancelled", _l("Cancelled")
    UNKNOWN = "unknown", _l("Unknown (may have been sent)")


#: How far along each state is: a state never moves to a lower rank
#: (``queued`` and ``claimed`` share a rank because a retry goes back to
#: ``queued`` from a claim that certainly did not send).
STATE_RANK = {
    MessageState.QUEUED: 0,
    MessageState.CLAIMED: 0,
    MessageState.UNKNOWN: 1,
    MessageState.SENT: 2,
    MessageState.DELIVERED: 3,
    MessageState.FAILED: 3,
    MessageState.CANCELLED: 3,
}
OPEN_STATES = (MessageState.QUEUED, MessageState.CLAIMED, MessageState.UNKNOWN)


class MessageKind(LabelledEnum):
    CODE = "code", _l("Enrolment code")
    REMINDER = "reminder", _l("Reminder")
    CHANGED = "changed", _l("Change notice")
    CANCELLED = "cancelled", _l("Cancellation notice")
    HELP = "help", _l("Help reply")
    OPT_OUT = "opt_out", _l("Opt-out confirmation")
    OPT_IN = "opt_in", _l("Opt-in confirmation")
    ATTENDANCE = "attendance", _l("Attendance thanks")
    #: A piece of a safety plan the advocate chose to text (its words in ``params``).
    PLAN_TEXT = "plan_text", _l("Safety plan text")


class Attention(LabelledEnum):
    """Why an advocate must call the victim (the home page's "Call the victim")."""

    UNDELIVERABLE = "undeliverable", _l("The reminder could not be delivered in time")
    OPTED_OUT = "opted_out", _l("The victim replied STOP")
    INVALID_NUMBER = "invalid_number", _l("The number cannot receive texts")
    FILTERED = "filtered", _l("The carrier filtered the text as spam")
    UNKNOWN = "unknown", _l("It is not known whether the text was sent")
    EXPIRED = "expired", _l("The reminder was not sent before its deadline")


class ReplyKind(LabelledEnum):
    OPT_OUT = "opt_out", _l("Stop")
    OPT_IN = "opt_in", _l("Start")
    HELP = "help", _l("Help")
    CONFIRM = "confirm", _l("Confirmed attendance")
    OTHER = "other", _l("Message")


class SmsSender(db.Model):
    """How one agency sends: the production path is its own Messaging Service
    (what US carrier registration expects); ``from_number`` is for a
    development Twilio account."""

    __tablename__ = "sms_sender"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    program_name: Mapped[str] = mapped_column(String(30), default="Reminders")
    help_contact: Mapped[str] = mapped_column(String(25), default="")
    messaging_service_sid: Mapped[str | None] = mapped_column(String(34), nullable=True)
    from_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    #: Segments per second this sender may send (10DLC before registration: 1).
    rate_per_second: Mapped[float] = mapped_column(Float, default=1.0)
    quiet_start: Mapped[int] = mapped_column(Integer, default=QUIET_START)
    quiet_end: Mapped[int] = mapped_column(Integer, default=QUIET_END)
    #: The locale used for a victim whose language has no texts, after the
    #: advocate confirms it (None: ask every time, suggest English).
    fallback_locale: Mapped[str | None] = mapped_column(String(16), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Subscription(db.Model):
    __tablename__ = "sms_subscription"
    __table_args__ = (
        # One live subscription per case: a new number replaces the old one.
        Index(
            "uq_sms_subscription_live_case",
            "case_id",
            unique=True,
            postgresql_where=text("state IN ('pending', 'confirmed')"),
            sqlite_where=text("state IN ('pending', 'confirmed')"),
        ),
        Index("ix_sms_subscription_phone", "phone_hash", "agency_id"),
        CheckConstraint(
            "quiet_start BETWEEN 0 AND 1439 AND quiet_end BETWEEN 0 AND 1439", name="quiet_minutes"
        ),
        CheckConstraint(
            "(state IN ('opted_out', 'ended')) = (ended_at IS NOT NULL)", name="ended_when_stopped"
        ),
        CheckConstraint("state <> 'confirmed' OR confirmed_at IS NOT NULL", name="confirmed_when"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    phone: Mapped[str] = mapped_column(EncryptedString())
    phone_hash: Mapped[str] = mapped_column(String(64))
    #: The locale of the texts (a key of the SMS catalog: "es", "so"...).
    locale: Mapped[str] = mapped_column(String(16), default="en")
    style: Mapped[Style] = mapped_column(enum_column(Style, "style", 16), default=Style.DISCREET)
    #: IANA time zone of the victim, for quiet hours and how times read.
    time_zone: Mapped[str] = mapped_column(String(64), default="America/Chicago")
    quiet_start: Mapped[int] = mapped_column(Integer, default=QUIET_START)
    quiet_end: Mapped[int] = mapped_column(Integer, default=QUIET_END)
    state: Mapped[SubscriptionState] = mapped_column(
        enum_column(SubscriptionState, "state", 16), default=SubscriptionState.PENDING
    )
    end_reason: Mapped[EndReason | None] = mapped_column(
        enum_column(EndReason, "end_reason", 24), nullable=True
    )
    #: The advocate confirmed they read an unreviewed (draft or fallback)
    #: translation with the victim or an interpreter.
    draft_acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The victim's language (BCP 47) when it has no texts and the advocate
    #: confirmed the agency's fallback (``locale``) instead; None otherwise.
    fallback_for: Mapped[str | None] = mapped_column(String(35), nullable=True)
    #: Keyed hash of the enrolment code; the code itself is never stored.
    code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def live(self) -> bool:
        return self.state in (SubscriptionState.PENDING, SubscriptionState.CONFIRMED)


class OutboxMessage(db.Model):
    __tablename__ = "sms_outbox"
    __table_args__ = (
        # The claim: due rows in order.  Partial, so its size and cost follow
        # the rows waiting, not the millions already sent.
        Index(
            "ix_sms_outbox_due",
            "send_after",
            "id",
            postgresql_where=text("state = 'queued'"),
            sqlite_where=text("state = 'queued'"),
        ),
        Index(
            "ix_sms_outbox_lease",
            "lease_until",
            postgresql_where=text("state = 'claimed'"),
            sqlite_where=text("state = 'claimed'"),
        ),
        # Once per (source, kind, subscription, planned time) while not cancelled:
        # a rescheduled event's fresh reminders do not collide with the old ones.
        Index(
            "uq_sms_outbox_once",
            "source_type",
            "source_id",
            "kind",
            "subscription_id",
            "planned_at",
            unique=True,
            postgresql_where=text("state <> 'cancelled'"),
            sqlite_where=text("state <> 'cancelled'"),
        ),
        Index("ix_sms_outbox_subscription", "subscription_id", "id"),
        # "Call the victim": open alerts of an agency.
        Index(
            "ix_sms_outbox_attention",
            "agency_id",
            "id",
            postgresql_where=text("attention IS NOT NULL AND handled_at IS NULL"),
            sqlite_where=text("attention IS NOT NULL AND handled_at IS NULL"),
        ),
        # What is not known to be sent, per agency: the advocates' page and the home panel.
        Index(
            "ix_sms_outbox_unknown",
            "agency_id",
            "id",
            postgresql_where=text("state = 'unknown'"),
            sqlite_where=text("state = 'unknown'"),
        ),
        CheckConstraint("valid_until > send_after", name="valid_after_send"),
        CheckConstraint("(state = 'claimed') = (lease_until IS NOT NULL)", name="lease_when_claimed"),
        CheckConstraint("attempts >= 0", name="attempts_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("sms_subscription.id"))
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind, "kind", 16))
    #: Template values (JSON), encrypted: a detailed reminder names a court.
    params: Mapped[str] = mapped_column(EncryptedString(), default="{}")
    #: When the caller wanted it sent, before quiet hours moved it.
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    send_after: Mapped[datetime] = mapped_column(UTCDateTime())
    #: After this it is useless (the event has begun): never sent later, and
    #: Twilio's ValidityPeriod ends here too.
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[MessageState] = mapped_column(
        enum_column(MessageState, "state", 16), default=MessageState.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Twilio's Message SID, once known; Twilio's status, furthest seen.
    provider_sid: Mapped[str | None] = mapped_column(String(34), nullable=True, unique=True)
    provider_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    segments: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Set when a person must act ("Call the victim"), with why; until handled.
    attention: Mapped[Attention | None] = mapped_column(
        enum_column(Attention, "attention", 16), nullable=True
    )
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    #: When the reconciler last tried to settle this ``unknown`` row and could
    #: not (Twilio unreachable, or a backend with nothing to ask).
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    subscription = relationship("Subscription", lazy="joined", innerjoin=True)


class SmsCallback(db.Model):
    """A status Twilio reported for a message, kept once: a replayed callback
    finds its row and changes nothing."""

    __tablename__ = "sms_callback"
    __table_args__ = (UniqueConstraint("message_sid", "status", name="uq_sms_callback_sid_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(34))
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class InboundMessage(db.Model):
    """A text a victim sent; the body is encrypted and never logged.  A reply
    from a number no subscription knows is kept without agency, unshown."""

    __tablename__ = "sms_inbound"
    __table_args__ = (
        Index(
            "ix_sms_inbound_open",
            "agency_id",
            "id",
            postgresql_where=text("handled_at IS NULL"),
            sqlite_where=text("handled_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(34), unique=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), nullable=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("sms_subscription.id"), nullable=True)
    body: Mapped[str] = mapped_column(EncryptedString())
    kind: Mapped[ReplyKind] = mapped_column(enum_column(ReplyKind, "kind", 16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    subscription = relationship("Subscription", lazy="joined")


class SendRate(db.Model):
    """The next moment a sender may send: every worker reserves its slot here
    with one atomic UPDATE before sending, so the rate holds across
    machines.  Seconds since the epoch (a float), so that one statement can
    add a message's cost on both engines."""

    __tablename__ = "sms_send_rate"

    sender_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float, default=0.0)


__all__ = [
    "Attention",
    "EndReason",
    "InboundMessage",
    "MessageKind",
    "MessageState",
    "OutboxMessage",
    "ReplyKind",
    "SendRate",
    "SmsCallback",
    "SmsSender",
    "Style",
    "Subscription",
    "SubscriptionState",
]
