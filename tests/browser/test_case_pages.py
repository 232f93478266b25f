"""The case pages in Debian's Chromium: axe-core finds no serious problem on the
list, the case page, its edits and the re-screen, in English and Arabic, also
with errors next to their fields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from advocacy.auth.models import Agency, Role
from advocacy.extensions import db
from advocacy.intake import instrument_format, service
from tests import factories
from tests.browser.browsing import TIMEOUT_MS, Served, axe, choose_language, serve, sign_in
from tests.helpers import make_user
from tests.test_cases import GOOD, LETHALITY

# --- in a browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served_cases(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory, "cases")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_axe_finds_no_serious_problem_on_the_case_pages(
    browser: Any,
    served_cases: Served,
    language: str,
) -> None:
    served = served_cases
    with served.app.app_context():
        agency = db.session.get(Agency, served.agency_id)
        assert agency is not None
        user = make_user(agency, Role.ADVOCATE, f"axe-cases-{language}")
        user_id, username = user.id, user.username
        system, advocate = factories.system(agency), factories.actor(user)
        case = service.open_case(system, agency.id, user_id, "Rosa M.", phone="+12185550101", language="es")
        db.session.commit()
        instrument = instrument_format.shipped()[LETHALITY]
        answers = {q.key: "no" for q in instrument.questions}
        service.screen_case(advocate, case, instrument, answers)
        service.screen_case(advocate, case, instrument, {**answers, "q1": "yes"})
        case_id = case.id
        for n in range(50):
            service.open_case(system, agency.id, user_id, f"Person {n}")
        db.session.commit()
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    try:
        page = ctx.new_page()
        page.goto(served.url + "/auth/login")
        if language != "en":
            choose_language(page, language)
        sign_in(page, served, user_id, username)
        urls = [
            "/cases/",
            "/cases/?page=2",
            "/cases/?page=abc",
            "/cases/?name=nobody",
            f"/cases/{case_id}",
            f"/cases/{case_id}/screen",
            f"/handoff/cases/{case_id}/preview",
            *(f"/cases/{case_id}/edit/{section}" for section in GOOD),
        ]
        for url in urls:
            page.goto(served.url + url)
            problems += axe(page, f"{url} ({language})")
        # Pages with errors next to their fields.
        page.goto(served.url + f"/cases/{case_id}/edit/household")
        page.fill("#adults", "0")
        with page.expect_navigation():
            page.locator("form.usa-form button[type=submit]").click()
        problems += axe(page, f"household with an error ({language})")
        page.goto(served.url + f"/cases/{case_id}/screen")
        with page.expect_navigation():
            page.locator("button[value=save]").click()
        problems += axe(page, f"screen with errors ({language})")
    finally:
        ctx.close()
    assert not problems, "axe-core found serious or critical problems:\n" + "\n".join(problems)
