"""Imports every model so that the metadata (and Alembic) sees the whole schema."""

from advocacy.audit.models import AuditEvent
from advocacy.auth.models import Agency, Membership, User, UserSession
from advocacy.intake.models import (
    Case,
    CaseNameKey,
    IntakeDraft,
    Placement,
    ProtocolStep,
    RiskInstrument,
    RiskScreening,
)
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
    "Hold",
    "IntakeDraft",
    "Membership",
    "NetworkSettings",
    "Placement",
    "ProtocolStep",
    "Referral",
    "RiskInstrument",
    "RiskScreening",
    "Room",
    "Shelter",
    "Stay",
    "User",
    "UserSession",
]
