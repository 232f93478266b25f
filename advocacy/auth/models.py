"""Tenants, people and what they may do.

An agency is the unit of isolation: every object that holds victim or shelter
data carries an ``agency_id`` and is reached only through
:mod:`advocacy.access`.  A user's roles are memberships, so a coalition worker
can be an advocate in one agency and a coordinator in another.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from advocacy import clock
from advocacy.extensions import db
from advocacy.roles import Role
from advocacy.types import EncryptedString, UTCDateTime


class Agency(db.Model):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    memberships: Mapped[list[Membership]] = relationship(back_populates="agency")


class User(db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A login name chosen by the agency; not an e-mail address, so it reveals little.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(EncryptedString())
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    # Set when an admin issues a temporary password: the next sign-in must replace it.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The last accepted TOTP time step: a code is accepted once, never replayed.
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    # Set when a sign-in opens a session or a request loads one (not a column):
    # the Flask-Login id is "user id:session token", so each browser session
    # can be ended on its own (see advocacy.auth.service.open_session).
    _login_id = None

    def get_id(self) -> str:
        if self._login_id is None:
            raise RuntimeError("no session is open for this user")
        return self._login_id

    @property
    def totp_enrolled(self) -> bool:
        return self.totp_confirmed_at is not None

    def roles_in(self, agency_id: int) -> set[Role]:
        return {Role(m.role) for m in self.memberships if m.agency_id == agency_id}

    # Who may do what is the actor's business (advocacy.actor): a user's
    # memberships are only its source.


class Membership(db.Model):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "agency_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))

    user: Mapped[User] = relationship(back_populates="memberships")
    agency: Mapped[Agency] = relationship(back_populates="memberships", lazy="joined")


class UserSession(db.Model):
    """One signed-in browser session, so that signing out ends it for good.

    The cookie carries a random token; only its SHA-256 is stored.  A copy of
    the cookie taken before sign-out is refused afterwards, and "sign out
    everywhere", a password change or an admin's action end every row of a
    user at once.  No IP address or browser details are kept.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LoginThrottle(db.Model):
    """Failed sign-in attempts per user name, kept in the database so that the
    lockout holds across every worker process.

    Keyed by a keyed hash of the normalized user name, for names that exist and
    names that do not alike: a lock reveals nothing about which accounts exist,
    and the table holds no user name in clear.
    """

    __tablename__ = "login_throttle"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
