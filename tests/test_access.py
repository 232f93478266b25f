"""Who may reach what: login by default, roles per page, agencies kept apart.

A page is closed unless its endpoint is on the short public list; a role that
does not fit gets 403; an object of another agency answers 404, exactly as an
object that does not exist, so nobody learns that it is there.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for
from werkzeug.routing import AnyConverter, IntegerConverter

from advocacy.auth.models import Role
from advocacy.auth.service import create_user
from advocacy.converters import IdConverter
from advocacy.extensions import db
from advocacy.intake.service import open_case
from advocacy.security import PUBLIC_ENDPOINTS
from advocacy.shelters.service import add_shelter
from tests.factories import system
from tests.helpers import PASSWORD, login, make_agency, make_user, text_of

EXPECTED_PUBLIC = {
    "static",
    "auth.login",
    "auth.two_factor",
    "auth.enrol",
    "auth.logout",
    "core.health",
    "core.set_language",
    # Twilio's webhooks, guarded by X-Twilio-Signature instead (tests/test_notify_webhooks.py).
    "notify.twilio_status",
    "notify.twilio_inbound",
}


def _sample(converter: object) -> object:
    if isinstance(converter, (IntegerConverter, IdConverter)):
        return 1
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return "x"


def every_route(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule and method, int arguments filled with 1."""
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            values = {name: _sample(conv) for name, conv in rule._converters.items()}
            url = url_for(rule.endpoint, **values)
            routes.extend((rule.endpoint, method, url) for method in sorted(rule.methods or ()))
    return routes


def protected_routes(app: Flask) -> list[tuple[str, str, str]]:
    """Every route behind the sign-in; the partner API's routes require a bearer token
    instead (tests/test_handoff_api.py checks that each answers 401 without one)."""
    return [
        r for r in every_route(app) if r[0] not in PUBLIC_ENDPOINTS and not r[0].startswith("handoff_api.")
    ]


# --- login by default -------------------------------------------------------


def test_the_public_list_is_exactly_the_short_expected_set() -> None:
    assert set(PUBLIC_ENDPOINTS) == EXPECTED_PUBLIC


def test_the_route_table_has_pages_to_protect(app: Flask) -> None:
    # Guards the tests below against passing on an empty route table.
    endpoints = {endpoint for endpoint, _m, _u in protected_routes(app)}
    assert {"core.home", "intake.index", "intake.detail", "admin.users", "auth.keepalive"} <= endpoints


def test_anonymous_request_to_any_non_public_route_is_sent_to_sign_in(app: Flask, client: Any) -> None:
    for endpoint, method, url in protected_routes(app):
        response = client.open(url, method=method)
        assert response.status_code == 302, (endpoint, method, response.status_code)
        assert response.headers["Location"].startswith("/auth/login"), (endpoint, method)


def test_anonymous_json_request_to_any_non_public_route_gets_401(app: Flask, client: Any) -> None:
    for endpoint, method, url in protected_routes(app):
        response = client.open(url, method=method, headers={"Accept": "application/json"})
        assert response.status_code == 401, (endpoint, method, response.status_code)
        if method != "HEAD":
            assert response.get_json() == {"error": "login_required"}, (endpoint, method)


def test_anonymous_background_request_gets_401_not_a_login_page(app: Flask, client: Any) -> None:
    response = client.get("/cases/", headers={"X-Advocacy-Background": "1"})
    assert response.status_code == 401
    assert response.get_json() == {"error": "login_required"}


def test_api_paths_answer_401_json_to_anonymous_requests(app: Flask, client: Any) -> None:
    # No /api/ route exists yet: register one as the API blueprint will, before any request.
    app.add_url_rule("/api/ping", "api_ping", lambda: {"pong": True})
    response = client.get("/api/ping")
    assert response.status_code == 401
    assert response.get_json() == {"error": "login_required"}


def test_anonymous_redirect_remembers_the_page_asked_for(client: Any) -> None:
    response = client.get("/cases/")
    assert response.headers["Location"] == "/auth/login?next=/cases/"


def test_public_routes_answer_anonymous_requests_without_error(app: Flask, client: Any) -> None:
    for endpoint, method, url in every_route(app):
        if endpoint not in PUBLIC_ENDPOINTS or endpoint == "static":
            continue
        response = client.open(url, method=method)
        assert response.status_code < 500, (endpoint, method, response.status_code)
        assert response.status_code != 401, (endpoint, method)


def test_unknown_path_is_404_for_anonymous_users(client: Any) -> None:
    assert client.get("/no-such-page").status_code == 404


