"""Staff accounts as an agency admin sees them: only members of their own agencies.

An admin manages memberships in the agencies where they are admin.  Actions on
the account itself (deactivate, unlock, reset two-step sign-in, temporary
password) are allowed only when every membership of that account is in such
an agency, so one agency cannot lock a colleague out of another.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, select

from advocacy.access import scoped
from advocacy.actor import Actor
from advocacy.audit.models import AuditCheckpoint, AuditEvent
from advocacy.audit.service import record
from advocacy.audit.verify import AgencyAuditStatus, agency_audit_status
from advocacy.auth.models import Agency, Membership, Role, User, UserSession
from advocacy.auth.service import (
    clear_failures,
    create_user,
    end_sessions_of,
    find_user,
    hash_password,
    locked_names,
    random_passphrase,
)
from advocacy.errors import Forbidden, NotFound, Refused
from advocacy.extensions import db


def _self_refused() -> Refused:
    return Refused(_("You cannot do this to your own account. Ask another admin."))


def admin_agencies(actor: Actor) -> list[Agency]:
    ids = actor.agency_ids(Role.ADMIN)
    return list(db.session.scalars(select(Agency).where(Agency.id.in_(ids)).order_by(Agency.name)))


def _member_ids(actor: Actor):  # type: ignore[no-untyped-def]
    return scoped(actor, select(Membership.user_id), Membership.agency_id, Role.ADMIN)


def list_users(actor: Actor) -> list[User]:
    return list(
        db.session.scalars(select(User).where(User.id.in_(_member_ids(actor))).order_by(User.username))
    )


def get_user(actor: Actor, user_id: int) -> User:
    """A member of one of the actor's agencies (as admin); anyone else is NotFound."""
    user = db.session.scalar(select(User).where(User.id == user_id, User.id.in_(_member_ids(actor))))
    if user is None:
        raise NotFound()
    return user


def locked_user_ids(users: list[User]) -> set[int]:
    """Which of ``users`` are locked out now, in one query."""
    locked = locked_names([u.username for u in users])
    return {u.id for u in users if u.username in locked}


def fully_managed(actor: Actor, user: User) -> bool:
    """True when every membership of ``user`` is in an agency the admin manages."""
    mine = set(actor.agency_ids(Role.ADMIN))
    return all(m.agency_id in mine for m in user.memberships)


def _require_admin_of(actor: Actor, agency_id: int) -> None:
    if agency_id not in actor.agency_ids(Role.ADMIN):
        raise Forbidden()


def agency_user_name(agency: Agency, name: str) -> str:
    """The account's user name in its agency's namespace: ``north.fern`` for "fern" at "north".

    User names are unique in the whole deployment, so a refusal of a name
    would tell an admin that another agency has a user of that name.  Inside
    the agency's own prefix a name can only clash with a colleague the admin
    already sees in their list.  A name already given with the prefix keeps it.
    """
    name = name.strip()
    prefix = f"{agency.slug}."
    return name if name.lower().startswith(prefix.lower()) else prefix + name


def add_user(actor: Actor, agency_id: int, username: str, display_name: str, role: Role) -> tuple[User, str]:
    """Open an account with a temporary password the admin hands over once.

    The user name goes into the agency's namespace (:func:`agency_user_name`).
    """
    _require_admin_of(actor, agency_id)
    agency = db.session.get(Agency, agency_id)
    assert agency is not None
    username = agency_user_name(agency, username)
    if len(username) > 64:
        raise Refused(_("User names are 3 to 64 characters."), "username")
    if find_user(username) is not None:
        raise Refused(_("That user name is taken. Choose another."), "username")
    password = random_passphrase()
    user = create_user(actor, username, display_name, password, [(agency, role)])  # type: ignore[list-item]
    user.must_change_password = True
    db.session.flush()
    return user, password


def _admins_of(agency_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(Membership.user_id).where(
                Membership.agency_id == agency_id, Membership.role == Role.ADMIN.value
            )
        )
    )


