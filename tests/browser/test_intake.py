"""The intake in Debian's Chromium: what is typed survives the idle timeout, and
the steps pass axe-core in English and Arabic."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from advocacy.auth.models import Agency, Role
from advocacy.extensions import db
from advocacy.intake import service
from advocacy.intake.models import IntakeDraft
from advocacy.shelters import service as shelters
from advocacy.shelters.models import BedType, RoomType
from tests import factories
from tests.browser.browsing import (
    TIMEOUT_MS,
    Served,
    axe,
    choose_language,
    serve,
    sign_in,
)
from tests.helpers import make_user

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory, "intake")


@pytest.fixture(scope="module")
def served_short_timeout(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Signs out after 12 idle seconds and warns when 6 are left."""
    yield from serve(tmp_path_factory, "intake-timeout", idle_timeout_seconds=12, idle_warning_seconds=6)


def stored(served: Served, step: str) -> dict[str, Any]:
    with served.app.app_context():
        draft = db.session.scalars(select(IntakeDraft).order_by(IntakeDraft.id.desc())).first()
        assert draft is not None
        return service.step_values(draft, step)


def start_intake(page: Any, served: Served) -> None:
    page.goto(served.url + "/cases/new")
    with page.expect_navigation():
        page.locator("#start-intake").click()
    assert urlsplit(page.url).path.endswith("/person")


def test_what_is_typed_survives_the_idle_timeout(context: Any, served_short_timeout: Served) -> None:
    from playwright.sync_api import expect

    served = served_short_timeout
    user_id, username = served.new_advocate()
    page = context.new_page()
    sign_in(page, served, user_id, username)
    start_intake(page, served)
    draft_url = page.url

    # Typed at once and never submitted: saved a few seconds later, in the background.
    page.fill("#alias", "Nasra Typed")
    # Typed in the last seconds, while the warning shows: saved at once.
    expect(page.locator("#timeout-warning")).to_be_visible(timeout=12_000)
    # The language list (a USWDS combo box over the select): "Other" and a tag of one's own.
    page.select_option(".usa-combo-box select", "other", force=True)
    page.fill("#language_other", "so-SO")
    page.wait_for_url(lambda url: urlsplit(url).path == "/auth/login", timeout=15_000)

    values = stored(served, "person")
    assert values["alias"] == "Nasra Typed"
    assert values["language"] == "so-SO"

    # Signing in again leads back to the draft, with everything typed in it.
    page.fill("#username", username)
    page.fill("#password", "correct horse battery staple 42")
    with page.expect_navigation():
        page.locator("form.usa-form button[type=submit]").click()
    page.fill("#code", served.code_for(user_id))
    with page.expect_navigation():
        page.locator("form.usa-form button[type=submit]").click()
    page.goto(draft_url)
    expect(page.locator("#alias")).to_have_value("Nasra Typed")
    expect(page.locator(".usa-combo-box select")).to_have_value("other")
    expect(page.locator("#language_other")).to_have_value("so-SO")


def test_an_intake_from_start_to_a_screened_in_case(context: Any, served: Served) -> None:
    from playwright.sync_api import expect

    user_id, username = served.new_advocate()
    page = context.new_page()
    sign_in(page, served, user_id, username)
    start_intake(page, served)
    page.fill("#alias", "Keyboard Person")
    page.select_option(".usa-combo-box select", "es", force=True)
    page.select_option("#referral_source", "hotline")
    page.keyboard.press("Enter")  # Enter presses "Save and continue", never "back"
    page.wait_for_url(lambda url: urlsplit(url).path.endswith("/contact"))
    for _step in ("contact", "household", "needs"):
        with page.expect_navigation():
            page.get_by_role("button", name="Save and continue").click()
    assert urlsplit(page.url).path.endswith("/screen")
    # USWDS draws its own radio buttons: a person clicks the label.
    page.locator("label[for=answer_q1-yes]").click()
    for i in range(2, 12):
        page.locator(f"label[for=answer_q{i}-no]").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".app-danger-alert")).to_contain_text("High danger")
    with page.expect_navigation():
        page.get_by_role("button", name="Save and continue").click()
    page.locator("label[for=bed-later]").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Open the case").click()
    assert "/cases/" in page.url
    expect(page.locator("body")).to_contain_text("High danger")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_axe_finds_no_serious_problem_on_the_intake_steps(
    browser: Any,
    served: Served,
    language: str,
) -> None:
    with served.app.app_context():
        agency = db.session.get(Agency, served.agency_id)
        assert agency is not None
        setup = factories.system(agency)
        shelter = shelters.add_shelter(setup, agency.id, f"Aspen {language}", f"AX-{language}", "North Shore")
        shelters.add_room(
            setup, shelter, "R1", room_type=RoomType.FAMILY, beds=[("A", BedType.ADULT), ("B", BedType.CHILD)]
        )
        db.session.commit()
        user = make_user(agency, Role.ADVOCATE, f"axe-intake-{language}")
        user_id, username = user.id, user.username
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    try:
        page = ctx.new_page()
        page.goto(served.url + "/auth/login")
        if language != "en":
            choose_language(page, language)
        sign_in(page, served, user_id, username)
        start_intake(page, served)
        base = page.url.rsplit("/", 1)[0]
        # An error on the first step, then every step as it first appears.
        with page.expect_navigation():
            page.locator("button[value=next]").click()
        problems += axe(page, f"person step with errors ({language})")
        for step in ("contact", "household", "needs", "screen", "consent", "placement"):
            page.goto(f"{base}/{step}")
            problems += axe(page, f"{step} step ({language})")
        page.goto(served.url + "/cases/new")
        problems += axe(page, f"start page ({language})")
    finally:
        ctx.close()
    assert not problems, "axe-core found serious or critical problems:\n" + "\n".join(problems)
