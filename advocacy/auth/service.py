"""Passwords, TOTP, lockout and sessions, as plain functions over the database session.

Everything that must hold across worker processes lives in the database and
changes through single atomic statements: failure counters per user name (an
upsert), the last accepted TOTP step (a compare-and-set, so a code cannot be
used twice even by two requests racing each other), and the session records
that a sign-out ends for good.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, cached_property
from typing import Any

import pyotp
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Text, bindparam, delete, select, type_coerce, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from advocacy import clock
from advocacy.actor import ANONYMOUS, Actor
from advocacy.audit.service import record
from advocacy.auth.models import Agency, LoginThrottle, Membership, Role, User, UserSession
from advocacy.extensions import db, is_postgresql
from advocacy.types import decrypt_token, lookup_hash

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
TOTP_STEP_SECONDS = 30
ISSUER = "advocacy"


@cache
def _hasher_for(profile: str) -> PasswordHasher:
    """argon2id with RFC 9106's low-memory profile; tests use the cheapest one."""
    return PasswordHasher.from_parameters(getattr(profiles, profile))


def _hasher() -> PasswordHasher:
    return _hasher_for(current_app.config["SETTINGS"].argon2_profile)


@cache
def _dummy_hash(profile: str) -> str:
    """Verifying against this when the user does not exist keeps timing uniform."""
    return _hasher_for(profile).hash("not a real password, only for constant timing")


@cache
def _common_passwords() -> frozenset[str]:
    """zxcvbn's list of the 30,000 most common passwords from public breaches."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problems(password: str, username: str = "") -> list[str]:
    """Translated reasons a new password is refused; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(_("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(_("Use at most %(n)d characters.", n=MAX_PASSWORD_LENGTH))
    lowered = password.lower()
    if lowered in _common_passwords() or lowered.rstrip("0123456789!") in _common_passwords():
        problems.append(_("This password is too common. Choose one that is hard to guess."))
    if username and username.lower() in lowered:
        problems.append(_("The password must not contain your user name."))
    return problems


_WORDS = (
    "maple", "river", "cedar", "harbor", "prairie", "willow", "lantern", "meadow",
    "granite", "birch", "heron", "canyon", "juniper", "aurora", "tamarack", "loon",
    "violet", "summit", "thistle", "orchard", "pebble", "falcon", "glacier", "bramble",
    "copper", "marsh", "spruce", "ember", "lagoon", "quartz", "sparrow", "timber",
    "acorn", "basalt", "clover", "delta", "fern", "garnet", "hazel", "island",
    "jasper", "kestrel", "linden", "mesa", "nettle", "otter", "pine", "quill",
    "raven", "sage", "tundra", "umber", "valley", "wren", "yarrow", "zephyr",
    "amber", "brook", "cobalt", "dune", "elm", "flint", "grove", "hollow",
)  # fmt: skip


def random_passphrase() -> str:
    """Five words from 64 and a number: about 36 bits, easy to read aloud or type
    from a printout.  Only for temporary and demo passwords: lockout caps online
    guessing, and a temporary password must be replaced at the first sign-in."""
    return "-".join(secrets.choice(_WORDS) for _ in range(5)) + f"-{secrets.randbelow(100)}"


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def password_matches(user: User | None, password: str) -> bool:
    if user is None:
        with contextlib.suppress(VerificationError):
            _hasher().verify(_dummy_hash(current_app.config["SETTINGS"].argon2_profile), password)
        return False
    try:
        ok = _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if ok and _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    return ok


class LoginOutcome(enum.Enum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"


@dataclass(frozen=True)
class PasswordCheck:
    outcome: LoginOutcome
    user: User | None = None


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username.strip().lower()))


THROTTLE_PURPOSE = "login.username"


def as_actor(user: User | None) -> Actor:
    """Who an account event is about and by: the person signing in (not yet a session)."""
    return Actor.for_user(user) if user is not None else ANONYMOUS


def throttle_key(username: str) -> str:
    """The key of a user name's failure counter: the only place it is derived."""
    return lookup_hash(username, THROTTLE_PURPOSE)


def locked_until(username: str) -> datetime | None:
    """When the lock on this user name ends, or None when it is not locked."""
    until = db.session.scalar(
        select(LoginThrottle.locked_until).where(LoginThrottle.key_hash == throttle_key(username))
    )
    return until if until is not None and until > clock.now() else None


def locked_names(usernames: list[str]) -> set[str]:
    """Which of ``usernames`` are locked out now, in one query."""
    keys = {throttle_key(name): name for name in usernames}
    if not keys:
        return set()
    locked = db.session.scalars(
        select(LoginThrottle.key_hash).where(
            LoginThrottle.key_hash.in_(keys), LoginThrottle.locked_until > clock.now()
        )
    )
    return {keys[key] for key in locked}


def register_failure(username: str, action: str, user: User | None = None) -> bool:
    """Count one failed attempt on a user name, atomically; lock it at the threshold.

    Counted per user name whether or not an account has it, so that locking
    cannot tell anyone which names exist.  Returns True when this failure locked.
    The count is flushed in the caller's transaction, which must commit it even
    though the sign-in failed (the views do: a refused sign-in is a normal page).
    """
    user_id = user.id if user is not None else None
    settings = current_app.config["SETTINGS"]
    insert = pg_insert if is_postgresql() else sqlite_insert
    key = throttle_key(username)
    statement = insert(LoginThrottle).values(key_hash=key, failures=1)
    count = db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[LoginThrottle.key_hash], set_={"failures": LoginThrottle.failures + 1}
        ).returning(LoginThrottle.failures)
    ).scalar_one()
    subject = "user" if user_id is not None else None  # an unknown name is not an object
    actor = as_actor(user)
    record(actor, action, subject, user_id)
    locked = count >= settings.lockout_threshold
    if locked:
        db.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key_hash == key)
            .values(failures=0, locked_until=clock.now() + timedelta(seconds=settings.lockout_seconds))
        )
        record(actor, "login.locked", subject, user_id)
    return locked


