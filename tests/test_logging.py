"""Logs say what happened (endpoint, status, ids), never who or what about:
no user name, alias, phone number, password or code, and no exception message."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from advocacy.auth.models import Role, User
from advocacy.auth.service import create_user, totp_now
from advocacy.extensions import db
from advocacy.intake.service import open_case
from advocacy.logs import JSONFormatter
from tests.factories import system
from tests.helpers import PASSWORD, current_code, make_agency, text_of
from tests.test_intake import place  # noqa: F401  (a fixture, used by name)

ALIAS = "Rosalind Okonkwo-Vega"
PHONE = "+1 612 555 0147"
DISPLAY_NAME = "Marisol Quintanilla-Haye"
USERNAME = "quill-advocate"


class Captured(logging.Handler):
    """Keeps every record of the ``advocacy`` loggers, and the JSON lines they become."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.stream = io.StringIO()
        self.formatter_ = JSONFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.stream.write(self.formatter_.format(record) + "\n")

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    @property
    def output(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def logs(app: Flask) -> Iterator[Captured]:
    # The advocacy logger does not propagate to the root (pytest's caplog): attach directly.
    logger = logging.getLogger("advocacy")
    handler = Captured()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def advocate(app: Flask) -> User:
    agency = make_agency()
    user = create_user(
        system(agency), USERNAME, DISPLAY_NAME, PASSWORD, [(agency, Role.ADVOCATE)], enrol_totp=True
    )
    db.session.commit()
    return user


def sign_in(client: Any, user: User) -> str:
    client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    code = current_code(user)
    assert client.post("/auth/two-factor", data={"code": code}).status_code == 302
    return code


def test_sign_in_and_a_case_view_log_no_personal_data_or_secret(
    client: Any, advocate: User, logs: Captured
) -> None:
    case = open_case(
        system(advocate.memberships[0].agency_id),
        advocate.memberships[0].agency_id,
        advocate.id,
        ALIAS,
        phone=PHONE,
    )
    db.session.commit()
    client.post("/auth/login", data={"username": USERNAME, "password": "a wrong password 77"})
    code = sign_in(client, advocate)
    assert client.get(f"/cases/{case.id}").status_code == 200
    client.get(f"/auth/login?next=/cases/?phone={PHONE}")

    endpoints = {line.get("endpoint") for line in logs.lines}
    assert {"auth.login", "auth.two_factor", "intake.detail"} <= endpoints
    view = next(line for line in logs.lines if line.get("endpoint") == "intake.detail")
    assert view["status"] == 200
    assert view["user_id"] == advocate.id
    assert view["method"] == "GET"

    everything = logs.output + "\n".join(str(vars(r)) for r in logs.records)
    for secret in (
        USERNAME,
        DISPLAY_NAME,
        ALIAS,
        PHONE,
        "6125550147",
        "612 555",
        PASSWORD,
        "a wrong password 77",
        code,
        advocate.totp_secret or "",
        (advocate.get_id() or ":").split(":")[1],
    ):
        assert secret not in everything, secret


def test_log_lines_carry_only_the_allowed_fields(logs: Captured, app: Flask) -> None:
    log = logging.getLogger("advocacy.test")
    log.info("something happened", extra={"phone": PHONE, "alias": ALIAS, "user_id": 7, "action": "x"})
    (line,) = logs.lines
    assert line["user_id"] == 7
    assert line["action"] == "x"
    assert PHONE not in logs.output
    assert ALIAS not in logs.output


def test_log_arguments_are_not_interpolated(logs: Captured, app: Flask) -> None:
    logging.getLogger("advocacy.test").warning("lookup for %s failed", PHONE)
    assert PHONE not in logs.output
    assert logs.lines[0]["message"] == "lookup for %s failed"


@pytest.fixture
def failing_view(app: Flask) -> str:
    """A view that breaks after changing something, the way a bug would."""
    secret_message = f"cannot text {PHONE} for {ALIAS}; key={app.config['SECRET_KEY']}"

    def explode() -> str:
        from flask_login import current_user

        current_user.language = "so"
        db.session.flush()
        raise RuntimeError(secret_message)

    app.add_url_rule("/test-explode", "test_explode", explode)
    return secret_message


def test_an_unexpected_error_gives_a_plain_500_page_and_changes_nothing(
    client: Any, advocate: User, failing_view: str, logs: Captured, app: Flask
) -> None:
    sign_in(client, advocate)
    response = client.get("/test-explode")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong" in text_of(response)
    for leak in ("Traceback", "RuntimeError", 'File "', PHONE, ALIAS, app.config["SECRET_KEY"], failing_view):
        assert leak not in html, leak
    assert response.headers["Cache-Control"] == "no-store"

    db.session.expire_all()
    assert db.session.get(User, advocate.id).language is None  # type: ignore[union-attr]
    assert client.get("/").status_code == 200  # still signed in, the app still works


def test_an_unexpected_error_is_logged_without_its_message(
    client: Any, advocate: User, failing_view: str, logs: Captured, app: Flask
) -> None:
    sign_in(client, advocate)
    client.get("/test-explode")
    errors = [line for line in logs.lines if line["level"] == "ERROR"]
    assert len(errors) == 1
    error = errors[0]
    assert error["message"] == "unhandled error"
    assert error["error"] == "RuntimeError"
    assert error["endpoint"] == "test_explode"
    assert "explode" in error["trace"]  # where it happened, for the developer
    for leak in (PHONE, ALIAS, app.config["SECRET_KEY"], failing_view, USERNAME):
        assert leak not in logs.output, leak


def test_an_unexpected_error_answers_json_to_a_json_request(
    client: Any, advocate: User, failing_view: str
) -> None:
    sign_in(client, advocate)
    response = client.get("/test-explode", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.get_json() == {"error": "Something went wrong"}


def test_a_totp_code_never_reaches_the_log(client: Any, advocate: User, logs: Captured) -> None:
    client.post("/auth/login", data={"username": USERNAME, "password": PASSWORD})
    code = totp_now(advocate)
    client.post("/auth/two-factor", data={"code": "999999" if code != "999999" else "888888"})
    client.post("/auth/two-factor", data={"code": "12a456"})
    for line in logs.lines:
        assert "999999" not in json.dumps(line)
        assert "12a456" not in json.dumps(line)


def test_an_intake_a_name_search_and_a_bed_request_log_nothing_personal(
    client: Any,
    place: Any,  # noqa: F811  (the fixture imported above)
    logs: Captured,
) -> None:
    from tests.test_intake import CONTACT, PERSON, post_step, walk
    from tests.test_intake import sign_in as sign_in_as

    sign_in_as(client, place.advocate)
    reason = "he said he would find her at the Cedar Haven shelter"
    draft_id = walk(
        client,
        screen={
            "instrument": "lethality-screen@1",
            "answer_q1": "yes",
            "judgment": "y",
            "judgment_reason": reason,
            **{f"answer_q{i}": "no" for i in range(2, 12)},
        },
    )
    client.post(
        f"/cases/intake/{draft_id}/autosave",
        data={"step": "consent", "consent_sms": "y"},
        headers={"X-Advocacy-Background": "1"},
    )
    assert post_step(client, draft_id, "placement", {"bed": f"shelter-{place.shelter_id}"}).status_code == 302
    assert client.post("/cases/", data={"name": PERSON["alias"]}).status_code == 200

    assert {"intake.step", "intake.autosave", "intake.index"} <= {line.get("endpoint") for line in logs.lines}
    everything = logs.output + "\n".join(str(vars(r)) for r in logs.records)
    for secret in (
        PERSON["alias"],
        "Amina",
        CONTACT["phone"],
        "5550199",
        CONTACT["code_word"],
        reason,
        "Cedar Haven",
        "9 Placeholder Rd",
    ):
        assert secret not in everything, secret
