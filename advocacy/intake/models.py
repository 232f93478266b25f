"""Cases, intake drafts, risk screenings and what a screening sets in motion.

Every personal field is an :class:`~advocacy.types.EncryptedString`.  Two of
them also have a keyed-hash column, so that a case can be found by its
person's name, or an inbound SMS matched by phone number, without decrypting
every row: ``name_hash`` and ``phone_hash``.

The case keeps a copy of its latest screening's outcome (``danger``,
``last_screened_at``) so that the case list can filter and flag "high
danger" from an index, at 100,000 cases, without reading screenings.  Only
:mod:`advocacy.intake.service` writes either side, in one transaction.

Raw screening answers (``RiskScreening.answers``) are encrypted and are read
by one page only: the owning agency's case page.  What may later be shared is
:class:`advocacy.intake.service.ScreeningResult`, which has no answers in it.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from advocacy import clock
from advocacy.extensions import db
from advocacy.states import Machine, Transition
from advocacy.types import EncryptedString, UTCDateTime, lookup_hash_column
from advocacy.vocab import LabelledEnum, enum_column

#: An intake not touched for this long is deleted (``flask intake purge-drafts``):
#: what a person said at intake must not sit unfinished and forgotten.
DRAFT_DAYS = 30


class CaseStatus(LabelledEnum):
    OPEN = "open", _l("Open")
    CLOSED = "closed", _l("Closed")


class Danger(LabelledEnum):
    """The case's current danger, from its latest screening."""

    HIGH = "high", _l("High danger")
    STANDARD = "standard", _l("Not screened in")
    UNSCREENED = "unscreened", _l("Not screened yet")


class ReferralSource(LabelledEnum):
    SELF = "self", _l("Came on their own")
    HOTLINE = "hotline", _l("Hotline")
    POLICE = "police", _l("Police or sheriff")
    COURT = "court", _l("Court")
    PROSECUTOR = "prosecutor", _l("Prosecutor's office")
    HEALTH = "health", _l("Hospital or clinic")
    SOCIAL_SERVICES = "social_services", _l("Social services")
    ANOTHER_AGENCY = "another_agency", _l("Another advocacy program")
    TRIBAL = "tribal", _l("Tribal program or tribal court")
    FAMILY_FRIEND = "family_friend", _l("Family or friend")
    OTHER = "other", _l("Other")


class AccessNeed(LabelledEnum):
    WHEELCHAIR = "wheelchair", _l("Uses a wheelchair or needs step-free access")
    DEAF = "deaf", _l("Deaf or hard of hearing")
    BLIND = "blind", _l("Blind or low vision")
    INTERPRETER = "interpreter", _l("Needs a sign language interpreter")
    COGNITIVE = "cognitive", _l("Cognitive or learning disability")
    MEDICAL = "medical", _l("Medical needs (medication, equipment)")
    SERVICE_ANIMAL = "service_animal", _l("Has a service animal")


class CloseReason(LabelledEnum):
    SERVICES_COMPLETE = "services_complete", _l("Services complete")
    NO_CONTACT = "no_contact", _l("No safe way to reach them")
    DECLINED = "declined", _l("They declined further services")
    MOVED = "moved", _l("Moved out of the area")
    REFERRED = "referred", _l("Referred to another program")
    OTHER = "other", _l("Other")


class ProtocolStepKey(LabelledEnum):
    """What a screened-in case sets in motion, in the order it is done."""

    HOTLINE = "hotline", _l("Connect them with the hotline advocate now")
    PRIORITY_PLACEMENT = "priority_placement", _l("Give priority for a shelter bed")
    DENSER_REMINDERS = "denser_reminders", _l("Use the denser reminder schedule for court dates")
    OFFER_SHARE = "offer_share", _l("Offer to share the screen result with the coordinated response")


class ProtocolOutcome(LabelledEnum):
    DONE = "done", _l("Done")
    DECLINED = "declined", _l("They declined")
    NOT_POSSIBLE = "not_possible", _l("Not possible now")


class PlacementKind(LabelledEnum):
    REFERRAL = "referral", _l("Bed requested")
    NO_BED_NEEDED = "no_bed_needed", _l("No bed needed")
    LATER = "later", _l("Bed to be found later")


class IntakeStep(LabelledEnum):
    """The guided intake's steps, in order: a draft is always at one of them."""

    PERSON = "person", _l("The person")
    CONTACT = "contact", _l("Safe contact")
    HOUSEHOLD = "household", _l("Household")
    NEEDS = "needs", _l("Needs")
    SCREEN = "screen", _l("Risk screen")
    CONSENT = "consent", _l("Choices")
    PLACEMENT = "placement", _l("Bed")


