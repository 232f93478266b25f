"""Safety plans in Debian's Chromium: an advocate writes a plan, saves it twice, compares the two
versions and opens the printed plan; axe-core finds no serious problem on the plan pages in English
and Arabic."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from advocacy.auth.models import Agency, Role
from advocacy.extensions import db
from advocacy.intake import service as intake
from tests import factories
from tests.browser.browsing import TIMEOUT_MS, Served, axe, choose_language, serve, sign_in
from tests.helpers import make_user


@pytest.fixture(scope="module")
def served_plans(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory, "plans")


def _advocate_with_case(served: Served, name: str, language: str) -> tuple[int, str, int]:
    with served.app.app_context():
        agency = db.session.get(Agency, served.agency_id)
        assert agency is not None
        user = make_user(agency, Role.ADVOCATE, name)
        case = intake.open_case(factories.system(agency), agency.id, user.id, "Rosa M.", language=language)
        db.session.commit()
        return user.id, user.username, case.id


@pytest.mark.parametrize("language", ["en", "ar"])
def test_an_advocate_writes_a_plan_compares_two_versions_and_prints_it(
    browser: Any, served_plans: Served, language: str
) -> None:
    from playwright.sync_api import expect

    served = served_plans
    user_id, username, case_id = _advocate_with_case(served, f"plans-{language}", "es")
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    try:
        page = ctx.new_page()
        page.goto(served.url + "/auth/login")
        if language != "en":
            choose_language(page, language)
        sign_in(page, served, user_id, username)

        page.goto(served.url + f"/cases/{case_id}")
        with page.expect_navigation():
            page.locator("section[aria-labelledby=plans] a.usa-button").first.click()
        problems += axe(page, f"new plan ({language})")
        page.fill("#f-during_incident-notes-0-text", "Salgo por la puerta de atrás")
        page.fill("#f-during_incident-safe_places-0-place", "La tienda de la esquina")
        page.click("label[for=item-phone]")  # USWDS draws the box on the label
        with page.expect_navigation():
            page.locator("form.app-plan-form button[type=submit]").click()
        expect(page.locator("input[name=base]")).to_have_value("1")

        page.fill("#f-during_incident-notes-0-text", "Salgo por la ventana de atrás")
        page.click("label[for=item-phone]")
        page.click("label[for=item-money]")
        with page.expect_navigation():
            page.locator("form.app-plan-form button[type=submit]").click()
        problems += axe(page, f"saved plan ({language})")

        page.goto(served.url + f"/safety-plans/case/{case_id}/versions")
        problems += axe(page, f"versions ({language})")
        with page.expect_navigation():
            page.locator("form.usa-form button[type=submit]").click()
        expect(page.locator("del", has_text="puerta")).to_have_count(1)
        expect(page.locator("ins", has_text="ventana")).to_have_count(1)
        problems += axe(page, f"compare ({language})")

        page.goto(served.url + f"/safety-plans/case/{case_id}/print")
        assert page.locator("html").get_attribute("lang") == "es"
        expect(page.locator("main h1")).to_have_text("Mi plan")
        expect(page.locator("main")).to_contain_text("Salgo por la ventana de atrás")
        problems += axe(page, f"print ({language})")
        pdf = page.request.get(served.url + f"/safety-plans/case/{case_id}/print.pdf")
        assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

        page.goto(served.url + f"/safety-plans/case/{case_id}/text?parts=important_numbers")
        expect(page.locator(".app-sms").first).to_contain_text("911")
        problems += axe(page, f"texts ({language})")
    finally:
        ctx.close()
    assert problems == [], "\n".join(problems)
