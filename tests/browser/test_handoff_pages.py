"""The hand-off in Debian's Chromium: an advocate records the person's release of information,
writes a hand-off whose summary gives an address, sees the refused words marked, edits them out,
checks the exact JSON that will leave and releases it; the case page then shows the record and its
push.  axe-core finds no serious problem on the hand-off pages (the advocate's and the admin's) in
English and Arabic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from advocacy import clock
from advocacy.auth.models import Agency, Role
from advocacy.extensions import db
from advocacy.handoff.models import Delivery, HandoffRecord
from advocacy.intake import service as intake
from tests import factories
from tests.browser.browsing import TIMEOUT_MS, Served, axe, choose_language, serve, sign_in
from tests.helpers import make_user
from tests.test_handoff_world import partner

ADDRESS = "4410 Grand Ave"


@pytest.fixture(scope="module")
def served_handoff(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory, "handoff")


def _people(served: Served, name: str, role: Role = Role.ADVOCATE) -> tuple[int, str, int, int]:
    """A user of the served agency, a case of theirs, and a partner with a push URL (a new one each call)."""
    with served.app.app_context():
        agency = db.session.get(Agency, served.agency_id)
        assert agency is not None
        user = make_user(agency, role, name)
        owner = user if role is Role.ADVOCATE else make_user(agency, Role.ADVOCATE, f"{name}-owner")
        case = intake.open_case(factories.system(agency), agency.id, owner.id, "Rosa M.")
        db.session.commit()
        tracking = partner(agency, f"Tracking {name}", push_url="https://tracking.example.org/hooks")
        return user.id, user.username, case.id, tracking.id


def test_an_advocate_records_consent_fixes_an_address_checks_the_bytes_and_releases_them(
    browser: Any, served_handoff: Served
) -> None:
    from playwright.sync_api import expect

    served = served_handoff
    user_id, username, case_id, partner_id = _people(served, "flow")
    # axe-core is added to each page as a script, which the pages' CSP would refuse.
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    try:
        page = ctx.new_page()
        sign_in(page, served, user_id, username)
        page.goto(
            served.url + f"/handoff/cases/{case_id}/new?partner={partner_id}&event_type=victim_contacted"
        )
        expect(page.locator("main")).to_contain_text("no release of information")
        problems += axe(page, "hand-off not allowed (en)")
        page.goto(served.url + f"/cases/{case_id}")
        section = page.locator("section[aria-labelledby=handoffs]")
        expect(section).to_contain_text("has not signed a release of information")

        # The release of information, as the signed paper form says.
        with page.expect_navigation():
            section.get_by_role("link", name="Record a signed release of information").click()
        problems += axe(page, "consent form (en)")
        page.select_option("#partner", str(partner_id))
        page.click("label[for=et-victim_contacted]")  # USWDS draws the box on the label
        page.fill("#form_reference", "ROI 117, blue folder")
        page.fill("#expires_on", (clock.now().date() + timedelta(days=90)).isoformat())
        with page.expect_navigation():
            page.get_by_role("button", name="Record the release").click()
        assert urlsplit(page.url).path == f"/cases/{case_id}"
        expect(section.locator("table").first).to_contain_text("Victim contacted")
        expect(section.locator("table").first).to_contain_text("Valid")

        # The hand-off: a summary that says where she is is refused, with the words marked.
        section.locator("#handoff-partner").select_option(str(partner_id))
        section.locator("#handoff-event").select_option("victim_contacted")
        with page.expect_navigation():
            section.get_by_role("button", name="Continue").click()
        problems += axe(page, "hand-off form (en)")
        page.fill("#partner_case_reference", "27-CR-26-1187")
        page.click("label[for=choice_method-phone]")
        page.fill("#summary", f"Reached her after court; she is staying at {ADDRESS} now.")
        with page.expect_navigation():
            page.get_by_role("button", name="Preview what will leave").click()
        alert = page.locator("#error-summary")
        expect(alert).to_be_visible()
        expect(alert.locator("p.app-handoff-hits mark")).to_have_text(ADDRESS)
        expect(page.locator("#summary")).to_have_class("usa-textarea usa-input--error")
        problems += axe(page, "hand-off refused (en)")

        # Edited, it passes; the preview is the exact JSON that will leave.
        summary = "Reached her after court; she wants the no-contact order kept."
        page.fill("#summary", summary)
        with page.expect_navigation():
            page.get_by_role("button", name="Preview what will leave").click()
        shown = page.locator("pre.app-handoff-bytes").text_content()
        assert shown is not None
        preview = json.loads(shown)
        assert preview["summary"] == summary and ADDRESS not in shown
        assert preview["event_type"] == "victim_contacted"
        assert preview["partner_case_reference"] == "27-CR-26-1187"
        assert preview["choices"] == {"method": "phone"}
        problems += axe(page, "hand-off preview (en)")
        with served.app.app_context():
            assert db.session.scalar(select(HandoffRecord).where(HandoffRecord.case_id == case_id)) is None

        with page.expect_navigation():
            page.get_by_role("button", name="Send to Tracking flow").click()
        assert urlsplit(page.url).path == f"/cases/{case_id}"
        expect(page.locator(".usa-alert--success")).to_contain_text("released to Tracking flow")
        records = section.locator("table").nth(1)
        expect(records).to_contain_text("Victim contacted")
        expect(records).to_contain_text("Released, not yet received")
        expect(records).to_contain_text("Waiting to be pushed")
        problems += axe(page, "case page with a hand-off (en)")
        with served.app.app_context():
            record = db.session.scalar(select(HandoffRecord).where(HandoffRecord.case_id == case_id))
            assert record is not None
            # What the advocate checked is, byte for byte, what is kept and pushed.
            assert record.body == shown
            assert db.session.scalar(select(Delivery).where(Delivery.record_id == record.id)) is not None
    finally:
        ctx.close()
    assert not problems, "axe-core found serious or critical problems:\n" + "\n".join(problems)


def _advocate_pages(page: Any, served: Served, language: str) -> list[str]:
    """The advocate's flow through its pages by URL and button value (no text: any language)."""
    user_id, username, case_id, partner_id = _people(served, f"axe-{language}")
    new = f"/handoff/cases/{case_id}/new?partner={partner_id}&event_type=victim_contacted"
    problems: list[str] = []
    page.goto(served.url + "/auth/login")
    choose_language(page, language)
    sign_in(page, served, user_id, username)
    page.goto(served.url + new)
    problems += axe(page, f"hand-off not allowed ({language})")
    page.goto(served.url + f"/handoff/cases/{case_id}/consents/new")
    page.select_option("#partner", str(partner_id))
    page.fill("#form_reference", "ROI 118")
    page.fill("#expires_on", (clock.now().date() + timedelta(days=30)).isoformat())
    with page.expect_navigation():
        page.locator("form.usa-form button[type=submit]").click()  # no event type chosen
    problems += axe(page, f"consent form with an error ({language})")
    page.click("label[for=et-victim_contacted]")
    with page.expect_navigation():
        page.locator("form.usa-form button[type=submit]").click()
    page.goto(served.url + new)
    problems += axe(page, f"hand-off form ({language})")
    page.fill("#partner_case_reference", "27-CR-26-1188")
    page.click("label[for=choice_method-phone]")
    page.fill("#summary", f"She is at {ADDRESS}.")
    with page.expect_navigation():
        page.locator("button[value=preview]").click()
    problems += axe(page, f"hand-off refused ({language})")
    page.fill("#summary", "Reached her after court.")
    with page.expect_navigation():
        page.locator("button[value=preview]").click()
    problems += axe(page, f"hand-off preview ({language})")
    with page.expect_navigation():
        page.locator("button[value=send]").click()
    problems += axe(page, f"case page with a hand-off ({language})")
    return problems


@pytest.mark.parametrize("language", ["en", "ar"])
def test_axe_finds_no_serious_problem_on_the_hand_off_pages(
    browser: Any, served_handoff: Served, language: str
) -> None:
    """The admin's partner pages; in Arabic also every page of the advocate's flow (right to left,
    with errors next to the fields), which the test above checks in English."""
    served = served_handoff
    admin_id, admin_name, _case, partner_id = _people(served, f"axe-admin-{language}", Role.ADMIN)
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    try:
        page = ctx.new_page()
        if language != "en":
            problems += _advocate_pages(page, served, language)
            ctx.clear_cookies()
        page.goto(served.url + "/auth/login")
        if language != "en":
            choose_language(page, language)
        sign_in(page, served, admin_id, admin_name)
        for url in ("/handoff/partners", f"/handoff/partners/{partner_id}"):
            page.goto(served.url + url)
            problems += axe(page, f"{url} ({language})")
    finally:
        ctx.close()
    assert not problems, "axe-core found serious or critical problems:\n" + "\n".join(problems)