#: A case opens, closes and opens again; nothing else moves its status.
CASE = Machine(
    "case",
    CaseStatus,
    [
        Transition("open", (None,), CaseStatus.OPEN, _l("Case opened"), "case.created"),
        Transition("close", (CaseStatus.OPEN,), CaseStatus.CLOSED, _l("Case closed"), "case.closed"),
        Transition("reopen", (CaseStatus.CLOSED,), CaseStatus.OPEN, _l("Case reopened"), "case.reopened"),
    ],
)


def case_number(opened_at: datetime, case_id: int) -> str:
    """The case number people say and type: the year it opened and its id (``2026-000123``)."""
    return f"{opened_at.year}-{case_id:06d}"


class CaseFacts:
    """What a case says of itself from its id, opening and danger: for the model and for
    the case list's narrow rows (``intake.service.cases.CaseRow``) alike."""

    __slots__ = ()
    id: int
    opened_at: datetime
    danger: str

    @property
    def number(self) -> str:
        """The case number people say and type: the year it opened and its id."""
        return case_number(self.opened_at, self.id)

    @property
    def high_danger(self) -> bool:
        return self.danger == Danger.HIGH.value


class Case(CaseFacts, db.Model):
    __tablename__ = "case_file"
    __table_args__ = (
        # The case list: an agency's cases, newest first, filtered by one of these.
        # On PostgreSQL each also carries the other filters' columns, so that a
        # count of two filters together ("high danger, open") reads the index only.
        Index("ix_case_agency_opened", "agency_id", "opened_at", "id"),
        Index(
            "ix_case_agency_status_opened",
            "agency_id",
            "status",
            "opened_at",
            "id",
            postgresql_include=["danger", "owner_id"],
        ),
        Index(
            "ix_case_agency_danger_opened",
            "agency_id",
            "danger",
            "opened_at",
            "id",
            postgresql_include=["status", "owner_id"],
        ),
        Index(
            "ix_case_agency_owner_opened",
            "agency_id",
            "owner_id",
            "opened_at",
            "id",
            postgresql_include=["status", "danger"],
        ),
        # The advocate's home page: their open cases of one danger level, newest first
        # (one range of this index per level, high danger first).
        Index(
            "ix_case_agency_owner_status_danger",
            "agency_id",
            "owner_id",
            "status",
            "danger",
            "opened_at",
            "id",
        ),
        # A closed case says when and why; an open one does neither.
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_when"),
        CheckConstraint("status = 'closed' OR close_reason IS NULL", name="reason_only_when_closed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The person's name or an alias they chose: the only name the app keeps.
    alias: Mapped[str] = mapped_column(EncryptedString())
    name_hash: Mapped[str | None] = lookup_hash_column()
    # BCP 47 tag: the person's language for SMS and content, not always one the UI has.
    language: Mapped[str] = mapped_column(String(16), default="en")
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    referral_source: Mapped[str | None] = mapped_column(String(32), nullable=True)

    # Safe ways of contact.  The number is only a number until SMS enrolment confirms it.
    phone: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    phone_hash: Mapped[str | None] = lookup_hash_column()
    safe_to_text: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    safe_to_call: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    safe_voicemail: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    code_word: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    contact_note: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)

    # Household, as numbers and ages: what a referral may carry is derived from these.
    adults: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    children_ages: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    oldest_boy_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pets: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pets_note: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)

    # Needs: fixed vocabularies (space-separated AccessNeed values) plus the person's own words.
    access_needs: Mapped[str] = mapped_column(String(200), default="", server_default="")
    access_note: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    cultural_program: Mapped[str | None] = mapped_column(String(32), nullable=True)
    cultural_note: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)

    # What the person chose at intake.  A release to the tracking system needs its
    # own written, time-limited consent record (hand-off); this is not one.
    consent_sms: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    consent_share: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus, "status", 16), default=CaseStatus.OPEN)
    close_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    danger: Mapped[Danger] = mapped_column(
        enum_column(Danger, "danger", 16), default=Danger.UNSCREENED, server_default=Danger.UNSCREENED.value
    )
    last_screened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    owner = relationship("User", lazy="joined", innerjoin=True)

    @property
    def ages(self) -> list[int]:
        return [int(a) for a in (self.children_ages or "").split()]

    @property
    def needs(self) -> list[AccessNeed]:
        return [AccessNeed(v) for v in self.access_needs.split()]


