"""The home pages, the boards and the case list in Debian's Chromium (issue 12).

A person holding every role sees every panel, and axe-core finds no serious
problem on that home page in English and Arabic; at a phone's 375 px the
boards, the case list and the home page never scroll sideways; a printed case
page carries no contact details, form controls or links; and a language
without translations says so in the switcher and on the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from advocacy.auth.models import Agency, Role
from advocacy.extensions import db
from advocacy.intake import instrument_format
from advocacy.intake import service as intake
from advocacy.shelters import service as shelters
from advocacy.shelters.models import OutOfServiceReason
from tests import factories
from tests.browser.browsing import TIMEOUT_MS, Served, axe, choose_language, serve, sign_in
from tests.test_cases import LETHALITY

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 800}
#: What sticks out past the right edge of a phone's screen, to say what is too wide.
WIDEST = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 376)
  .slice(-3).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


@pytest.fixture(scope="module")
def served(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory, "home")


@pytest.fixture(scope="module")
def world(served: Served) -> SimpleNamespace:
    """A person with every role in North, a shelter with a hold ending soon, a bed out of
    service and a referral from Valley; the person's cases (one high danger) and an intake."""
    with served.app.app_context():
        north = db.session.get(Agency, served.agency_id)
        assert north is not None
        valley = factories.agency("valley")
        everyone = factories.user(
            north,
            Role.ADVOCATE,
            "everyone",
            also=((north, Role.SHELTER_STAFF), (north, Role.ADMIN)),
        )
        factories.user(north, Role.ADVOCATE, "never-signed-in")
        coordinator = factories.user(north, Role.COORDINATOR, "coordinator")
        birch = factories.shelter(
            north, "F1+accessible: adult adult child crib; S1: adult; S2: adult; S3: adult", label="NS-10"
        )
        beds = {bed.label: bed.id for room in birch.rooms for bed in room.beds}
        setup = factories.system(north)
        shelters.place_hold(setup, birch, [beds["S1-A"]], minutes=30)
        shelters.take_out_of_service(setup, birch, [beds["S2-A"]], OutOfServiceReason.REPAIR)
        shelters.check_in(setup, birch, [beds["S3-A"]], adults=1, children=0)
        shelters.request_referral(
            factories.actor(factories.user(valley)),
            birch.id,
            shelters.Household(adults=1, children_ages=(4, 7)),
            from_agency_id=valley.id,
        )
        factories.commit()
        system = factories.system(north)
        case = intake.open_case(
            system,
            north.id,
            everyone.id,
            "Rosa Margarita Esperanza de la Cruz",
            phone="+12185550101",
            code_word="bluebird",
            language="es",
        )
        instrument = instrument_format.shipped()[LETHALITY]
        intake.screen_case(
            system,
            case,
            instrument,
            {q.key: ("yes" if q.key == "q1" else "no") for q in instrument.questions},
        )
        for n in range(4):
            intake.open_case(system, north.id, everyone.id, f"Person {n}")
        factories.commit()
        factories.draft(everyone, person={"alias": "Winona", "language": "oj"})
        return SimpleNamespace(
            everyone=(everyone.id, everyone.username),
            coordinator=(coordinator.id, coordinator.username),
            shelter_id=birch.id,
            case_id=case.id,
        )


def _page(browser: Any, served: Served, who: tuple[int, str], *, language: str = "en", **options: Any) -> Any:
    ctx = browser.new_context(bypass_csp=True, **{"viewport": {"width": 1280, "height": 900}, **options})
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    page.goto(served.url + "/auth/login")
    if language != "en":
        choose_language(page, language)
    sign_in(page, served, *who)
    return page


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_home_page_of_every_role_passes_axe(
    browser: Any, served: Served, world: SimpleNamespace, language: str
) -> None:
    page = _page(browser, served, world.everyone, language=language)
    try:
        for key in (
            "my_cases",
            "my_intakes",
            "my_referrals",
            "referrals_waiting",
            "holds_ending",
            "beds_out",
            "boards",
            "accounts",
            "audit",
        ):
            assert page.locator(f"#panel-{key}").count() == 1, key
        problems = axe(page, f"home ({language})")
        page.context.close()
        page = _page(browser, served, world.coordinator, language=language)
        assert page.locator("#panel-coordinator").count() == 1
        problems += axe(page, f"coordinator's home ({language})")
    finally:
        page.context.close()
    assert problems == []


def test_the_boards_the_case_list_and_the_home_page_fit_a_phone(
    browser: Any, served: Served, world: SimpleNamespace
) -> None:
    page = _page(browser, served, world.everyone, viewport=PHONE)
    wide = {}
    try:
        for path in (
            "/",
            "/cases/",
            "/shelters/network",
            f"/shelters/{world.shelter_id}/board",
            f"/cases/{world.case_id}",
        ):
            page.goto(served.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                wide[path] = (width, page.evaluate(WIDEST))
    finally:
        page.context.close()
    assert wide == {}


#: Every element a printed page would show that is a form control or a link.
VISIBLE_CONTROLS = """[...document.querySelectorAll('main a, main input, main select, main textarea, main button')]
  .filter(e => e.checkVisibility()).map(e => e.tagName + ' ' + (e.textContent || e.name || '').trim().slice(0, 40))"""


def test_a_printed_case_page_is_a_summary_without_contact_details_controls_or_links(
    browser: Any, served: Served, world: SimpleNamespace
) -> None:
    page = _page(browser, served, world.everyone)
    try:
        page.goto(served.url + f"/cases/{world.case_id}")
        assert page.get_by_text("bluebird").is_visible()  # on screen, the code word is there
        assert page.locator("main a").first.is_visible()
        page.emulate_media(media="print")
        printed = page.locator("main").inner_text()
        assert "Rosa Margarita Esperanza de la Cruz" in printed and "High danger" in printed
        assert "Case summary" in printed
        for contact in ("bluebird", "555", "0101", "Code word"):
            assert contact not in printed, contact
        assert page.evaluate(VISIBLE_CONTROLS) == []
    finally:
        page.context.close()


#: Whether each select of the page is wide enough for its longest choice (text, arrow and padding).
SELECTS_CUT = """[...document.querySelectorAll('main select')].filter(s => s.checkVisibility()).filter(s => {
  const style = getComputedStyle(s), ctx = document.createElement('canvas').getContext('2d');
  ctx.font = style.font;
  const longest = Math.max(...[...s.options].map(o => ctx.measureText(o.text).width));
  return s.clientWidth < longest + parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
}).map(s => s.id)"""


def test_the_reason_for_declining_a_referral_is_never_cut(
    browser: Any, served: Served, world: SimpleNamespace
) -> None:
    page = _page(browser, served, world.everyone)
    try:
        page.goto(served.url + f"/shelters/{world.shelter_id}/board")
        assert page.locator("select[id^=decline-reason-]").count() == 1
        assert page.evaluate(SELECTS_CUT) == []
    finally:
        page.context.close()
