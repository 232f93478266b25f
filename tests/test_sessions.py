"""Sessions end when they should: idle timeout, sign-out, sign-out everywhere,
a password change, and any form sent without its CSRF token."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from advocacy.audit.models import AuditEvent
from advocacy.auth.models import Role, User, UserSession
from advocacy.clock import now as utcnow
from advocacy.extensions import db
from tests.helpers import PASSWORD, failures, login, make_agency, make_user, reload, signed_in, text_of

NEW_PASSWORD = "lantern orchard copper 91 heron"
CSRF_RESET = "Your session was reset for your security. Please sign in again."


def open_sessions(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    )


def last_seen(client: Any) -> float:
    with client.session_transaction() as sess:
        return sess["last_seen"]


def set_last_seen(client: Any, value: float) -> None:
    with client.session_transaction() as sess:
        sess["last_seen"] = value


@pytest.fixture
def user(app: Flask) -> User:
    return make_user(make_agency(), Role.ADVOCATE, "meadow-advocate")


def change_password(client: Any, current: str, new: str, confirm: str | None = None, **kw: Any) -> Any:
    data = {"current_password": current, "new_password": new, "confirm_password": confirm or new}
    return client.post("/auth/password", data=data, **kw)


# --- idle timeout --------------------------------------------------------------------------


def test_after_the_idle_timeout_the_next_request_signs_out(client: Any, app: Flask, user: User) -> None:
    timeout = app.config["SETTINGS"].idle_timeout_seconds
    login(client, user)
    set_last_seen(client, time.time() - timeout - 1)

    response = client.get("/cases/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/cases/"
    page = client.get(response.headers["Location"])
    assert f"You were signed out after {timeout // 60} minutes without activity." in text_of(page)
    assert not signed_in(client)


def test_just_before_the_idle_timeout_the_session_is_alive(client: Any, app: Flask, user: User) -> None:
    timeout = app.config["SETTINGS"].idle_timeout_seconds
    login(client, user)
    set_last_seen(client, time.time() - timeout + 5)
    assert client.get("/cases/").status_code == 200


def test_an_expired_background_request_gets_401_json(client: Any, app: Flask, user: User) -> None:
    login(client, user)
    set_last_seen(client, time.time() - app.config["SETTINGS"].idle_timeout_seconds - 1)
    response = client.get("/", headers={"X-Advocacy-Background": "1"})
    assert response.status_code == 401
    assert response.get_json() == {"error": "session_expired"}
    assert not signed_in(client)


def test_a_background_request_does_not_count_as_activity(client: Any, user: User) -> None:
    login(client, user)
    earlier = time.time() - 120
    set_last_seen(client, earlier)
    assert client.get("/", headers={"X-Advocacy-Background": "1"}).status_code == 200
    assert last_seen(client) == earlier


def test_a_file_the_browser_fetches_by_itself_does_not_count_as_activity(client: Any, user: User) -> None:
    # A font or icon first needed when the timeout warning shows must not keep the session open.
    login(client, user)
    earlier = time.time() - 120
    set_last_seen(client, earlier)
    assert client.get("/static/css/app.css").status_code == 200
    assert last_seen(client) == earlier


def test_a_page_request_counts_as_activity(client: Any, user: User) -> None:
    login(client, user)
    earlier = time.time() - 120
    set_last_seen(client, earlier)
    assert client.get("/").status_code == 200
    assert last_seen(client) > earlier + 100


def test_keepalive_keeps_the_session_alive(client: Any, app: Flask, user: User) -> None:
    login(client, user)
    earlier = time.time() - 120
    set_last_seen(client, earlier)
    response = client.post("/auth/keepalive")
    assert response.status_code == 200
    assert response.get_json() == {"idle_timeout": app.config["SETTINGS"].idle_timeout_seconds}
    assert last_seen(client) > earlier + 100


# --- sign-out -------------------------------------------------------------------------------


def test_sign_out_ends_the_session(client: Any, user: User) -> None:
    login(client, user)
    response = client.post("/auth/logout")
    assert response.headers["Location"] == "/auth/login"
    assert "You are signed out." in text_of(client.get("/auth/login"))
    assert not signed_in(client)
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert "logout" in actions


def test_sign_out_forgets_everything_in_the_session(client: Any, user: User) -> None:
    login(client, user)
    client.post("/auth/logout")
    with client.session_transaction() as sess:
        assert "_user_id" not in sess
        assert "last_seen" not in sess


def test_a_copied_session_cookie_is_refused_after_sign_out(client: Any, user: User) -> None:
    """On a shared front-desk computer, a cookie copied before sign-out must be worthless after."""
    login(client, user)
    with client.session_transaction() as sess:
        copied = dict(sess)
    client.post("/auth/logout")
    with client.session_transaction() as sess:
        sess.update(copied)
    assert not signed_in(client)
    assert open_sessions(user) == 0


def test_sign_out_everywhere_ends_the_other_browser_too(client: Any, other_client: Any, user: User) -> None:
    login(client, user)
    login(other_client, user)
    assert open_sessions(user) == 2
    response = client.post("/auth/logout-everywhere")
    assert response.headers["Location"] == "/auth/login"
    assert "You are signed out on every device." in text_of(client.get("/auth/login"))
    assert open_sessions(user) == 0
    assert not signed_in(client)
    assert not signed_in(other_client)


def test_sign_out_of_one_browser_leaves_the_other_signed_in(
    client: Any, other_client: Any, user: User
) -> None:
    login(client, user)
    login(other_client, user)
    client.post("/auth/logout")
    assert signed_in(other_client)


def test_a_session_of_a_deactivated_account_ends(client: Any, user: User) -> None:
    login(client, user)
    user.active = False
    db.session.commit()
    assert not signed_in(client)


# --- password change --------------------------------------------------------------------------


def test_password_change_ends_other_sessions_and_keeps_this_one(
    client: Any, other_client: Any, user: User
) -> None:
    login(client, user)
    login(other_client, user)
    response = change_password(client, PASSWORD, NEW_PASSWORD)
    assert response.headers["Location"] == "/auth/account"
    assert "Your password is changed." in text_of(client.get("/auth/account"))
    assert signed_in(client)
    assert not signed_in(other_client)

    client.post("/auth/logout")
    old = client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert old.status_code == 200
    login(client, user, NEW_PASSWORD)
    assert signed_in(client)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        (PASSWORD, "short 12345", None, "Use at least 12 characters."),
        (PASSWORD, "qwerty123456", None, "This password is too common."),
        (PASSWORD, "Password1234!", None, "This password is too common."),
        (PASSWORD, "my MEADOW-ADVOCATE secret code", None, "must not contain your user name"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "The two new passwords are not the same."),
        ("not my password at all", NEW_PASSWORD, None, "That is not your current password."),
        (PASSWORD, "", "", "Enter a new password."),
    ],
)
def test_a_refused_new_password_says_why_and_changes_nothing(
    client: Any,
    other_client: Any,
    user: User,
    current: str,
    new: str,
    confirm: str | None,
    message: str,
) -> None:
    login(client, user)
    login(other_client, user)
    before = user.password_hash
    response = change_password(client, current, new, confirm)
    assert response.status_code == 400
    assert message in text_of(response)
    assert reload(user).password_hash == before
    assert open_sessions(user) == 2
    assert signed_in(client)
    assert signed_in(other_client)


# --- CSRF ---------------------------------------------------------------------------------------


def test_a_form_without_its_token_ends_the_session_and_changes_nothing(
    client: Any, other_client: Any, user: User
) -> None:
    login(client, user)
    login(other_client, user)
    response = client.post("/auth/logout-everywhere", csrf=False)
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert CSRF_RESET in text_of(client.get("/auth/login"))
    assert not signed_in(client)
    # "Sign out everywhere" did not happen: the other browser is still signed in.
    assert signed_in(other_client)
    assert open_sessions(user) == 1


def test_a_password_change_without_its_token_changes_nothing(client: Any, user: User) -> None:
    login(client, user)
    before = user.password_hash
    response = change_password(client, PASSWORD, NEW_PASSWORD, csrf=False)
    assert response.headers["Location"] == "/auth/login"
    assert reload(user).password_hash == before
    assert not signed_in(client)


def test_a_forged_token_is_refused(client: Any, user: User) -> None:
    login(client, user)
    before = user.password_hash
    data = {
        "csrf_token": "forged-token",
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    response = client.post("/auth/password", data=data)
    assert response.headers["Location"] == "/auth/login"
    assert reload(user).password_hash == before
    assert not signed_in(client)


def test_a_token_from_another_browser_is_refused(client: Any, other_client: Any, user: User) -> None:
    login(client, user)
    login(other_client, user)
    stolen = other_client.csrf_token()
    response = client.post("/auth/logout-everywhere", data={"csrf_token": stolen})
    assert response.headers["Location"] == "/auth/login"
    assert signed_in(other_client)


def test_a_sign_in_without_its_token_does_not_count_or_sign_in(client: Any, user: User) -> None:
    response = client.post(
        "/auth/login", data={"username": user.username, "password": "not the password"}, csrf=False
    )
    assert response.headers["Location"] == "/auth/login"
    assert failures(user) == 0


def test_the_csrf_message_is_in_the_translation_catalog(app: Flask) -> None:
    pot = Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]) / "messages.pot"
    assert f'msgid "{CSRF_RESET}"' in pot.read_text(encoding="utf-8")


def test_the_csrf_message_is_shown_in_the_language_of_the_session(client: Any, user: User) -> None:
    """The message goes through gettext in the request's language: with a catalog
    entry in the chosen language, that text is what the person reads."""
    from flask_babel import gettext

    login(client, user)
    client.post("/language", data={"language": "es"})
    client.post("/auth/logout-everywhere", csrf=False)
    page = client.get("/auth/login")
    assert '<html lang="es"' in page.get_data(as_text=True)
    with client.application.test_request_context(headers={"Accept-Language": "es"}):
        expected = gettext(CSRF_RESET)
    if expected == CSRF_RESET:
        pytest.xfail("the Spanish catalog does not translate this message (yet)")
    assert expected in text_of(page)
    assert CSRF_RESET not in text_of(page)


# --- the language switch and next -----------------------------------------------------------------


def test_an_unknown_language_tag_is_ignored(client: Any, user: User) -> None:
    login(client, user)
    response = client.post("/language", data={"language": "xx-evil", "next": "/cases/"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/cases/"
    assert reload(user).language is None
    with client.session_transaction() as sess:
        assert "language" not in sess
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)


def test_a_known_language_is_kept_as_the_preference(client: Any, user: User) -> None:
    login(client, user)
    client.post("/language", data={"language": "ar"})
    assert reload(user).language == "ar"
    assert '<html lang="ar" dir="rtl"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/x", "/\\evil.example"])
def test_the_language_switch_never_redirects_off_site(client: Any, target: str) -> None:
    response = client.post("/language", data={"language": "es", "next": target})
    assert response.headers["Location"] == "/"


def test_language_choice_survives_sign_out(client: Any, user: User) -> None:
    client.post("/language", data={"language": "es"})
    login(client, user)
    client.post("/auth/logout-everywhere")
    assert '<html lang="es"' in client.get("/auth/login").get_data(as_text=True)


def test_a_session_ends_after_its_maximum_lifetime_however_active(
    client: Any, app: Flask, user: User
) -> None:
    login(client, user)
    assert signed_in(client)
    too_old = utcnow() - timedelta(seconds=app.config["SETTINGS"].session_max_seconds + 1)
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id).values(created_at=too_old))
    db.session.commit()
    assert not signed_in(client)


def test_purge_deletes_ended_and_expired_sessions_only(
    client: Any, other_client: Any, app: Flask, user: User
) -> None:
    login(client, user)
    login(other_client, user)
    client.post("/auth/logout")
    result = app.test_cli_runner().invoke(args=["sessions", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 ended or expired sessions deleted" in result.output
    assert open_sessions(user) == 1
    assert signed_in(other_client)