def set_roles(actor: Actor, user: User, agency_id: int, roles: set[Role]) -> None:
    """Replace ``user``'s roles in one agency; an agency always keeps an admin."""
    _require_admin_of(actor, agency_id)
    admins = _admins_of(agency_id)
    if Role.ADMIN not in roles and user.id in admins and admins == {user.id}:
        raise Refused(_("An agency needs at least one admin. Make someone else admin first."))
    if user.id == actor.user_id and Role.ADMIN not in roles:
        raise _self_refused()
    db.session.execute(
        delete(Membership).where(Membership.user_id == user.id, Membership.agency_id == agency_id)
    )
    for role in sorted(roles):
        db.session.add(Membership(user_id=user.id, agency_id=agency_id, role=role.value))
    end_sessions_of(user)  # new roles take effect at the next sign-in, everywhere
    record(actor, "user.roles_changed", "user", user.id, agency_id=agency_id)
    db.session.flush()
    db.session.expire(user)


def _account_action(actor: Actor, user: User) -> None:
    if user.id == actor.user_id:
        raise _self_refused()
    if not fully_managed(actor, user):
        raise Refused(
            _(
                "This person also works for another agency; only an admin of every agency they belong to can do this."
            )
        )


def set_active(actor: Actor, user: User, active: bool) -> None:
    _account_action(actor, user)
    user.active = active
    end_sessions_of(user)
    record(actor, "user.activated" if active else "user.deactivated", "user", user.id)
    db.session.flush()


def unlock(actor: Actor, user: User) -> None:
    _account_action(actor, user)
    clear_failures(user.username)
    record(actor, "user.unlocked", "user", user.id)


def reset_two_factor(actor: Actor, user: User) -> None:
    """For a lost phone: the user sets up two-step sign-in again at the next sign-in."""
    _account_action(actor, user)
    user.totp_secret = None
    user.totp_confirmed_at = None
    end_sessions_of(user)
    record(actor, "user.two_factor_reset", "user", user.id)
    db.session.flush()


def issue_temporary_password(actor: Actor, user: User) -> str:
    _account_action(actor, user)
    password = random_passphrase()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    end_sessions_of(user)
    record(actor, "user.temporary_password", "user", user.id)
    db.session.flush()
    return password


def recent_audit_events(actor: Actor, limit: int = 100) -> list[AuditEvent]:
    ids = actor.agency_ids(Role.ADMIN)
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.agency_id.in_(ids))
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )


def audit_status(actor: Actor) -> list[tuple[Agency, AgencyAuditStatus]]:
    """Each administered agency's own chain: its length and its last verification.

    The page never re-verifies (``flask audit verify`` does, on a schedule) and
    never shows another agency's or the deployment's numbers.
    """
    agencies = db.session.scalars(
        select(Agency).where(Agency.id.in_(actor.agency_ids(Role.ADMIN))).order_by(Agency.name)
    )
    return [(agency, agency_audit_status(agency.id)) for agency in agencies]


# --- the admin's home page ------------------------------------------------------------------


@dataclass(frozen=True)
class AccountToCheck:
    user_id: int
    username: str
    display_name: str
    locked: bool
    never_signed_in: bool


def _acting_admin_agency(actor: Actor) -> int | None:
    if not actor.acts_as(Role.ADMIN):
        return None
    return actor.agency_id


def accounts_to_check(actor: Actor, limit: int = 500) -> list[AccountToCheck]:
    """Active accounts of the acting agency that are locked out now or have never
    signed in (no session ever began).

    Two statements: the members with a "never signed in" flag (on the
    membership's agency index), then their locks, which are kept by a keyed
    hash of the user name (so that a lock reveals no name) and cannot be joined.
    """
    agency = _acting_admin_agency(actor)
    if agency is None:
        return []
    started = select(UserSession.id).where(UserSession.user_id == User.id).exists()
    rows = db.session.execute(
        select(User.id, User.username, User.display_name, ~started)
        .where(
            User.id.in_(
                scoped(actor, select(Membership.user_id), Membership.agency_id, Role.ADMIN).where(
                    Membership.agency_id == agency
                )
            ),
            User.active,
        )
        .order_by(User.username)
        .limit(limit)
    ).all()
    locked = locked_names([username for _id, username, _name, _never in rows])
    return [
        AccountToCheck(user_id, username, name, username in locked, bool(never))
        for user_id, username, name, never in rows
        if username in locked or never
    ]


def last_audit_check(actor: Actor) -> AuditCheckpoint | None:
    """The acting agency's last verification of its audit chain (None when it was
    never verified, or the actor is not its admin), read from the checkpoints the
    schedule writes: the home page never verifies."""
    agency = _acting_admin_agency(actor)
    if agency is None:
        return None
    return db.session.scalar(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.chain == f"audit:{agency}")
        .order_by(AuditCheckpoint.id.desc())
        .limit(1)
    )
