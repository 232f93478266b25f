"""No integer a person can type into a URL or a form gives a server error (issue 10, finding 2).

A property test (hypothesis): every route with an id in its path, every
integer form field and every integer query parameter, with whole numbers of
any size and sign and with text that is not a number, answers with anything
but a 500, on both engines (PostgreSQL's 32-bit id columns are the sharp edge).
Slow (every route, a dozen values, several minutes): ``make bench`` and
``pytest -m slow`` run it; the sharp values run in the default suite below.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advocacy.auth.models import Role
from advocacy.converters import IdConverter
from advocacy.extensions import db
from advocacy.shelters import service as shelters
from advocacy.shelters.models import BedType
from tests import factories
from tests.helpers import sign_in

#: Every integer field of the app's forms and every integer query parameter.
INTEGER_FIELDS = (
    "adults", "children", "bed_ids", "beds_needed", "boy_age", "oldest_boy_age", "pets",
    "boys_age_limit", "max_stay_days", "agency", "adult_beds", "child_beds", "cribs",
    "hold_minutes", "stale_after_minutes", "pending_referrals_per_agency", "owner_id",
    "page", "number", "before", "days", "new", "shelter_id", "phone", "version",
)  # fmt: skip
#: Routes that end the session or count failures: they would sign the test out.
SKIPPED_PREFIXES = ("auth.", "static")

VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["0", "-1", "2147483647", "2147483648", "9" * 30, "1e3", " 7", "0x10", "", "١٢"]),
    st.text(min_size=1, max_size=12),
)


def id_routes(app: Flask) -> list[tuple[Any, list[str]]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(SKIPPED_PREFIXES):
            continue
        ids = [name for name, conv in rule._converters.items() if isinstance(conv, IdConverter)]
        routes.append((rule, ids))
    return routes


def url_for_rule(rule: Any, ids: list[str], value: str, real_id: int) -> str:
    """The rule's URL with ``value`` in one id place (the first) and a real id in the others."""
    parts = {name: (value if i == 0 else str(real_id)) for i, name in enumerate(ids)}
    url = rule.rule
    for name, text in parts.items():
        url = url.replace(f"<id:{name}>", quote(text, safe=""))
    return url


@pytest.fixture
def world(app: Flask, client: Any) -> Any:
    agency = factories.agency("north")
    setup = factories.system(agency)
    shelter = shelters.add_shelter(
        setup, agency.id, "Birch House", "NS-1", "North Shore", address="1 Example Ave"
    )
    shelters.add_room(setup, shelter, "A", beds=[("A1", BedType.ADULT)])
    db.session.commit()
    person = factories.user(
        agency, Role.ADMIN, "north.admin", also=((agency, Role.ADVOCATE), (agency, Role.SHELTER_STAFF))
    )
    sign_in(client, person)
    return shelter


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=VALUES)
def test_no_integer_input_gives_a_server_error(app: Flask, client: Any, world: Any, value: str) -> None:
    failures = []
    form = {name: value for name in INTEGER_FIELDS}
    for rule, ids in id_routes(app):
        if "<" in rule.rule.replace("<id:", ""):
            continue  # a route with a non-id parameter (a token, a file name): not an integer input
        url = url_for_rule(rule, ids, value, world.id) if ids else rule.rule
        query = "?" + "&".join(f"{name}={quote(value, safe='')}" for name in INTEGER_FIELDS)
        if "GET" in rule.methods:
            status = client.get(url + query).status_code
            if status >= 500:
                failures.append(f"GET {url}{query}: {status}")
        if "POST" in rule.methods:
            status = client.post(url, data=form).status_code
            if status >= 500:
                failures.append(f"POST {url}: {status}")
        db.session.rollback()
    assert failures == []


@pytest.mark.parametrize("value", ["2147483648", "-1", "9" * 30, "abc"])
def test_the_sharp_values_give_no_server_error_on_the_id_routes(
    app: Flask, client: Any, world: Any, value: str
) -> None:
    failures = []
    for rule, ids in id_routes(app):
        if not ids or "<" in rule.rule.replace("<id:", ""):
            continue
        url = url_for_rule(rule, ids, value, world.id)
        if "GET" in rule.methods and client.get(url + f"?before={value}&number={value}").status_code >= 500:
            failures.append(f"GET {url}")
        if "POST" in rule.methods and client.post(url, data={"bed_ids": value}).status_code >= 500:
            failures.append(f"POST {url}")
    assert failures == []


#: ``name = WholeNumberField(``, ``name = SelectField(..., coerce=int``, ``.get("name", ..., type=int)``.
_DECLARED = re.compile(
    r"(\w+) = WholeNumberField\(|(\w+) = SelectField\([^\n]*coerce=int|\.get\(\"(\w+)\"[^\n]*type=int\)"
)


def test_every_integer_field_of_the_app_is_tried() -> None:
    """The property test covers a field only if it is in INTEGER_FIELDS: a new
    integer field or query parameter must join the list (or this fails)."""
    root = Path(__file__).resolve().parent.parent / "advocacy"
    declared = {
        name
        for path in root.rglob("*.py")
        for match in _DECLARED.finditer(path.read_text())
        for name in match.groups()
        if name
    }
    assert {"pets", "owner_id", "days", "phone", "version"} <= declared  # the scan finds them
    assert declared - set(INTEGER_FIELDS) == set()
