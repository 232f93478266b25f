"""Signing in: a password, then a TOTP code; lockout that holds across processes.

A stolen password alone reaches no page; a code works once; five wrong
attempts lock the account in the database, so a second worker process does not
give an attacker five more; every bad input gets a clear message and a page,
never a 500.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select, update

from advocacy import create_app
from advocacy.audit.models import AuditEvent
from advocacy.auth.models import LoginThrottle, Role, User
from advocacy.auth.service import TOTP_STEP_SECONDS, throttle_key, totp_now, verify_totp
from advocacy.clock import now as utcnow
from advocacy.extensions import db
from advocacy.security import PUBLIC_ENDPOINTS
from tests.helpers import (
    PASSWORD,
    CSRFClient,
    current_code,
    failures,
    locked,
    login,
    make_agency,
    make_user,
    reload,
    signed_in,
    text_of,
)
from tests.test_access import every_route

MISMATCH = "That user name and password do not match"
LOCKED = "Too many failed attempts"
CODE_REFUSED = "That code was not accepted"


def password_step(client: Any, user: User, password: str = PASSWORD, next_: str | None = None) -> Any:
    query = {"next": next_} if next_ else None
    return client.post(
        "/auth/login", query_string=query, data={"username": user.username, "password": password}
    )


def wrong_code(user: User) -> str:
    """A six-digit code that matches none of the steps the server accepts now."""
    totp = pyotp.TOTP(user.totp_secret or "")
    step = int(time.time() // TOTP_STEP_SECONDS)
    accepted = {totp.at((step + d) * TOTP_STEP_SECONDS) for d in (-2, -1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)


@pytest.fixture
def user(app: Flask) -> User:
    return make_user(make_agency(), Role.ADVOCATE, "river-advocate")


@pytest.fixture
def second_app(app: Flask) -> Iterator[Flask]:
    """A second process on the same database, as a second gunicorn worker would be."""
    other = create_app(app.config["SETTINGS"])
    other.test_client_class = CSRFClient
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


# --- the two steps ----------------------------------------------------------------


def test_password_then_code_signs_in(client: Any, user: User) -> None:
    response = password_step(client, user)
    assert response.headers["Location"] == "/auth/two-factor"
    assert not signed_in(client)
    response = client.post("/auth/two-factor", data={"code": current_code(user)})
    assert response.headers["Location"] == "/"
    assert signed_in(client)


def test_user_name_is_matched_without_case_or_surrounding_spaces(client: Any, user: User) -> None:
    response = client.post("/auth/login", data={"username": "  River-Advocate ", "password": PASSWORD})
    assert response.headers["Location"] == "/auth/two-factor"


def test_a_pending_sign_in_reaches_no_page_before_the_code(app: Flask, client: Any, user: User) -> None:
    password_step(client, user)
    for endpoint, method, url in every_route(app):
        if endpoint in PUBLIC_ENDPOINTS or method != "GET":
            continue
        if endpoint.startswith("handoff_api."):
            # The partner API never takes a browser session: half signed in or not, its
            # records answer 401 (only its public description is open).
            expected = 200 if endpoint == "handoff_api.openapi" else 401
            assert client.get(url).status_code == expected, endpoint
            continue
        response = client.get(url)
        assert response.status_code == 302, endpoint
        assert response.headers["Location"].startswith("/auth/login"), endpoint
    assert client.post("/auth/keepalive").headers["Location"].startswith("/auth/login")
    # The pending sign-in is still there: the code finishes it.
    assert client.post("/auth/two-factor", data={"code": current_code(user)}).status_code == 302
    assert signed_in(client)


def test_code_page_without_a_password_step_sends_back_to_sign_in(client: Any, user: User) -> None:
    response = client.get("/auth/two-factor")
    assert response.headers["Location"] == "/auth/login"
    response = client.post("/auth/two-factor", data={"code": current_code(user)})
    assert response.headers["Location"] == "/auth/login"
    assert not signed_in(client)


def test_a_pending_sign_in_expires_after_five_minutes(client: Any, user: User) -> None:
    password_step(client, user)
    with client.session_transaction() as sess:
        pending = sess["pending_login"]
        pending["at"] = time.time() - 301
        sess["pending_login"] = pending
    response = client.post("/auth/two-factor", data={"code": current_code(user)})
    assert response.headers["Location"] == "/auth/login"
    assert "Please sign in again." in text_of(client.get("/auth/login"))
    assert not signed_in(client)


def test_sign_in_with_the_password_of_a_deactivated_account_fails(client: Any, user: User) -> None:
    user.active = False
    db.session.commit()
    response = password_step(client, user)
    assert response.status_code == 200
    assert MISMATCH in text_of(response)


# --- TOTP: codes work once ----------------------------------------------------------


def test_a_replayed_code_is_refused_even_after_a_fresh_password_step(client: Any, user: User) -> None:
    code = current_code(user)
    password_step(client, user)
    assert client.post("/auth/two-factor", data={"code": code}).headers["Location"] == "/"
    client.post("/auth/logout")
    assert not signed_in(client)

    password_step(client, user)
    response = client.post("/auth/two-factor", data={"code": code})
    assert response.status_code == 200
    assert CODE_REFUSED in text_of(response)
    assert not signed_in(client)


def test_the_same_code_sent_by_two_browsers_signs_in_only_one(
    client: Any, other_client: Any, user: User
) -> None:
    code = current_code(user)
    password_step(client, user)
    password_step(other_client, user)
    first = client.post("/auth/two-factor", data={"code": code})
    second = other_client.post("/auth/two-factor", data={"code": code})
    assert first.status_code == 302
    assert second.status_code == 200
    assert signed_in(client)
    assert not signed_in(other_client)


def test_codes_of_the_previous_and_next_step_are_accepted_once(app: Flask, user: User) -> None:
    totp = pyotp.TOTP(user.totp_secret or "")
    now = time.time()
    step = int(now // TOTP_STEP_SECONDS)

    previous = totp.at((step - 1) * TOTP_STEP_SECONDS)
    assert verify_totp(user, previous, at=now)
    assert not verify_totp(user, previous, at=now)

    following = totp.at((step + 1) * TOTP_STEP_SECONDS)
    assert verify_totp(user, following, at=now)
    assert not verify_totp(user, following, at=now)
    # Once a later code was used, the current one is too old.
    assert not verify_totp(user, totp.at(step * TOTP_STEP_SECONDS), at=now)
    db.session.rollback()


def test_codes_two_steps_away_are_refused(app: Flask, user: User) -> None:
    totp = pyotp.TOTP(user.totp_secret or "")
    now = time.time()
    step = int(now // TOTP_STEP_SECONDS)
    assert not verify_totp(user, totp.at((step - 2) * TOTP_STEP_SECONDS), at=now)
    assert not verify_totp(user, totp.at((step + 2) * TOTP_STEP_SECONDS), at=now)
    assert verify_totp(user, totp.at(step * TOTP_STEP_SECONDS), at=now)
    db.session.rollback()


def test_a_code_with_a_space_in_the_middle_is_accepted(client: Any, user: User) -> None:
    code = current_code(user)
    password_step(client, user)
    assert client.post("/auth/two-factor", data={"code": f"{code[:3]} {code[3:]}"}).status_code == 302
    assert signed_in(client)


# --- TOTP enrolment at the first sign-in -----------------------------------------------


def test_first_sign_in_sets_up_two_step_sign_in(client: Any, app: Flask) -> None:
    newcomer = make_user(make_agency(), Role.ADVOCATE, "new-advocate", enrolled=False)
    assert newcomer.totp_secret is None

    response = password_step(client, newcomer)
    assert response.headers["Location"] == "/auth/enrol"
    assert client.get("/auth/two-factor").headers["Location"] == "/auth/enrol"

    page = client.get("/auth/enrol")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    newcomer = reload(newcomer)
    secret = newcomer.totp_secret or ""
    assert len(secret) >= 16
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert grouped in html
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "<path" in svg
    # Nothing the strict CSP would block: no script, no inline style.
    assert "<script" not in svg
    assert "style=" not in svg
    assert not newcomer.totp_enrolled
    assert not signed_in(client)

    response = client.post("/auth/enrol", data={"code": totp_now(newcomer)})
    assert response.headers["Location"] == "/"
    assert reload(newcomer).totp_enrolled
    page = client.get("/")
    assert page.status_code == 200
    assert "Two-step sign-in is set up." in text_of(page)


def test_enrolment_keeps_the_same_key_when_the_page_is_reloaded(client: Any, app: Flask) -> None:
    newcomer = make_user(make_agency(), Role.ADVOCATE, enrolled=False)
    password_step(client, newcomer)
    client.get("/auth/enrol")
    first = reload(newcomer).totp_secret
    client.get("/auth/enrol")
    assert reload(newcomer).totp_secret == first


def test_a_wrong_code_at_enrolment_does_not_finish_it(client: Any, app: Flask) -> None:
    newcomer = make_user(make_agency(), Role.ADVOCATE, enrolled=False)
    password_step(client, newcomer)
    client.get("/auth/enrol")
    newcomer = reload(newcomer)
    response = client.post("/auth/enrol", data={"code": wrong_code(newcomer)})
    assert response.status_code == 200
    assert "That code was not accepted" in text_of(response)
    assert not reload(newcomer).totp_enrolled
    assert not signed_in(client)


def test_an_enrolled_user_never_sees_the_key_again(client: Any, user: User) -> None:
    password_step(client, user)
    response = client.get("/auth/enrol")
    assert response.headers["Location"] == "/auth/two-factor"
    assert (user.totp_secret or "")[:8] not in response.get_data(as_text=True)


def test_enrolment_page_needs_the_password_first(client: Any, app: Flask) -> None:
    make_user(make_agency(), Role.ADVOCATE, enrolled=False)
    response = client.get("/auth/enrol")
    assert response.headers["Location"] == "/auth/login"


# --- lockout ---------------------------------------------------------------------------


def test_failures_split_across_two_processes_lock_the_account(
    app: Flask, second_app: Flask, user: User
) -> None:
    threshold = app.config["SETTINGS"].lockout_threshold
    first, second = app.test_client(), second_app.test_client()
    for attempt in range(threshold):
        browser = first if attempt % 2 == 0 else second
        response = password_step(browser, user, "not the password at all")
        assert response.status_code == 200
    assert LOCKED in text_of(response)
    assert locked(user)

    # Locked: even the right password, on either process, is refused.
    for browser in (first, second):
        response = password_step(browser, user)
        assert response.status_code == 200
        assert LOCKED in text_of(response)
        assert not signed_in(browser)


def test_wrong_passwords_below_the_threshold_do_not_lock(client: Any, app: Flask, user: User) -> None:
    threshold = app.config["SETTINGS"].lockout_threshold
    for _ in range(threshold - 1):
        assert MISMATCH in text_of(password_step(client, user, "not the password at all"))
    assert not locked(user)
    assert password_step(client, user).headers["Location"] == "/auth/two-factor"


def test_a_successful_sign_in_resets_the_failure_count(client: Any, app: Flask, user: User) -> None:
    threshold = app.config["SETTINGS"].lockout_threshold
    for _ in range(threshold - 1):
        password_step(client, user, "not the password at all")
    login(client, user)
    assert failures(user) == 0


def test_the_lock_expires(client: Any, app: Flask, user: User) -> None:
    threshold = app.config["SETTINGS"].lockout_threshold
    for _ in range(threshold):
        password_step(client, user, "not the password at all")
    assert LOCKED in text_of(password_step(client, user))

    db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key_hash == throttle_key(user.username))
        .values(locked_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    login(client, user)
    assert signed_in(client)


def test_wrong_codes_count_towards_the_lockout(client: Any, app: Flask, user: User) -> None:
    threshold = app.config["SETTINGS"].lockout_threshold
    password_step(client, user)
    for _ in range(threshold - 1):
        response = client.post("/auth/two-factor", data={"code": wrong_code(user)})
        assert CODE_REFUSED in text_of(response)
    response = client.post("/auth/two-factor", data={"code": wrong_code(user)})
    assert response.headers["Location"] == "/auth/login"
    assert LOCKED in text_of(client.get("/auth/login"))

    # The right code of a pending sign-in made before the lock is refused too.
    response = client.post("/auth/two-factor", data={"code": current_code(user)})
    assert response.headers["Location"] == "/auth/login"
    assert not signed_in(client)
    assert LOCKED in text_of(password_step(client, user))


def test_a_pending_sign_in_cannot_finish_once_the_account_is_locked(
    client: Any, other_client: Any, app: Flask, user: User
) -> None:
    password_step(client, user)
    threshold = app.config["SETTINGS"].lockout_threshold
    for _ in range(threshold):
        password_step(other_client, user, "not the password at all")
    response = client.post("/auth/two-factor", data={"code": current_code(user)})
    assert response.headers["Location"] == "/auth/login"
    assert not signed_in(client)


def test_unknown_and_real_user_names_lock_alike(
    client: Any, other_client: Any, app: Flask, user: User
) -> None:
    """Locking must not tell anyone which user names exist: every name earns the
    same messages, in the same order, whether an account has it or not."""
    threshold = app.config["SETTINGS"].lockout_threshold

    def attempts(browser: Any, username: str) -> list[str]:
        return [
            text_of(browser.post("/auth/login", data={"username": username, "password": "not it at all"}))
            for _ in range(threshold + 1)
        ]

    unknown, real = attempts(client, "nobody-here"), attempts(other_client, user.username)
    assert unknown == real
    assert MISMATCH in real[0] and LOCKED in real[-1]


# --- bad input: a clear message, nothing changed, never a 500 -------------------------------


def test_wrong_password_gets_a_clear_message(client: Any, user: User) -> None:
    response = password_step(client, user, "not the password at all")
    assert response.status_code == 200
    assert MISMATCH in text_of(response)
    assert failures(user) == 1
    assert not signed_in(client)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "river-advocate"}, "Enter your password."),
        ({"password": PASSWORD}, "Enter your user name."),
        ({"username": "r" * 65, "password": PASSWORD}, "User names are at most 64 characters."),
        ({"username": "river-advocate", "password": "p" * 257}, "That password is too long."),
    ],
)
def test_a_malformed_sign_in_form_says_what_is_wrong_and_counts_nothing(
    client: Any, user: User, data: dict[str, str], message: str
) -> None:
    response = client.post("/auth/login", data=data)
    assert response.status_code == 400
    assert message in text_of(response)
    assert failures(user) == 0


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("12a456", "The code is 6 digits."),
        ("12345", "The code is 6 digits."),
        ("", "Enter the 6-digit code."),
    ],
)
def test_a_malformed_code_says_what_is_wrong(client: Any, user: User, code: str, message: str) -> None:
    password_step(client, user)
    response = client.post("/auth/two-factor", data={"code": code})
    assert response.status_code == 400
    assert message in text_of(response)
    assert not signed_in(client)


def test_a_wrong_code_gets_a_clear_message(client: Any, user: User) -> None:
    password_step(client, user)
    response = client.post("/auth/two-factor", data={"code": wrong_code(user)})
    assert response.status_code == 200
    assert CODE_REFUSED in text_of(response)
    assert failures(user) == 1


def test_an_oversized_body_gets_the_413_page(client: Any, app: Flask, user: User) -> None:
    size = app.config["MAX_CONTENT_LENGTH"] + 1
    response = client.post("/auth/login", data={"username": user.username, "password": "x" * size})
    assert response.status_code == 413
    assert "Too much data" in text_of(response)
    assert failures(user) == 0


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/auth/login", {"username": "river\x00advocate", "password": PASSWORD}),
        ("/auth/login", {"username": "river-advocate", "password": "pass\x00word-long-enough"}),
        ("/language", {"language": "es\x00", "next": "/"}),
    ],
)
def test_a_nul_character_gets_a_clear_400_never_a_500(client: Any, user: User, path: str, data: dict) -> None:
    """PostgreSQL cannot store NUL: it must be refused before any query, on both engines."""
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "Something in what was sent is missing or malformed" in text_of(response)
    assert failures(user) == 0


def test_a_nul_character_in_a_signed_in_form_or_query_changes_nothing(client: Any, user: User) -> None:
    login(client, user)
    before = user.password_hash
    odd = "lantern orchard\x00copper 91"
    response = client.post(
        "/auth/password", data={"current_password": PASSWORD, "new_password": odd, "confirm_password": odd}
    )
    assert response.status_code == 400
    assert reload(user).password_hash == before
    assert client.get("/cases/?page=\x00").status_code == 400
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "https:/evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_pointing_off_site_is_ignored_after_sign_in(client: Any, user: User, target: str) -> None:
    password_step(client, user, next_=target)
    response = client.post("/auth/two-factor", data={"code": current_code(user)})
    assert response.headers["Location"] == "/"


def test_next_on_this_site_is_followed_after_sign_in(client: Any, user: User) -> None:
    response = client.get("/cases/")
    assert response.headers["Location"] == "/auth/login?next=/cases/"
    client.post(response.headers["Location"], data={"username": user.username, "password": PASSWORD})
    response = client.post("/auth/two-factor", data={"code": current_code(user)})
    assert response.headers["Location"] == "/cases/"


# --- what the audit log learns ----------------------------------------------------------


def test_sign_in_events_are_audited(client: Any, user: User) -> None:
    password_step(client, user, "not the password at all")
    client.post("/auth/login", data={"username": "nobody-here", "password": PASSWORD})
    login(client, user)
    client.post("/auth/logout")
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    for expected in ("login.failure", "login.failure_unknown_user", "login.success", "logout"):
        assert expected in actions
