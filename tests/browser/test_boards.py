"""The bed boards in Debian's Chromium: what a person at a front desk sees.

Staff hold a bed with the keyboard alone; the board follows changes made by
someone else without a reload, and never swaps the table under a person who
has started ticking beds; axe-core finds no serious problem on either board,
in English or Arabic; and no request leaves for another host.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest

from advocacy import clock
from advocacy.auth.models import Agency, Role
from advocacy.extensions import db
from advocacy.shelters import service, views
from advocacy.shelters.models import BedType, RoomType, Shelter
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
    yield from serve(tmp_path_factory, "boards")


@pytest.fixture
def shelter(served: Served) -> SimpleNamespace:
    """A fresh shelter and a staff member of its agency, for each test."""
    with served.app.app_context():
        agency = db.session.get(Agency, served.agency_id)
        assert agency is not None
        number = next(served._numbers)
        setup = factories.system(agency)
        shelter = service.add_shelter(
            setup, agency.id, f"Birch House {number}", f"NS-{number}", "North Shore"
        )
        room = service.add_room(
            setup,
            shelter,
            "Room 1",
            room_type=RoomType.FAMILY,
            accessible=True,
            beds=[("1A", BedType.ADULT), ("1B", BedType.CHILD), ("1C", BedType.CRIB)],
        )
        db.session.commit()
        staff = make_user(agency, Role.SHELTER_STAFF, f"staff{number}")
        return SimpleNamespace(
            id=shelter.id,
            label=shelter.public_label,
            beds={b.label: b.id for b in room.beds},
            staff_id=staff.id,
            staff_name=staff.username,
        )


def hold_in_the_background(served: Served, shelter: SimpleNamespace, label: str) -> None:
    """Someone else, at another desk, holds a bed."""
    with served.app.app_context():
        target = db.session.get(Shelter, shelter.id)
        assert target is not None
        service.place_hold(factories.system(target.agency_id), target, [shelter.beds[label]])
        db.session.commit()


def test_staff_hold_a_bed_with_the_keyboard_alone(context: Any, served: Served, shelter: Any) -> None:
    from playwright.sync_api import expect

    page = context.new_page()
    sign_in(page, served, shelter.staff_id, shelter.staff_name)
    page.goto(f"{served.url}/shelters/{shelter.id}/board")
    page.locator("#bed-" + str(shelter.beds["1B"])).focus()
    page.keyboard.press("Space")
    expect(page.locator("#bed-" + str(shelter.beds["1B"]))).to_be_checked()
    # Tab from the table to the first action: the note, then "Hold the ticked beds".
    hold = page.get_by_role("button", name="Hold the ticked beds")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.value") == "hold":
            break
    expect(hold).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".usa-alert--success")).to_contain_text("The beds are held.")
    row = page.locator("tr", has=page.locator("#bed-" + str(shelter.beds["1B"])))
    expect(row).to_contain_text("Held")
    expect(row).to_contain_text("Hold ends in 120 minutes.")


def test_the_board_follows_changes_without_a_reload_and_waits_for_a_busy_person(
    context: Any,
    served: Served,
    shelter: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playwright.sync_api import expect

    monkeypatch.setattr(views, "POLL_SECONDS", 1)
    # The board's validator carries the minute ("N minutes ago"); a minute turning
    # during the quiet part would be a real change, so the served app's clock stands still.
    monkeypatch.setitem(served.app.extensions, clock.EXTENSION_KEY, clock.FrozenClock())
    page = context.new_page()
    polls: list[int] = []
    page.on("response", lambda r: polls.append(r.status) if "fragment=1" in r.url else None)
    sign_in(page, served, shelter.staff_id, shelter.staff_name)
    page.goto(f"{served.url}/shelters/{shelter.id}/board")
    page.evaluate("window.__sameDocument = true")

    # Nothing changed: the polls are answered 304.
    page.wait_for_timeout(2500)
    assert polls and set(polls) == {304}, polls

    hold_in_the_background(served, shelter, "1A")
    row_a = page.locator("tr", has=page.locator(f"#bed-{shelter.beds['1A']}"))
    expect(row_a).to_contain_text("Held", timeout=5_000)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    expect(page.locator("#board-status")).to_have_text("The board was updated.")

    # A person has ticked a bed: the board waits and offers the new state instead.
    page.locator(f"label[for=bed-{shelter.beds['1C']}]").click()  # USWDS draws the box on the label
    hold_in_the_background(served, shelter, "1B")
    notice = page.locator(".app-board-notice")
    expect(notice).to_contain_text("The board has changed since you opened it.", timeout=5_000)
    expect(page.locator(f"#bed-{shelter.beds['1C']}")).to_be_checked()
    row_b = page.locator("tr", has=page.locator(f"#bed-{shelter.beds['1B']}"))
    expect(row_b).to_contain_text("Available")
    notice.get_by_role("button").click()
    expect(row_b).to_contain_text("Held")
    expect(notice).to_have_count(0)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_axe_finds_no_serious_problem_on_the_boards(
    browser: Any,
    served: Served,
    shelter: Any,
    language: str,
) -> None:
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    requested: list[str] = []
    try:
        page = ctx.new_page()
        page.on("request", lambda request: requested.append(request.url))
        hold_in_the_background(served, shelter, "1A")
        sign_in(page, served, shelter.staff_id, shelter.staff_name)
        if language != "en":
            choose_language(page, language)
        page.goto(f"{served.url}/shelters/{shelter.id}/board")
        problems = axe(page, f"staff board ({language})")
        page.goto(f"{served.url}/shelters/network")
        assert shelter.label in page.locator("#board").inner_text()
        problems += axe(page, f"network board ({language})")
        page.goto(f"{served.url}/shelters/network/{shelter.id}/request")
        problems += axe(page, f"referral request ({language})")
    finally:
        ctx.close()
    assert not problems, "axe-core found serious or critical problems:\n" + "\n".join(problems)
    foreign = [
        u for u in requested if urlsplit(u).scheme in {"http", "https"} and urlsplit(u).netloc != served.host
    ]
    assert not foreign, foreign
