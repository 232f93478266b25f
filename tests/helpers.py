"""Test helpers: a CSRF-aware client, sign-in as a person does it, and small readers.

The world a test needs is built with :mod:`tests.factories`; ``make_agency``
and ``make_user`` are its two oldest names, kept for the many tests that use them.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import current_app
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import update

from advocacy.auth.models import Agency, LoginThrottle, Role, User
from advocacy.auth.service import locked_until, throttle_key, totp_now
from advocacy.extensions import db
from tests import factories
from tests.factories import PASSWORD


class CSRFClient(FlaskClient):
    """Adds a valid CSRF token to every unsafe request, as our forms do.

    The token is made exactly as Flask-WTF's ``generate_csrf`` makes it, from
    the raw token kept in the session, so CSRF protection stays on in tests.
    Pass ``csrf=False`` to send a request without one.
    """

    def csrf_token(self) -> str:
        with self.session_transaction() as sess:
            raw = sess.get("csrf_token")
            if raw is None:
                raw = sess["csrf_token"] = secrets.token_hex(20)
        return URLSafeTimedSerializer(current_app.secret_key, salt="wtf-csrf-token").dumps(raw)

    def open(self, *args: Any, csrf: bool = True, **kwargs: Any) -> Any:  # type: ignore[override]
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method in {"POST", "PUT", "PATCH", "DELETE"} and not kwargs.get("json"):
            data = dict(kwargs.get("data") or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().open(*args, **kwargs)


def make_agency(slug: str = "north", name: str | None = None) -> Agency:
    return factories.agency(slug, name)


def make_user(
    agency: Agency,
    role: Role = Role.ADVOCATE,
    username: str | None = None,
    *,
    password: str = PASSWORD,
    enrolled: bool = True,
) -> User:
    return factories.user(agency, role, username, password=password, enrolled=enrolled)


def current_code(user: User) -> str:
    """The code an authenticator app shows now.  Resets the replay marker first,
    so that a test can sign the same user in several times within 30 seconds."""
    db.session.execute(update(User).where(User.id == user.id).values(totp_last_step=0))
    db.session.commit()
    db.session.refresh(user)
    return totp_now(user)


def sign_in(client: CSRFClient, user: User, password: str = PASSWORD, *, language: str | None = None) -> Any:
    """Sign in as a person does, in this browser: whoever was signed in signs out,
    then the password and the current code.  ``language`` chooses the page
    language first (the switcher, before signing in)."""
    client.post("/auth/logout")
    if language is not None:
        client.post("/language", data={"language": language})
    response = client.post("/auth/login", data={"username": user.username, "password": password})
    assert response.status_code == 302, response.data[:2000]
    response = client.post("/auth/two-factor", data={"code": current_code(user)})
    assert response.status_code == 302, response.data[:2000]
    return response


#: The name most tests know it by.
login = sign_in


def text_of(response: Any) -> str:
    """The visible text of an HTML response, tags stripped, whitespace collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def signed_in(client: CSRFClient) -> bool:
    return client.get("/").status_code == 200


def reload(user: User) -> User:
    """The user as the database has it now (requests share this session)."""
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh is not None
    return fresh


def throttle(user: User) -> LoginThrottle | None:
    """The failure counter of this user's name (kept per name, not per account)."""
    db.session.expire_all()
    return db.session.get(LoginThrottle, throttle_key(user.username))


def failures(user: User) -> int:
    row = throttle(user)
    return row.failures if row else 0


def locked(user: User) -> bool:
    db.session.expire_all()
    return locked_until(user.username) is not None