# --- roles ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.SHELTER_STAFF, "/cases/"),
        (Role.SHELTER_STAFF, "/admin/users"),
        (Role.COORDINATOR, "/cases/"),
        (Role.COORDINATOR, "/shelters/"),
        (Role.COORDINATOR, "/admin/users"),
        (Role.COORDINATOR, "/admin/audit"),
        (Role.ADVOCATE, "/shelters/"),
        (Role.ADVOCATE, "/admin/users"),
        (Role.ADVOCATE, "/admin/audit"),
    ],
)
def test_a_role_that_does_not_fit_gets_403(client: Any, role: Role, path: str) -> None:
    login(client, make_user(make_agency(), role))
    response = client.get(path)
    assert response.status_code == 403
    if role is Role.COORDINATOR:
        # No "ask your agency admin": no admin can open a case page to a coordinator.
        assert "No one can open this page to a coordinator" in text_of(response)
        assert "agency admin" not in text_of(response)
    else:
        assert "Your role does not allow this page" in text_of(response)


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.ADVOCATE, "/cases/"),
        (Role.SHELTER_STAFF, "/shelters/"),
        (Role.ADMIN, "/cases/"),
        (Role.ADMIN, "/shelters/"),
        (Role.ADMIN, "/admin/users"),
        (Role.ADMIN, "/admin/audit"),
        (Role.COORDINATOR, "/"),
        (Role.COORDINATOR, "/auth/account"),
    ],
)
def test_a_role_that_fits_reaches_the_page(client: Any, role: Role, path: str) -> None:
    login(client, make_user(make_agency(), role))
    assert client.get(path).status_code == 200


def test_navigation_offers_only_what_the_role_may_open(client: Any) -> None:
    login(client, make_user(make_agency(), Role.SHELTER_STAFF))
    html = client.get("/").get_data(as_text=True)
    assert 'href="/shelters/"' in html
    assert 'href="/cases/"' not in html
    assert 'href="/admin/users"' not in html


# --- agency isolation ---------------------------------------------------------


@pytest.fixture
def two_agencies(app: Flask) -> dict[str, Any]:
    """Agency A and agency B, each with an admin, an advocate, a case and a shelter."""
    a, b = make_agency("north"), make_agency("south")
    people = {
        "admin_a": make_user(a, Role.ADMIN, "admin-north"),
        "advocate_a": make_user(a, Role.ADVOCATE, "advocate-north"),
        "staff_a": make_user(a, Role.SHELTER_STAFF, "staff-north"),
        "admin_b": make_user(b, Role.ADMIN, "admin-south"),
        "advocate_b": make_user(b, Role.ADVOCATE, "advocate-south"),
    }
    case_a = open_case(system(a.id), a.id, people["advocate_a"].id, "Maple North")
    case_b = open_case(system(b.id), b.id, people["advocate_b"].id, "Willow South")
    shelter_a = add_shelter(system(a.id), a.id, "Harbor House North", "Shelter N1", "North metro")
    shelter_b = add_shelter(system(b.id), b.id, "Lakeside Refuge South", "Shelter S1", "South metro")
    db.session.commit()
    return {
        "a": a,
        "b": b,
        **people,
        "case_a": case_a,
        "case_b": case_b,
        "shelter_a": shelter_a,
        "shelter_b": shelter_b,
    }


def test_advocate_of_agency_a_gets_404_for_agency_b_case(client: Any, two_agencies: dict[str, Any]) -> None:
    login(client, two_agencies["advocate_a"])
    assert client.get(f"/cases/{two_agencies['case_a'].id}").status_code == 200
    response = client.get(f"/cases/{two_agencies['case_b'].id}")
    assert response.status_code == 404
    assert "Willow South" not in response.get_data(as_text=True)


def test_another_agency_case_looks_exactly_like_a_missing_one(
    client: Any, two_agencies: dict[str, Any]
) -> None:
    login(client, two_agencies["advocate_a"])
    other = client.get(f"/cases/{two_agencies['case_b'].id}")
    missing = client.get("/cases/999999")
    assert other.status_code == missing.status_code == 404
    assert text_of(other) == text_of(missing)


def test_admin_of_agency_a_gets_404_for_agency_b_case(client: Any, two_agencies: dict[str, Any]) -> None:
    login(client, two_agencies["admin_a"])
    assert client.get(f"/cases/{two_agencies['case_b'].id}").status_code == 404


def test_staff_of_agency_a_gets_404_for_agency_b_shelter(client: Any, two_agencies: dict[str, Any]) -> None:
    login(client, two_agencies["staff_a"])
    assert client.get(f"/shelters/{two_agencies['shelter_a'].id}").status_code == 200
    response = client.get(f"/shelters/{two_agencies['shelter_b'].id}")
    assert response.status_code == 404
    assert "Lakeside Refuge South" not in response.get_data(as_text=True)


