"""Staff accounts as an agency admin sees them: only members of their own agencies.

An admin manages memberships in the agencies where they are admin.  Actions on
the account itself (deactivate, unlock, reset two-step sign-in, temporary
password) are allowed only when every membership of that account is in such
an agency, so one agency cannot lock a colleague out of another.
"""

from __future__ import annotations

import enum

from sqlalchemy import delete, select

from advocacy.access import agency_ids, scoped
from advocacy.audit.models import AuditEvent
from advocacy.audit.service import record
from advocacy.auth.models import Agency, Membership, Role, User
from advocacy.auth.service import (
    clear_failures,
    create_user,
    end_sessions_of,
    find_user,
    hash_password,
    locked_names,
    random_passphrase,
)
from advocacy.extensions import db


class AdminError(enum.Enum):
    USERNAME_TAKEN = "username_taken"
    SELF = "self"
    SHARED_ACCOUNT = "shared_account"
    LAST_ADMIN = "last_admin"


class AdminRefused(Exception):
    def __init__(self, reason: AdminError) -> None:
        super().__init__(reason.value)
        self.reason = reason


def admin_agencies() -> list[Agency]:
    ids = agency_ids(Role.ADMIN)
    return list(db.session.scalars(select(Agency).where(Agency.id.in_(ids)).order_by(Agency.name)))


def _member_ids():  # type: ignore[no-untyped-def]
    return scoped(select(Membership.user_id), Membership.agency_id, Role.ADMIN)


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).where(User.id.in_(_member_ids())).order_by(User.username)))


def get_user_or_none(user_id: int) -> User | None:
    return db.session.scalar(select(User).where(User.id == user_id, User.id.in_(_member_ids())))


def locked_user_ids(users: list[User]) -> set[int]:
    """Which of ``users`` are locked out now, in one query."""
    locked = locked_names([u.username for u in users])
    return {u.id for u in users if u.username in locked}


def fully_managed(user: User) -> bool:
    """True when every membership of ``user`` is in an agency the admin manages."""
    mine = set(agency_ids(Role.ADMIN))
    return all(m.agency_id in mine for m in user.memberships)


def add_user(agency_id: int, username: str, display_name: str, role: Role) -> tuple[User, str]:
    """Open an account with a temporary password the admin hands over once."""
    if agency_id not in agency_ids(Role.ADMIN):
        raise PermissionError("not an admin of that agency")
    if find_user(username) is not None:
        raise AdminRefused(AdminError.USERNAME_TAKEN)
    agency = db.session.get(Agency, agency_id)
    password = random_passphrase()
    user = create_user(username, display_name, password, [(agency, role)])  # type: ignore[list-item]
    user.must_change_password = True
    db.session.commit()
    return user, password


def _admins_of(agency_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(Membership.user_id).where(
                Membership.agency_id == agency_id, Membership.role == Role.ADMIN.value
            )
        )
    )


def set_roles(admin: User, user: User, agency_id: int, roles: set[Role]) -> None:
    """Replace ``user``'s roles in one agency; an agency always keeps an admin."""
    if agency_id not in agency_ids(Role.ADMIN):
        raise PermissionError("not an admin of that agency")
    admins = _admins_of(agency_id)
    if Role.ADMIN not in roles and user.id in admins and admins == {user.id}:
        raise AdminRefused(AdminError.LAST_ADMIN)
    if user.id == admin.id and Role.ADMIN not in roles:
        raise AdminRefused(AdminError.SELF)
    db.session.execute(
        delete(Membership).where(Membership.user_id == user.id, Membership.agency_id == agency_id)
    )
    for role in sorted(roles):
        db.session.add(Membership(user_id=user.id, agency_id=agency_id, role=role.value))
    end_sessions_of(user)  # new roles take effect at the next sign-in, everywhere
    record("user.roles_changed", "user", user.id, agency_id=agency_id)
    db.session.commit()
    db.session.expire(user)


def _account_action(admin: User, user: User) -> None:
    if user.id == admin.id:
        raise AdminRefused(AdminError.SELF)
    if not fully_managed(user):
        raise AdminRefused(AdminError.SHARED_ACCOUNT)


def set_active(admin: User, user: User, active: bool) -> None:
    _account_action(admin, user)
    user.active = active
    end_sessions_of(user)
    record("user.activated" if active else "user.deactivated", "user", user.id)
    db.session.commit()


def unlock(admin: User, user: User) -> None:
    _account_action(admin, user)
    clear_failures(user.username)
    record("user.unlocked", "user", user.id)
    db.session.commit()


def reset_two_factor(admin: User, user: User) -> None:
    """For a lost phone: the user sets up two-step sign-in again at the next sign-in."""
    _account_action(admin, user)
    user.totp_secret = None
    user.totp_confirmed_at = None
    end_sessions_of(user)
    record("user.two_factor_reset", "user", user.id)
    db.session.commit()


def issue_temporary_password(admin: User, user: User) -> str:
    _account_action(admin, user)
    password = random_passphrase()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    end_sessions_of(user)
    record("user.temporary_password", "user", user.id)
    db.session.commit()
    return password


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
