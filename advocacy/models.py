"""Imports every model so that the metadata (and Alembic) sees the whole schema."""

from advocacy.audit.models import AuditEvent
from advocacy.auth.models import Agency, Membership, User, UserSession
from advocacy.intake.models import Case
from advocacy.shelters.models import Shelter

__all__ = ["Agency", "AuditEvent", "Case", "Membership", "Shelter", "User", "UserSession"]