def test_admin_of_agency_a_gets_404_for_agency_b_user(client: Any, two_agencies: dict[str, Any]) -> None:
    login(client, two_agencies["admin_a"])
    assert client.get(f"/admin/users/{two_agencies['advocate_a'].id}").status_code == 200
    response = client.get(f"/admin/users/{two_agencies['advocate_b'].id}")
    assert response.status_code == 404
    assert "advocate-south" not in response.get_data(as_text=True)


def test_case_list_shows_only_own_agency_cases(client: Any, two_agencies: dict[str, Any]) -> None:
    login(client, two_agencies["advocate_a"])
    page = text_of(client.get("/cases/"))
    assert "Maple North" in page
    assert "Willow South" not in page


def test_shelter_list_shows_only_own_agency_shelters(client: Any, two_agencies: dict[str, Any]) -> None:
    login(client, two_agencies["staff_a"])
    page = text_of(client.get("/shelters/"))
    assert "Harbor House North" in page
    assert "Lakeside Refuge South" not in page
    assert "Shelter S1" not in page


def test_user_list_shows_only_own_agency_users(client: Any, two_agencies: dict[str, Any]) -> None:
    login(client, two_agencies["admin_a"])
    page = text_of(client.get("/admin/users"))
    assert "advocate-north" in page
    assert "advocate-south" not in page
    assert "admin-south" not in page


def test_a_role_in_one_agency_opens_nothing_in_another(client: Any, two_agencies: dict[str, Any]) -> None:
    """Advocate in A and shelter staff in B: B's cases stay closed, A's shelters too."""
    a, b = two_agencies["a"], two_agencies["b"]
    both = create_user(
        system(a),
        "two-hats",
        "Two Hats",
        PASSWORD,
        [(a, Role.ADVOCATE), (b, Role.SHELTER_STAFF)],
        enrol_totp=True,
    )
    db.session.commit()
    login(client, both)
    assert client.get(f"/cases/{two_agencies['case_a'].id}").status_code == 200
    assert client.get(f"/cases/{two_agencies['case_b'].id}").status_code == 404
    assert client.get(f"/shelters/{two_agencies['shelter_b'].id}").status_code == 200
    assert client.get(f"/shelters/{two_agencies['shelter_a'].id}").status_code == 404
    cases = text_of(client.get("/cases/"))
    assert "Maple North" in cases
    assert "Willow South" not in cases


def test_a_user_without_any_membership_reaches_no_agency_page(client: Any, app: Flask) -> None:
    agency = make_agency()
    user = make_user(agency, Role.ADVOCATE)
    case = open_case(system(agency.id), agency.id, user.id, "Birch")
    user.memberships.clear()
    db.session.commit()
    login(client, user)
    assert client.get("/cases/").status_code == 403
    assert client.get(f"/cases/{case.id}").status_code == 403


def test_a_person_of_two_agencies_sees_and_switches_the_agency_in_the_header(
    client: Any, two_agencies: dict[str, Any]
) -> None:
    """Advocate in both: the header says which agency they work for, and a new intake
    belongs to the one chosen there, never silently to "the first"."""
    from advocacy.intake.models import IntakeDraft

    a, b = two_agencies["a"], two_agencies["b"]
    both = create_user(
        system(a),
        "two-desks",
        "Two Desks",
        PASSWORD,
        [(a, Role.ADVOCATE), (b, Role.ADVOCATE)],
        enrol_totp=True,
    )
    db.session.commit()
    login(client, both)
    page = client.get("/").get_data(as_text=True)
    assert 'id="agency-select"' in page and a.name in page and b.name in page
    assert f'<option value="{a.id}" selected>' in page  # the first, shown, until they choose

    assert client.post("/agency", data={"agency": str(b.id), "next": "/"}).status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert f'<option value="{b.id}" selected>' in page
    response = client.post("/cases/new")
    draft_id = int(response.headers["Location"].split("/")[3])
    assert db.session.get(IntakeDraft, draft_id).agency_id == b.id  # type: ignore[union-attr]

    # An agency they do not belong to is not a choice.
    third = make_agency("west")
    client.post("/agency", data={"agency": str(third.id), "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert "Choose one of your agencies." in page
    assert f'<option value="{b.id}" selected>' in page


def test_a_person_of_one_agency_has_no_switcher(client: Any, two_agencies: dict[str, Any]) -> None:
    login(client, two_agencies["advocate_a"])
    assert 'id="agency-select"' not in client.get("/").get_data(as_text=True)