class CaseNameKey(db.Model):
    """One blind-index entry of a case's name: a keyed hash of a token or of its sound.

    Written by :mod:`advocacy.intake.service.names` whenever the alias is, in the
    same transaction; the hashes come from :mod:`advocacy.intake.names`.  Nothing
    here can be read back into a name without the hash key.
    """

    __tablename__ = "case_name_key"
    __table_args__ = (
        UniqueConstraint("case_id", "key_hash", name="uq_case_name_key"),
        # The search: the cases of the query's hashes, with what kind of match each is.
        Index("ix_case_name_key_hash", "key_hash", "case_id", "phonetic"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    # False: the folded token itself; True: one of its Double Metaphone keys.
    phonetic: Mapped[bool] = mapped_column(Boolean)


class IntakeDraft(db.Model):
    """An intake in progress: every step's answers, encrypted, until the case opens.

    ``data`` is a JSON object of field values by name.  It is written at every
    step and by the page's autosave before the session times out, so a person
    who is signed out finds it again under "Unfinished intakes".
    """

    __tablename__ = "intake_draft"
    __table_args__ = (Index("ix_intake_draft_agency_updated", "agency_id", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    data: Mapped[str] = mapped_column(EncryptedString())
    # The name typed at the first step, apart from ``data``, so that the list of
    # unfinished intakes decrypts one short field per draft, not every answer.
    alias: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    step: Mapped[IntakeStep] = mapped_column(enum_column(IntakeStep, "step", 32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    owner = relationship("User", lazy="joined", innerjoin=True)


class RiskInstrument(db.Model):
    """An instrument an agency added from a file (a licensed one, say).

    Instruments that ship with the app live in ``advocacy/intake/instruments/``
    and are not rows; their keys are reserved.
    """

    __tablename__ = "risk_instrument"
    __table_args__ = (UniqueConstraint("agency_id", "key", "version", name="uq_risk_instrument_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    # The file as it was accepted: an instrument's questions are not personal data.
    definition: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class RiskScreening(db.Model):
    __tablename__ = "risk_screening"
    __table_args__ = (
        Index("ix_risk_screening_case", "case_id", "screened_at"),
        # Confirmed lowering says when and why; a pending one has neither yet.
        CheckConstraint("(lowered_at IS NULL) = (lowering_reason IS NULL)", name="lowered_with_reason"),
        CheckConstraint("NOT (lower_pending AND lowered_at IS NOT NULL)", name="pending_or_lowered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    instrument_key: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(32))
    screened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    screened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    # Raw answers, JSON {question key: answer}: the owning agency's case page only.
    answers: Mapped[str] = mapped_column(EncryptedString())
    score: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[str] = mapped_column(String(32))
    screened_in: Mapped[bool] = mapped_column(Boolean, default=False)
    by_judgment: Mapped[bool] = mapped_column(Boolean, default=False)
    judgment_reason: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    # A screening that would lower a high-danger case waits for an advocate:
    # until one confirms it with a reason, the case stays high and its steps open.
    lower_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    lowered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lowered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    lowering_reason: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)

    screened_by = relationship("User", foreign_keys=[screened_by_id])
    lowered_by = relationship("User", foreign_keys=[lowered_by_id])


class ProtocolStep(db.Model):
    """One step of the high-danger protocol for one screening, and how it went."""

    __tablename__ = "protocol_step"
    __table_args__ = (UniqueConstraint("screening_id", "step", name="uq_protocol_step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    screening_id: Mapped[int] = mapped_column(ForeignKey("risk_screening.id"))
    step: Mapped[ProtocolStepKey] = mapped_column(enum_column(ProtocolStepKey, "step", 32))
    outcome: Mapped[ProtocolOutcome | None] = mapped_column(
        enum_column(ProtocolOutcome, "outcome", 16), nullable=True
    )
    note: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    done_by = relationship("User")


class Placement(db.Model):
    """Where the case's household sleeps, as far as the referring agency knows.

    A referral to a shelter is linked here, on the referring side only: the
    shelter's agency sees a token and numbers, never the case.
    """

    __tablename__ = "case_placement"
    __table_args__ = (Index("ix_case_placement_case", "case_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    kind: Mapped[PlacementKind] = mapped_column(enum_column(PlacementKind, "kind", 16))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"), nullable=True, unique=True)
    note: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    referral = relationship("Referral")
