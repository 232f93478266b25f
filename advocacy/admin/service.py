"""Staff accounts as an agency admin sees them: only members of their own agencies."""

from __future__ import annotations

from sqlalchemy import select

from advocacy.access import agency_ids, scoped
from advocacy.audit.models import AuditEvent
from advocacy.auth.models import Membership, Role, User
from advocacy.extensions import db


def list_users() -> list[User]:
    member_ids = scoped(select(Membership.user_id), Membership.agency_id, Role.ADMIN)
    return list(db.session.scalars(select(User).where(User.id.in_(member_ids)).order_by(User.username)))


def get_user_or_none(user_id: int) -> User | None:
    member_ids = scoped(select(Membership.user_id), Membership.agency_id, Role.ADMIN)
    return db.session.scalar(select(User).where(User.id == user_id, User.id.in_(member_ids)))


def recent_audit_events(limit: int = 100) -> list[AuditEvent]:
    ids = agency_ids(Role.ADMIN)
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.agency_id.in_(ids))
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )
