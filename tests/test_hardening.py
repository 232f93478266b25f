"""Findings of the outside security review (issue 10): odd input is a message,
never a 500, and patterns validate the whole value."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from advocacy.intake import instrument_format
from advocacy.intake.instrument_format import InstrumentError
from tests.test_instruments import LETHALITY_FILE, WEIGHTED_FILE, document, encoded, refusal

ROOT = Path(__file__).resolve().parent.parent


# -- finding 3: a number past Python's digit limit ------------------------------------------------


def test_a_5000_digit_number_in_an_instrument_is_refused_with_its_path(app: Flask) -> None:
    raw = encoded(document()).replace(b'"format": 1', b'"format": ' + b"9" * 5000, 1)
    assert b"9" * 5000 in raw
    error = refusal(raw)
    assert error.path == "format"


def test_a_5000_digit_number_in_a_text_field_is_refused_with_its_path(app: Flask) -> None:
    doc = document()
    doc["version"] = "@@"
    raw = encoded(doc).replace(b'"@@"', b"1" * 5000, 1)
    assert refusal(raw).path == "version"


# -- finding 4: fullmatch wherever a pattern validates input --------------------------------------


def _set(doc: dict[str, Any], path: str, value: str) -> None:
    target: Any = doc
    parts = re.findall(r"[a-z_]+|\[\d+\]", path)
    for part in parts[:-1]:
        target = target[int(part[1:-1])] if part.startswith("[") else target[part]
    last = parts[-1]
    if last.startswith("["):
        target[int(last[1:-1])] = value
    else:
        target[last] = value


@pytest.mark.parametrize(
    "path",
    ["key", "version", "languages[0]", "source.url", "questions[0].key", "levels[0].key"],
)
def test_an_instrument_field_with_a_trailing_newline_is_refused(app: Flask, path: str) -> None:
    doc = document()
    value: Any = doc
    for part in re.findall(r"[a-z_]+|\[\d+\]", path):
        value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    _set(doc, path, value + "\n")
    error = refusal(doc)
    assert error.path == path, error


def test_an_option_value_with_a_trailing_newline_is_refused(app: Flask) -> None:
    doc = document()
    question = next(q for q in doc["questions"] if q.get("options"))
    index = doc["questions"].index(question)
    question["options"][0]["value"] += "\n"
    assert refusal(doc).path == f"questions[{index}].options[0].value"


def test_a_shipped_key_followed_by_a_newline_does_not_pass_the_reserved_key_check(app: Flask) -> None:
    doc = json.loads(LETHALITY_FILE.read_text(encoding="utf-8"))
    doc["key"] = doc["key"] + "\n"
    with pytest.raises(InstrumentError) as caught:
        instrument_format.parse(encoded(doc))
    assert caught.value.path == "key"


def _anchored_patterns(tree: ast.Module) -> set[str]:
    """Module-level names bound to ``re.compile("...$")``: patterns meant to match a whole value."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            call = node.value
            if (
                isinstance(call.func, ast.Attribute)
                and call.func.attr == "compile"
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and str(call.args[0].value).endswith("$")
            ):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def test_no_whole_value_pattern_is_checked_with_match() -> None:
    """``re.match`` with ``$`` accepts a trailing newline; a validator uses ``fullmatch``."""
    offenders = []
    for path in sorted((ROOT / "advocacy").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        anchored = _anchored_patterns(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "match"
                and (
                    (isinstance(node.func.value, ast.Name) and node.func.value.id in anchored)
                    or (isinstance(node.func.value, ast.Name) and node.func.value.id == "re")
                )
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_weighted_example_still_parses(app: Flask) -> None:
    assert instrument_format.parse(WEIGHTED_FILE.read_bytes()).key


# -- findings 6 and 7: the password-change form ---------------------------------------------------


def _change(client: Any, current: str, new: str) -> Any:
    return client.post(
        "/auth/password", data={"current_password": current, "new_password": new, "confirm_password": new}
    )


def test_a_temporary_password_cannot_become_the_permanent_one(app: Flask, client: Any) -> None:
    from advocacy.admin.service import issue_temporary_password
    from advocacy.auth.models import Role
    from advocacy.extensions import db
    from tests import factories
    from tests.helpers import login, make_agency, make_user, reload

    agency = make_agency()
    admin = make_user(agency, Role.ADMIN)
    person = make_user(agency, Role.ADVOCATE, "fern-advocate")
    temporary = issue_temporary_password(factories.actor(admin), person)
    db.session.commit()
    login(client, person, temporary)
    response = _change(client, temporary, temporary)
    assert response.status_code == 400
    assert "Choose a new password, not the one you have now." in response.get_data(as_text=True)
    assert reload(person).must_change_password


def test_wrong_current_passwords_count_and_end_the_session_at_the_limit(app: Flask, client: Any) -> None:
    from advocacy.auth.models import Role
    from tests.helpers import PASSWORD, login, make_agency, make_user, signed_in

    person = make_user(make_agency(), Role.ADVOCATE, "fern-advocate")
    login(client, person)
    threshold = app.config["SETTINGS"].lockout_threshold
    for attempt in range(threshold - 1):
        assert _change(client, f"guess number {attempt:04d}", "a quiet lake at dawn 77").status_code == 400
    assert signed_in(client)
    final = _change(client, "one guess too many", "a quiet lake at dawn 77")
    assert final.status_code == 302 and final.headers["Location"].endswith("/auth/login")
    assert not signed_in(client)
    refused = client.post("/auth/login", data={"username": person.username, "password": PASSWORD})
    assert "Too many failed attempts" in refused.get_data(as_text=True)


# -- finding 10: small things ---------------------------------------------------------------------


def test_a_missing_static_file_is_a_plain_404_never_cached_publicly(app: Flask, client: Any) -> None:
    from advocacy.auth.models import Role
    from tests.helpers import login, make_agency, make_user

    login(client, make_user(make_agency(), Role.ADVOCATE, "fern-advocate"))
    response = client.get("/static/no-such-file.css")
    assert response.status_code == 404
    assert "public" not in response.headers["Cache-Control"]
    assert response.mimetype == "text/plain"
    assert "fern-advocate" not in response.get_data(as_text=True)


def test_a_static_file_is_still_cached(app: Flask, client: Any) -> None:
    css = next((ROOT / "static").rglob("*.css"))
    response = client.get("/static/" + css.relative_to(ROOT / "static").as_posix())
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=3600"


def test_the_case_list_refuses_a_name_in_the_address(app: Flask, client: Any) -> None:
    from advocacy.auth.models import Role
    from tests.helpers import login, make_agency, make_user

    login(client, make_user(make_agency(), Role.ADVOCATE, "fern-advocate"))
    response = client.get("/cases/?name=Rosa")
    assert response.status_code == 400
    assert "a name is never sent in a web address" in response.get_data(as_text=True)
    assert client.post("/cases/", data={"name": "Rosa"}).status_code == 200


# -- finding 5: the shelter label guard -----------------------------------------------------------

LAKEVIEW = ("Lakeview Family Residence", "1208 Example Ave, Duluth")


@pytest.mark.parametrize(
    ("label", "region"),
    [
        ("NS-2 at 44 Sample St", "North Shore"),  # a street address, of any shelter
        ("NS-2", "44 Sample St area"),
        ("Lakeview-Family-Residence", "North Shore"),  # the name with hyphens
        ("LAKEVIEW  family   résidence", "North Shore"),
        ("Lakeview 2", "North Shore"),  # a distinctive word of the name
        ("NS-2 call 218-555-0147", "North Shore"),  # a phone number
        ("NS-2", "1208 Example"),  # a piece of the street
    ],
)
def test_a_label_or_region_that_can_find_the_shelter_is_refused(app: Flask, label: str, region: str) -> None:
    from advocacy.errors import Refused
    from advocacy.shelters.service import check_public_identity

    with pytest.raises(Refused):
        check_public_identity(*LAKEVIEW[:1], LAKEVIEW[1], label, region)


@pytest.mark.parametrize(("label", "region"), [("NS-2", "North Shore"), ("Family site 3", "Duluth")])
def test_an_ordinary_label_and_region_are_accepted(app: Flask, label: str, region: str) -> None:
    from advocacy.shelters.service import check_public_identity

    check_public_identity(LAKEVIEW[0], LAKEVIEW[1], label, region)


# -- finding 8: referral flooding -----------------------------------------------------------------


@pytest.fixture
def open_beds(app: Flask) -> Any:
    from types import SimpleNamespace

    from advocacy.auth.models import Role
    from advocacy.extensions import db
    from advocacy.shelters import service as shelters
    from advocacy.shelters.models import BedType
    from tests import factories
    from tests.helpers import make_agency, make_user

    lake = make_agency("lake")
    setup = factories.system(lake)
    shelter = shelters.add_shelter(
        setup, lake.id, "Birch House", "NS-1", "North Shore", address="1 Example Ave"
    )
    shelters.add_room(setup, shelter, "A", beds=[(f"A{n}", BedType.ADULT) for n in range(1, 9)])
    north = make_agency("north")
    db.session.commit()
    return SimpleNamespace(
        lake=lake, shelter=shelter, north=north, advocate=make_user(north, Role.ADVOCATE, "fern-advocate")
    )


def _request(open_beds: Any) -> Any:
    from advocacy.shelters import service as shelters
    from advocacy.shelters.service import Household
    from tests import factories

    return shelters.request_referral(
        factories.actor(open_beds.advocate),
        open_beds.shelter.id,
        Household(),
        from_agency_id=open_beds.north.id,
    )


def test_another_agency_cannot_hold_every_open_bed_with_quick_requests(open_beds: Any) -> None:
    from advocacy.errors import Refused

    _request(open_beds)
    _request(open_beds)
    with pytest.raises(Refused, match="already has 2 requests waiting at this shelter"):
        _request(open_beds)


def test_the_shelters_admin_lowers_the_limit(open_beds: Any) -> None:
    from advocacy.errors import Refused
    from advocacy.shelters import service as shelters
    from tests import factories

    shelters.update_network_settings(
        factories.system(open_beds.lake),
        open_beds.lake.id,
        hold_minutes=120,
        stale_after_minutes=360,
        pending_referrals_per_agency=1,
    )
    _request(open_beds)
    with pytest.raises(Refused, match="already has 1 request waiting"):
        _request(open_beds)


def test_an_advocate_may_send_only_so_many_requests_an_hour(open_beds: Any, clock: Any) -> None:
    from datetime import timedelta

    from advocacy.errors import Refused
    from advocacy.shelters import service as shelters
    from tests import factories

    shelters.update_network_settings(
        factories.system(open_beds.lake),
        open_beds.lake.id,
        hold_minutes=120,
        stale_after_minutes=360,
        pending_referrals_per_agency=10,
    )
    for _ in range(6):
        _request(open_beds)
    with pytest.raises(Refused, match="6 requests in the last hour"):
        _request(open_beds)
    clock.advance(timedelta(minutes=61))
    assert _request(open_beds).id


def test_the_settings_page_shows_and_saves_the_limit(app: Flask, client: Any, open_beds: Any) -> None:
    from advocacy.auth.models import Role
    from advocacy.shelters import service as shelters
    from tests.helpers import login, make_user

    login(client, make_user(open_beds.lake, Role.ADMIN, "lake-admin"))
    page = client.get("/shelters/settings")
    assert "Requests another agency may have waiting" in page.get_data(as_text=True)
    saved = client.post(
        "/shelters/settings",
        data={
            "agency": open_beds.lake.id,
            "hold_minutes": 120,
            "stale_after_minutes": 360,
            "pending_referrals_per_agency": 1,
        },
    )
    assert saved.status_code == 302
    assert shelters.network_settings(open_beds.lake.id).pending_referrals_per_agency == 1


# -- finding 9: information across agencies -------------------------------------------------------


def test_creating_a_user_does_not_reveal_a_name_in_another_agency(app: Flask, client: Any) -> None:
    """User names live in their agency's namespace: another agency's "fern" is no clash."""
    from advocacy.auth.models import Role
    from advocacy.auth.service import find_user
    from tests.helpers import login, make_agency, make_user

    north, south = make_agency("north"), make_agency("south")
    make_user(south, Role.ADVOCATE, "fern")
    login(client, make_user(north, Role.ADMIN, "north.boss"))
    response = client.post(
        "/admin/users/new",
        data={"username": "fern", "display_name": "Fern", "agency": north.id, "role": "advocate"},
    )
    assert response.status_code == 200
    assert find_user("north.fern") is not None
    again = client.post(
        "/admin/users/new",
        data={"username": "fern", "display_name": "Fern", "agency": north.id, "role": "advocate"},
    )
    assert again.status_code == 400  # a colleague of the same agency, whom the admin already sees


def test_a_user_name_with_a_trailing_newline_is_refused(app: Flask, client: Any) -> None:
    from advocacy.auth.models import Role
    from advocacy.auth.service import find_user
    from tests.helpers import login, make_agency, make_user

    north = make_agency("north")
    login(client, make_user(north, Role.ADMIN, "north.boss"))
    response = client.post(
        "/admin/users/new",
        data={"username": "fern\n", "display_name": "Fern", "agency": north.id, "role": "advocate"},
    )
    assert response.status_code == 400
    assert find_user("north.fern\n") is None
