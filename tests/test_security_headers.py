"""Headers every response carries, and the session cookie's attributes.

The CSP is strict (no inline script or style, no framing); victim data never
sits in a cache (``no-store``); HSTS is sent over HTTPS only; in production the
session cookie is ``__Host-`` prefixed and Secure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from advocacy import create_app
from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.intake.service import open_case
from tests.conftest import make_settings
from tests.factories import system
from tests.helpers import PASSWORD, CSRFClient, current_code, login, make_agency, make_user

EXPECTED_CSP = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "manifest-src": ["'self'"],
}


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} given twice"
        directives[name] = sources
    return directives


def a_static_file(app: Flask) -> str:
    folder = Path(app.static_folder or "")
    found = next(p for p in sorted(folder.rglob("*.css")) if p.is_file())
    return "/static/" + found.relative_to(folder).as_posix()


def sample_responses(app: Flask, client: Any) -> dict[str, Any]:
    return {
        "html page": client.get("/auth/login"),
        "redirect": client.get("/cases/"),
        "404": client.get("/no-such-page"),
        "static file": client.get(a_static_file(app)),
        "json health": client.get("/healthz"),
        "405": client.get("/auth/logout"),
    }


def test_the_sample_responses_are_what_they_claim(app: Flask, client: Any) -> None:
    responses = sample_responses(app, client)
    assert responses["html page"].status_code == 200
    assert responses["redirect"].status_code == 302
    assert responses["404"].status_code == 404
    assert responses["static file"].status_code == 200
    assert responses["json health"].get_json() == {"status": "ok"}
    assert responses["405"].status_code == 405


def test_every_response_has_the_strict_csp(app: Flask, client: Any) -> None:
    for kind, response in sample_responses(app, client).items():
        header = response.headers.get("Content-Security-Policy", "")
        assert csp_directives(header) == EXPECTED_CSP, kind
        assert "unsafe-inline" not in header, kind
        assert "unsafe-eval" not in header, kind


def test_every_response_has_the_fixed_headers(app: Flask, client: Any) -> None:
    for kind, response in sample_responses(app, client).items():
        headers = response.headers
        assert headers.get("Referrer-Policy") == "no-referrer", kind
        assert headers.get("X-Content-Type-Options") == "nosniff", kind
        assert headers.get("X-Frame-Options") == "DENY", kind
        assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", kind


def test_nothing_but_static_files_may_be_cached(app: Flask, client: Any) -> None:
    for kind, response in sample_responses(app, client).items():
        cache = response.headers.get("Cache-Control", "")
        if kind == "static file":
            assert "no-store" not in cache
        else:
            assert cache == "no-store", kind


def test_a_case_page_is_never_cached(client: Any) -> None:
    agency = make_agency()
    user = make_user(agency, Role.ADVOCATE)
    case = open_case(system(agency.id), agency.id, user.id, "Juniper")
    db.session.commit()
    login(client, user)
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_error_pages_carry_the_headers_too(app: Flask, client: Any) -> None:
    response = client.post("/auth/login", data={"username": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)})
    assert response.status_code == 413
    assert csp_directives(response.headers["Content-Security-Policy"]) == EXPECTED_CSP
    assert response.headers["Cache-Control"] == "no-store"


def test_hsts_only_over_https(app: Flask, client: Any) -> None:
    assert "Strict-Transport-Security" not in client.get("/auth/login").headers
    for path in ("/auth/login", "/cases/", "/healthz", "/no-such-page"):
        response = client.get(path, base_url="https://localhost")
        hsts = response.headers.get("Strict-Transport-Security", "")
        assert re.fullmatch(r"max-age=(\d+); includeSubDomains", hsts), path
        assert int(hsts.split("=")[1].split(";")[0]) >= 31536000


def test_pages_hold_no_inline_script_or_style(client: Any) -> None:
    """What lets the CSP stay strict: every script and style comes from a file."""
    agency = make_agency()
    admin = make_user(agency, Role.ADMIN)
    case = open_case(system(agency.id), agency.id, admin.id, "Aspen")
    db.session.commit()
    pages = [client.get("/auth/login").get_data(as_text=True)]
    login(client, admin)
    for path in ("/", "/cases/", f"/cases/{case.id}", "/shelters/", "/admin/users", "/auth/account"):
        response = client.get(path)
        assert response.status_code == 200, path
        pages.append(response.get_data(as_text=True))
    for html in pages:
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, tag
        for body in re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S):
            assert not body.strip(), "inline script body"
        assert "<style" not in html
        assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
        assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
        assert "javascript:" not in html


# --- the session cookie ----------------------------------------------------------------------


def set_cookie_header(response: Any, name: str) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert headers, response.headers.getlist("Set-Cookie")
    return headers[-1]


def cookie_attributes(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


def test_session_cookie_is_http_only_and_same_site_strict(client: Any) -> None:
    header = set_cookie_header(client.get("/auth/login"), "session")
    assert "httponly" in cookie_attributes(header)
    assert "SameSite=Strict" in header
    assert "Path=/" in header
    assert "expires" not in cookie_attributes(header)  # a browser session, never persisted


def test_session_cookie_stays_strict_after_sign_in(client: Any) -> None:
    user = make_user(make_agency(), Role.ADVOCATE)
    client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    response = client.post("/auth/two-factor", data={"code": current_code(user)})
    header = set_cookie_header(response, "session")
    assert "httponly" in cookie_attributes(header)
    assert "SameSite=Strict" in header
    assert "expires" not in cookie_attributes(header)
    assert "remember_token" not in " ".join(response.headers.getlist("Set-Cookie"))


@pytest.fixture
def production_app(app: Flask) -> Iterator[Flask]:
    """The same database and keys, configured as production behind HTTPS."""
    settings = replace(app.config["SETTINGS"], env="production", public_base_url="https://advocacy.example")
    prod = create_app(settings)
    prod.test_client_class = CSRFClient
    yield prod
    with prod.app_context():
        db.session.remove()
        db.engine.dispose()


def test_production_cookie_is_host_prefixed_and_secure(database_url: str) -> None:
    settings = make_settings(database_url, env="production", public_base_url="https://advocacy.example")
    config = settings.flask_config()
    assert config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert config["SESSION_COOKIE_SECURE"] is True
    prod = create_app(settings)
    response = prod.test_client().get("/auth/login", base_url="https://localhost")
    header = set_cookie_header(response, "__Host-session")
    attributes = cookie_attributes(header)
    assert {"secure", "httponly", "path"} <= attributes
    assert "domain" not in attributes  # a __Host- cookie must not name a domain
    assert "SameSite=Strict" in header
    assert "Path=/" in header
    with prod.app_context():
        db.engine.dispose()


def test_development_over_http_does_not_use_secure_cookies(settings: Any) -> None:
    config = settings.flask_config()
    assert config["SESSION_COOKIE_NAME"] == "session"
    assert config["SESSION_COOKIE_SECURE"] is False


def test_production_sign_in_works_over_https_without_a_referer(production_app: Flask) -> None:
    """Referrer-Policy: no-referrer means browsers send no Referer on our own forms,
    so the CSRF check must not depend on one."""
    user = make_user(make_agency(), Role.ADVOCATE)
    client = production_app.test_client()
    https = {"base_url": "https://localhost"}
    client.get("/auth/login", **https)
    response = client.post("/auth/login", data={"username": user.username, "password": PASSWORD}, **https)
    assert response.headers["Location"] == "/auth/two-factor"
    response = client.post("/auth/two-factor", data={"code": current_code(user)}, **https)
    assert response.headers["Location"] == "/"
    assert client.get("/", **https).status_code == 200
    # ...and a form without its token is still refused.
    response = client.post("/auth/logout-everywhere", csrf=False, **https)
    assert response.headers["Location"] == "/auth/login"
    assert client.get("/", **https).status_code == 302


@pytest.mark.parametrize(
    "path", ["/cases/2147483648", "/cases/0", "/cases/99999999999", "/shelters/4294967296/board"]
)
def test_an_id_past_the_columns_range_is_a_404_not_a_500(client: Any, path: str) -> None:
    from tests.factories import agency, user
    from tests.helpers import sign_in

    sign_in(client, user(agency("north"), Role.ADMIN))
    assert client.get(path).status_code == 404


def test_an_id_converter_builds_the_same_urls(app: Any) -> None:
    from flask import url_for

    with app.test_request_context():
        assert url_for("intake.detail", case_id=2147483647) == "/cases/2147483647"
