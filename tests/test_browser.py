"""The app in a real browser: Debian's Chromium driven by Playwright.

These tests serve the real app with a real HTTP server and check what only a
browser can show: an advocate signs in and switches to Arabic, the page never
talks to another host, CSS and JavaScript load under the strict CSP, the
idle-timeout warning works, and axe-core finds no serious accessibility
problem.

A browser is never downloaded: without /usr/bin/chromium (Debian's
``chromium`` package) these tests are skipped, unless ADVOCACY_REQUIRE_BROWSER=1
(CI sets it), which turns a missing browser into a failure.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server

from advocacy import ROOT, create_app
from advocacy.auth.models import Agency, Role, User
from advocacy.extensions import db
from tests.conftest import make_settings
from tests.helpers import PASSWORD, current_code, make_agency, make_user

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "static" / "vendor" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 10_000

# Records Content-Security-Policy violations as the page reports them.  The
# browser adds init scripts itself, so the CSP does not block this one.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


# --------------------------------------------------------------------------
# A served app and a browser
# --------------------------------------------------------------------------


@dataclass
class Served:
    """The real app behind a real HTTP server on 127.0.0.1."""

    app: Flask
    url: str
    host: str
    agency_id: int
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_advocate(self) -> tuple[int, str]:
        """A fresh advocate for each test, so that no test inherits another's language."""
        with self.app.app_context():
            agency = db.session.get(Agency, self.agency_id)
            assert agency is not None
            user = make_user(agency, Role.ADVOCATE, f"advocate{next(self._numbers)}")
            return user.id, user.username

    def code_for(self, user_id: int) -> str:
        """The code the advocate's authenticator app shows right now."""
        with self.app.app_context():
            user = db.session.get(User, user_id)
            assert user is not None
            return current_code(user)


