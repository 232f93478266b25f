"""Court dates in Debian's Chromium: an advocate adds a hearing on the court's clock and
sees it on the case page; axe-core finds no serious problem on the court pages, in
English and Arabic, also with errors next to their fields."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from advocacy import clock
from advocacy.auth.models import Agency, Role
from advocacy.court import service as court
from advocacy.extensions import db
from advocacy.intake import service
from tests import factories
from tests.browser.browsing import TIMEOUT_MS, Served, axe, choose_language, serve, sign_in
from tests.helpers import make_user


@pytest.fixture(scope="module")
def served_court(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory, "court")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_an_admin_adds_a_hearing_and_axe_finds_no_serious_problem(
    browser: Any, served_court: Served, language: str
) -> None:
    served = served_court
    with served.app.app_context():
        agency = db.session.get(Agency, served.agency_id)
        assert agency is not None
        user = make_user(agency, Role.ADMIN, f"axe-court-{language}")
        user_id, username = user.id, user.username
        system = factories.system(agency)
        case = service.open_case(system, agency.id, user_id, "Rosa M.", language="es")
        duluth = court.add_court(system, agency.id, f"District Court {language}", "America/Chicago")
        db.session.commit()
        case_id, court_id = case.id, duluth.id
    day = (clock.now() + timedelta(days=14)).date().isoformat()
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    try:
        page = ctx.new_page()
        page.goto(served.url + "/auth/login")
        if language != "en":
            choose_language(page, language)
        sign_in(page, served, user_id, username)
        page.goto(served.url + "/court/courts")
        problems += axe(page, f"courts ({language})")
        page.goto(served.url + f"/court/cases/{case_id}/new")
        problems += axe(page, f"new court date ({language})")
        # Nothing filled in: every error next to its field.
        with page.expect_navigation():
            page.locator("form.usa-form button[type=submit]").click()
        problems += axe(page, f"new court date with errors ({language})")
        page.select_option("#kind", "protection_order")
        page.select_option("#court", str(court_id))
        page.fill("#courtroom", "3B")
        page.fill("#day", day)
        page.fill("#at", "09:30")
        with page.expect_navigation():
            page.locator("form.usa-form button[type=submit]").click()
        assert f"/cases/{case_id}" in page.url
        section = page.locator("section[aria-labelledby=court]").inner_text()
        assert "9:30" in section or "٩:٣٠" in section
        problems += axe(page, f"case page with a court date ({language})")
        with page.expect_navigation():
            page.locator("section[aria-labelledby=court] a.usa-link").first.click()
        problems += axe(page, f"court date ({language})")
    finally:
        ctx.close()
    assert not problems, "axe-core found serious or critical problems:\n" + "\n".join(problems)
