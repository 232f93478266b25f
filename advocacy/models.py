"""Imports every model so that the metadata (and Alembic) sees the whole schema."""

from advocacy.audit.models import AuditEvent
from advocacy.auth.models import Agency, Membership, User, UserSession
from advocacy.court.models import Court, CourtEvent, CourtEventChange, CourtSettings
from advocacy.handoff.models import Consent, Delivery, HandoffRecord, Partner, PartnerToken, WebhookSecret
from advocacy.intake.models import (
    Case,
    CaseNameKey,
    IntakeDraft,
    Placement,
    ProtocolStep,
    RiskInstrument,
    RiskScreening,
)
from advocacy.notify.models import (
    InboundMessage,
    OutboxMessage,
    SendRate,
    SmsCallback,
    SmsSender,
    Subscription,
)
from advocacy.safety.models import LocalNumber, PlanVersion, SafetyPlan
from advocacy.shelters.models import (
    AvailabilityEvent,
    Bed,
    Hold,
    NetworkSettings,
    Referral,
    Room,
    Shelter,
    Stay,
)

__all__ = [
    "Agency",
    "AuditEvent",
    "AvailabilityEvent",
    "Bed",
    "Case",
    "CaseNameKey",
    "Consent",
    "Court",
    "CourtEvent",
    "CourtEventChange",
    "CourtSettings",
    "Delivery",
    "HandoffRecord",
    "Hold",
    "InboundMessage",
    "IntakeDraft",
    "LocalNumber",
    "Membership",
    "NetworkSettings",
    "OutboxMessage",
    "Partner",
    "PartnerToken",
    "Placement",
    "PlanVersion",
    "ProtocolStep",
    "Referral",
    "RiskInstrument",
    "RiskScreening",
    "Room",
    "SafetyPlan",
    "SendRate",
    "Shelter",
    "SmsCallback",
    "SmsSender",
    "Stay",
    "Subscription",
    "User",
    "UserSession",
    "WebhookSecret",
]
