"""What browser tests share: the app behind a real HTTP server, and what a person does in a page.

Debian's Chromium is driven through Playwright; a browser is never
downloaded.  The fixtures are in ``conftest.py`` beside this module.
"""

from __future__ import annotations

import itertools
import threading
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


def serve(tmp_path_factory: pytest.TempPathFactory, name: str, **overrides: object) -> Iterator[Served]:
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


def axe(page: Any, what: str, *, every_impact: bool = False) -> list[str]:
    """axe-core's serious and critical violations on the page; with ``every_impact`` also the
    moderate and minor ones, for pages whose issue asks them to be axe clean."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    problems = []
    for violation in result["violations"]:
        if not every_impact and violation["impact"] not in {"serious", "critical"}:
            continue
        targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        problems.append(
            f"{what}: [{violation['impact']}] {violation['id']}: {violation['help']} -> {targets}"
        )
    return problems