def clear_failures(username: str) -> None:
    """After a full sign-in, or an admin's unlock (in the caller's transaction)."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key_hash == throttle_key(username)))


def check_password_step(username: str, password: str) -> PasswordCheck:
    """First factor.  Unknown users, wrong passwords and locked accounts look alike
    to the person signing in, apart from the lockout message, which any user
    name earns the same way."""
    user = find_user(username)
    if locked_until(username) is not None:
        if user is None:
            record(ANONYMOUS, "login.refused_locked")
        else:
            record(as_actor(user), "login.refused_locked", "user", user.id)
        return PasswordCheck(LoginOutcome.LOCKED)
    matches = password_matches(user, password)  # always hashes, even for an unknown name
    if user is None or not matches or not user.is_active:
        action = "login.failure" if user is not None else "login.failure_unknown_user"
        locked = register_failure(username, action, user)
        return PasswordCheck(LoginOutcome.LOCKED if locked else LoginOutcome.BAD_CREDENTIALS)
    return PasswordCheck(LoginOutcome.OK, user)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User) -> str:
    assert user.totp_secret
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def totp_now(user: User) -> str:
    """The code an authenticator app shows at the app's clock's time."""
    assert user.totp_secret
    return pyotp.TOTP(user.totp_secret).at(clock.now())


def verify_totp(user: User, code: str, *, at: float | None = None) -> bool:
    """Accept a code of the current step or its neighbours, and only once.

    The accepted step is written with a compare-and-set, so a replayed code,
    or the same code sent twice at once, is refused.
    """
    code = "".join(code.split())
    if not user.totp_secret or len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    step = int((clock.now().timestamp() if at is None else at) // TOTP_STEP_SECONDS)
    for candidate in (step, step - 1, step + 1):
        if hmac.compare_digest(totp.at(candidate * TOTP_STEP_SECONDS), code):
            result = db.session.execute(
                update(User)
                .where(User.id == user.id, User.totp_last_step < candidate)
                .values(totp_last_step=candidate)
            )
            return result.rowcount == 1
    return False


def check_code_step(user: User, code: str) -> LoginOutcome:
    """Second factor: a wrong or replayed code counts towards the lockout."""
    if locked_until(user.username) is not None:
        return LoginOutcome.LOCKED
    if verify_totp(user, code):
        if not user.totp_enrolled:
            user.totp_confirmed_at = clock.now()
            record(as_actor(user), "totp.enrolled", "user", user.id)
        clear_failures(user.username)
        record(as_actor(user), "login.success", "user", user.id)
        return LoginOutcome.OK
    locked = register_failure(user.username, "login.code_failure", user)
    return LoginOutcome.LOCKED if locked else LoginOutcome.BAD_CREDENTIALS


def start_totp_enrolment(user: User) -> None:
    if not user.totp_enrolled and not user.totp_secret:
        user.totp_secret = new_totp_secret()
        db.session.flush()


def change_password(actor: Actor, user: User, new_password: str) -> None:
    """Set a new password and end every session of this user (the caller opens a new one)."""
    user.password_hash = hash_password(new_password)
    user.password_changed_at = clock.now()
    user.must_change_password = False
    end_sessions_of(user)
    record(actor, "password.changed", "user", user.id)
    db.session.flush()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user: User) -> str:
    """Record a new signed-in session and give ``user`` its Flask-Login id."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=_token_hash(token), created_at=clock.now()))
    db.session.flush()
    user._login_id = f"{user.id}:{token}"
    return user._login_id


def _parse_login_id(login_id: str) -> tuple[int, str] | None:
    ident, _sep, token = login_id.partition(":")
    if not ident.isdigit() or not token:
        return None
    return int(ident), token


def _oldest_usable_session() -> datetime:
    return clock.now() - timedelta(seconds=current_app.config["SETTINGS"].session_max_seconds)


def purge_sessions() -> int:
    """Delete the rows of sessions that can no longer sign anyone in (for a daily job)."""
    result = db.session.execute(
        delete(UserSession).where(
            (UserSession.ended_at.is_not(None)) | (UserSession.created_at <= _oldest_usable_session())
        )
    )
    return result.rowcount


def end_session(login_id: str) -> None:
    """End one session (sign-out, idle timeout, CSRF failure)."""
    parsed = _parse_login_id(login_id)
    if parsed is None:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _token_hash(parsed[1]), UserSession.ended_at.is_(None))
        .values(ended_at=clock.now())
    )


def end_sessions_of(user: User) -> None:
    """End every open session of ``user``, in the caller's transaction."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=clock.now())
    )


def end_all_sessions(actor: Actor, user: User) -> None:
    end_sessions_of(user)
    record(actor, "sessions.ended", "user", user.id)


@dataclass(frozen=True)
class SessionAgency:
    id: int
    name: str


@dataclass(frozen=True)
class SessionMembership:
    agency_id: int
    role: str
    agency: SessionAgency


class SignedIn:
    """The signed-in person as every request needs them, read in one statement.

    Not an ORM object: building one, with its memberships, cost more than
    the rest of a small page.  It has what the guards, the actor and the
    page header read; :attr:`record` loads the account itself for the few
    requests that change it (a new password, a saved language).
    """

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(
        self,
        *,
        user_id: int,
        username: str,
        display_name_token: str,
        language: str | None,
        must_change_password: bool,
        memberships: tuple[SessionMembership, ...],
        login_id: str,
    ) -> None:
        self.id = user_id
        self.username = username
        self._display_name_token = display_name_token
        self.language = language
        self.must_change_password = must_change_password
        self.memberships = memberships
        self._login_id = login_id

    def get_id(self) -> str:
        return self._login_id

    @cached_property
    def display_name(self) -> str:
        """Decrypted only when a page shows it."""
        return decrypt_token(self._display_name_token)

    @cached_property
    def record(self) -> User:
        user = db.session.get(User, self.id)
        assert user is not None
        user._login_id = self._login_id
        return user


@cache
def _signed_in_statement() -> Any:
    """Built once: a plain Core statement over the tables (the ORM's per-call work
    was most of a small page's cost), its values bound at each request."""
    user, member, agency, sess = (
        User.__table__.c,
        Membership.__table__.c,
        Agency.__table__.c,
        UserSession.__table__.c,
    )
    joined = (
        User.__table__.join(UserSession.__table__, sess.user_id == user.id)
        .outerjoin(Membership.__table__, member.user_id == user.id)
        .outerjoin(Agency.__table__, agency.id == member.agency_id)
    )
    return (
        select(
            user.username,
            # The stored token: decrypted only if a page shows the name.
            type_coerce(user.display_name, Text).label("display_name"),
            user.language,
            user.must_change_password,
            member.agency_id,
            member.role,
            agency.name.label("agency_name"),
        )
        .select_from(joined)
        .where(
            user.id == bindparam("user_id"),
            user.active.is_(True),
            sess.token_hash == bindparam("token_hash"),
            sess.ended_at.is_(None),
            sess.created_at > bindparam("oldest"),
        )
        .order_by(member.id)
    )


def load_user(login_id: str) -> SignedIn | None:
    """Flask-Login's loader: the id is ``user id:session token`` of an open session.

    One statement for the open session, the user, their memberships and their
    agencies' names: it runs on every request, before anything else.
    """
    parsed = _parse_login_id(login_id)
    if parsed is None:
        return None
    user_id, token = parsed
    rows = db.session.execute(
        _signed_in_statement(),
        {"user_id": user_id, "token_hash": _token_hash(token), "oldest": _oldest_usable_session()},
    ).all()
    if not rows:
        return None
    first = rows[0]
    return SignedIn(
        user_id=user_id,
        username=first.username,
        display_name_token=first.display_name,
        language=first.language,
        must_change_password=first.must_change_password,
        memberships=tuple(
            SessionMembership(row.agency_id, row.role, SessionAgency(row.agency_id, row.agency_name))
            for row in rows
            if row.agency_id is not None
        ),
        login_id=login_id,
    )


def create_agency(name: str, slug: str) -> Agency:
    agency = Agency(name=name, slug=slug)
    db.session.add(agency)
    db.session.flush()
    record(
        Actor.system("agency.create", agency.id), "agency.created", "agency", agency.id, agency_id=agency.id
    )
    return agency


def create_user(
    actor: Actor,
    username: str,
    display_name: str,
    password: str,
    memberships: list[tuple[Agency, Role]],
    *,
    language: str | None = None,
    enrol_totp: bool = False,
) -> User:
    """Create a staff account.  ``enrol_totp`` is for demo data and tests only."""
    problems = password_problems(password, username)
    if problems:
        raise ValueError(" ".join(problems))
    user = User(
        username=username.strip().lower(),
        display_name=display_name,
        password_hash=hash_password(password),
        language=language,
    )
    for agency, role in memberships:
        user.memberships.append(Membership(agency=agency, role=role.value))
    if enrol_totp:
        user.totp_secret = new_totp_secret()
        user.totp_confirmed_at = clock.now()
    db.session.add(user)
    db.session.flush()
    for agency, _role in memberships:
        record(actor, "user.created", "user", user.id, agency_id=agency.id)
    return user
