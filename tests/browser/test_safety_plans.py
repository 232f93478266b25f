"""Safety plans in Debian's Chromium: an advocate writes a plan, saves it twice, compares the two
versions, opens the printed plan and texts the numbers to the confirmed safe number through the
console backend; axe-core finds no violation of any impact (minor ones included) on the plan pages
in English and Arabic."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from advocacy.auth.models import Agency, Role
from advocacy.extensions import db
from advocacy.intake import service as intake
from advocacy.notify.models import MessageKind, MessageState, OutboxMessage, Subscription
from advocacy.notify.service import enrol
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


def _confirm_safe_number(served: Served, user_id: int, case_id: int) -> None:
    """The victim's safe number, confirmed with the code read back; no quiet hours, so that the
    texts go out whatever the time of day the test runs."""
    from advocacy.auth.models import User
    from advocacy.intake.models import Case

    with served.app.app_context():
        user = db.session.get(User, user_id)
        case = db.session.get(Case, case_id)
        assert user is not None and case is not None
        actor = factories.actor(user)
        case.consent_sms = True
        sub, code = enrol.start_enrolment(
            actor, case, phone="218 555 0101", locale="es", acknowledge_draft=True
        )
        enrol.confirm_code(actor, sub, code)
        sub.quiet_start = sub.quiet_end = 0
        db.session.commit()


def _plan_texts(served: Served, case_id: int) -> list[tuple[MessageState, str]]:
    with served.app.app_context():
        rows = db.session.scalars(
            db.select(OutboxMessage)
            .join(Subscription)
            .where(OutboxMessage.kind == MessageKind.PLAN_TEXT, Subscription.case_id == case_id)
        )
        return [(r.state, r.params) for r in rows]


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
        problems += axe(page, f"new plan ({language})", every_impact=True)
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
        problems += axe(page, f"saved plan ({language})", every_impact=True)

        page.goto(served.url + f"/safety-plans/case/{case_id}/versions")
        problems += axe(page, f"versions ({language})", every_impact=True)
        with page.expect_navigation():
            page.locator("form.usa-form button[type=submit]").click()
        expect(page.locator("del", has_text="puerta")).to_have_count(1)
        expect(page.locator("ins", has_text="ventana")).to_have_count(1)
        problems += axe(page, f"compare ({language})", every_impact=True)

        page.goto(served.url + f"/safety-plans/case/{case_id}/print")
        assert page.locator("html").get_attribute("lang") == "es"
        expect(page.locator("main h1")).to_have_text("Mi plan")
        expect(page.locator("main")).to_contain_text("Salgo por la ventana de atrás")
        problems += axe(page, f"print ({language})", every_impact=True)
        pdf = page.request.get(served.url + f"/safety-plans/case/{case_id}/print.pdf")
        assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

        page.goto(served.url + f"/safety-plans/case/{case_id}/text?parts=important_numbers")
        expect(page.locator(".app-sms").first).to_contain_text("911")
        problems += axe(page, f"texts ({language})", every_impact=True)
        expect(page.locator("#send-texts")).to_have_count(0)  # no confirmed safe number yet

        _confirm_safe_number(served, user_id, case_id)
        page.reload()
        with page.expect_navigation():
            page.click("#send-texts")
        expect(page.locator(".usa-alert--success")).to_have_count(1)
        queued = _plan_texts(served, case_id)
        assert queued and {state for state, _ in queued} == {MessageState.QUEUED}
        worked = served.app.test_cli_runner().invoke(args=["notify", "work", "--once"])
        assert worked.exit_code == 0, worked.output
        assert {state for state, _ in _plan_texts(served, case_id)} <= {
            MessageState.SENT,
            MessageState.DELIVERED,
        }
        page.goto(served.url + "/notify/outbox")
        expect(page.locator("main")).to_contain_text("1-800-799-7233")

        # A colleague's save lands while this page is open: the next save is told, and shown the difference.
        page.goto(served.url + f"/safety-plans/case/{case_id}")
        other = ctx.new_page()
        other.goto(page.url)
        other.fill("#f-during_incident-notes-0-text", "Salgo por la puerta del garaje")
        with other.expect_navigation():
            other.locator("form.app-plan-form button[type=submit]").click()
        other.close()
        page.fill("#f-during_incident-notes-0-text", "Salgo por la ventana de atrás")
        with page.expect_navigation():
            page.locator("form.app-plan-form button[type=submit]").click()
        expect(page.locator("#conflict-heading")).to_have_count(1)
        problems += axe(page, f"conflict ({language})", every_impact=True)
    finally:
        ctx.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_plan_admin_pages_are_axe_clean(browser: Any, served_plans: Served, language: str) -> None:
    """The agency admin's pages of the plans: the packs per language, and the local numbers."""
    from playwright.sync_api import expect

    served = served_plans
    with served.app.app_context():
        agency = db.session.get(Agency, served.agency_id)
        assert agency is not None
        admin = make_user(agency, Role.ADMIN, f"plans-admin-{language}")
        admin_id, admin_name = admin.id, admin.username
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    try:
        page = ctx.new_page()
        page.goto(served.url + "/auth/login")
        if language != "en":
            choose_language(page, language)
        sign_in(page, served, admin_id, admin_name)
        page.goto(served.url + "/content/packs")
        expect(page.locator("main h1")).to_have_count(1)
        problems += axe(page, f"packs ({language})", every_impact=True)
        page.goto(served.url + "/safety-plans/numbers")
        page.fill("#n-name", "North crisis line")
        page.fill("#n-number", "218 555 0100")
        page.fill("#n-hours", "24 hours")
        page.fill("#n-languages", "English, Ojibwe")
        with page.expect_navigation():
            page.locator("form.usa-form button[type=submit]").click()
        expect(page.locator("main")).to_contain_text("218-555-0100")
        problems += axe(page, f"local numbers ({language})", every_impact=True)
    finally:
        ctx.close()
    assert problems == [], "\n".join(problems)