def _serve(tmp_path_factory: pytest.TempPathFactory, name: str, **overrides: object) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp(name)
    app = create_app(make_settings(f"sqlite:///{tmp}/browser.sqlite3", **overrides))
    with app.app_context():
        db.create_all()
        agency_id = make_agency("north").id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"browser-{name}", daemon=True)
    thread.start()
    host = f"127.0.0.1:{server.server_port}"
    try:
        yield Served(app=app, url=f"http://{host}", host=host, agency_id=agency_id)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package"
        if os.environ.get("ADVOCACY_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " (ADVOCACY_REQUIRE_BROWSER=1)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def served(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(tmp_path_factory, "app")


@pytest.fixture(scope="module")
def served_short_timeout(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Signs out after 6 idle seconds and warns when 4 are left."""
    yield from _serve(tmp_path_factory, "timeout", idle_timeout_seconds=6, idle_warning_seconds=4)


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


# --------------------------------------------------------------------------
# What a person does
# --------------------------------------------------------------------------


def sign_in(page: Any, served: Served, user_id: int, username: str) -> None:
    """Password, then the code from the authenticator app, as a person types them."""
    from playwright.sync_api import expect

    page.goto(served.url + "/")
    assert urlsplit(page.url).path == "/auth/login"
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.locator("form.usa-form button[type=submit]").click()
    expect(page.locator("#code")).to_be_visible()
    page.fill("#code", served.code_for(user_id))
    with page.expect_navigation():
        page.locator("form.usa-form button[type=submit]").click()
    assert urlsplit(page.url).path == "/"


def choose_language(page: Any, tag: str) -> None:
    """Pick a language in the switcher; app.js applies it at once."""
    with page.expect_navigation():
        page.select_option("#language-select", tag)


def still_signed_in(page: Any, served: Served) -> bool:
    """Asks the server without counting as activity (the background header)."""
    response = page.request.get(served.url + "/", headers={"X-Advocacy-Background": "1"}, max_redirects=0)
    if response.status == 200:
        return True
    assert response.status == 401, response.status
    return False


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def test_advocate_signs_in_and_switches_to_arabic_without_leaving_the_app(context: Any, served: Served):
    from playwright.sync_api import expect

    user_id, username = served.new_advocate()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    sign_in(page, served, user_id, username)
    expect(page.locator("h1")).to_have_text("Welcome, Test advocate")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    choose_language(page, "ar")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#language-select")).to_have_value("ar")
    expect(page.locator("#language-select option:checked")).to_have_text("العربية")
    assert urlsplit(page.url).path == "/"
    # Still signed in, on the same page, now in Arabic.
    expect(page.locator("h1")).to_contain_text("Test advocate")

    assert requested, "the page made no request at all"
    foreign = [
        url
        for url in requested
        if urlsplit(url).scheme not in {"data", "blob", "about"} and urlsplit(url).netloc != served.host
    ]
    assert not foreign, f"requests to another host than {served.host}: {foreign}"


def test_pages_load_their_css_and_javascript_under_the_csp(context: Any, served: Served):
    user_id, username = served.new_advocate()
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    failed: list[str] = []
    console: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failed.append(f"failed {r.url}: {r.failure}"))
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))

    def check(what: str) -> None:
        page.wait_for_load_state("load")
        page.evaluate("document.fonts.ready.then(() => true)")
        # app.css applied: the toolbar is grey.
        toolbar = "getComputedStyle(document.querySelector('.app-toolbar')).backgroundColor"
        assert page.evaluate(toolbar) == "rgb(240, 240, 240)"
        # app.js ran: no-js is gone, and the switcher's button hides until it has focus.
        assert page.evaluate("document.documentElement.classList.contains('no-js')") is False
        assert page.evaluate(
            "document.getElementById('language-form').classList.contains('app-language--auto')"
        )
        assert page.locator(".app-language__submit").bounding_box()["width"] <= 1
        violations = page.evaluate("window.__cspViolations")
        errors = [
            m for m in console if m.startswith(("error", "pageerror")) or "Content Security Policy" in m
        ]
        assert not failed, f"{what}: {failed}"
        assert not errors, f"{what}: {errors}"
        assert not violations, f"{what}: CSP violations {violations}"

    page.goto(served.url + "/auth/login")
    check("sign-in page")
    choose_language(page, "ar")
    check("sign-in page in Arabic")
    # Arabic letters come from the local Noto Sans Arabic.
    assert page.evaluate(
        "[...document.fonts].some(f => f.family.includes('Noto Sans Arabic') && f.status === 'loaded')"
    )
    choose_language(page, "en")
    sign_in(page, served, user_id, username)
    check("home page")
    assert page.evaluate("document.body.dataset.idleTimeout") == str(15 * 60)


def test_idle_timeout_warns_keeps_the_session_on_request_and_signs_out_otherwise(
    context: Any, served_short_timeout: Served
):
    from playwright.sync_api import expect

    served = served_short_timeout
    user_id, username = served.new_advocate()
    page = context.new_page()
    sign_in(page, served, user_id, username)
    loaded = time.monotonic()
    warning = page.locator("#timeout-warning")
    stay = page.locator("#stay-signed-in")

    # 6 idle seconds, warned when 4 are left: the warning shows and takes focus.
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=5_000)
    expect(stay).to_be_focused()
    assert 0 <= int(page.locator("#timeout-seconds").inner_text()) <= 4

    # "Stay signed in" asks the server to keep the session, and the warning goes.
    with page.expect_response(lambda r: r.url.endswith("/auth/keepalive")) as answer:
        stay.click()
    assert answer.value.status == 200
    expect(warning).to_be_hidden()

    # Past the moment the first session would have ended: still signed in.
    page.wait_for_timeout(max(0, int((loaded + 7.0 - time.monotonic()) * 1000)))
    assert urlsplit(page.url).path == "/"
    assert still_signed_in(page, served)

    # Without an answer the warning comes back, and then the sign-in page.
    expect(warning).to_be_visible(timeout=5_000)
    page.wait_for_url(lambda url: urlsplit(url).path == "/auth/login", timeout=10_000)
    expect(page.locator("#username")).to_be_visible()
    assert not still_signed_in(page, served)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_axe_finds_no_serious_problem_on_sign_in_and_home(browser: Any, served: Served, language: str):
    # Only this test lifts the CSP, to inject axe-core into the page.
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        user_id, username = served.new_advocate()
        page.goto(served.url + "/auth/login")
        if language != "en":
            choose_language(page, language)
        problems = _axe(page, f"sign-in page ({language})")
        sign_in(page, served, user_id, username)
        assert page.locator("html").get_attribute("lang") == language
        problems += _axe(page, f"home page ({language})")
    finally:
        ctx.close()
    if problems:
        print("\n".join(problems))
    assert not problems, "axe-core found serious or critical problems:\n" + "\n".join(problems)


def _axe(page: Any, what: str) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    problems = []
    for violation in result["violations"]:
        if violation["impact"] not in {"serious", "critical"}:
            continue
        targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        problems.append(
            f"{what}: [{violation['impact']}] {violation['id']}: {violation['help']} -> {targets}"
        )
    return problems
