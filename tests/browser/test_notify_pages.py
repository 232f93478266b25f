"""The SMS pages in Debian's Chromium: axe-core finds no serious problem on the
Texts page, the enrolment form (with the fallback-language confirmation and
with a refusal shown), a template preview and the texts not known to be
sent, in English and Arabic."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from advocacy import clock
from advocacy.auth.models import Agency, Role
from advocacy.extensions import db
from advocacy.notify.models import MessageKind, MessageState
from advocacy.notify.service import enqueue
from tests import factories
from tests.browser.browsing import TIMEOUT_MS, Served, axe, choose_language, sign_in
from tests.helpers import make_user


def _world(served: Served, language: str) -> tuple[int, str, int]:
    """An advocate, a case whose language (Tigrinya) has no texts, and a reminder
    of another case whose sending is unknown; the advocate's id, name and that case."""
    with served.app.app_context():
        agency = db.session.get(Agency, served.agency_id)
        assert agency is not None
        user = make_user(agency, Role.ADVOCATE, f"axe-notify-{language}")
        system = factories.system(agency)
        texted = factories.case(user, "Rosa M.", phone="+12185550101", safe_to_text=True, consent_sms=True)
        sub = factories.confirmed_subscription(system, texted)
        now = clock.now()
        row = enqueue(
            system,
            sub,
            MessageKind.REMINDER,
            {"starts_at": now + timedelta(days=2)},
            now,
            now + timedelta(days=1),
            ("court_event", texted.id),
        )
        assert row is not None
        row.state, row.claimed_at, row.claimed_by = MessageState.UNKNOWN, now, "w:1"
        fallback = factories.case(
            user, "Selam", phone="+12185550102", safe_to_text=True, consent_sms=True, language="ti"
        )
        db.session.commit()
        return user.id, user.username, fallback.id


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_sms_pages_have_no_serious_axe_problem(browser: Any, served: Served, language: str) -> None:
    user_id, username, case_id = _world(served, language)
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    try:
        page = ctx.new_page()
        page.goto(served.url + "/auth/login")
        if language != "en":
            choose_language(page, language)
        sign_in(page, served, user_id, username)
        with page.expect_navigation():
            page.locator("a[href='/notify/unknown']").first.click()  # from the home page
        assert page.locator("table tbody tr").count() >= 1
        problems += axe(page, f"texts not known to be sent ({language})")
        page.goto(served.url + "/notify/outbox")
        problems += axe(page, f"texts ({language})")
        page.goto(served.url + "/notify/templates?locale=es")
        problems += axe(page, f"template preview ({language})")
        page.goto(served.url + f"/cases/{case_id}")
        assert page.locator("#sms-fallback").count() == 1
        problems += axe(page, f"enrolment with a fallback language ({language})")
        # Sent without the confirmation: refused, the message shown on the case page.
        with page.expect_navigation():
            page.locator("section[aria-labelledby=reminders] form.usa-form button[type=submit]").click()
        assert page.locator(".usa-alert--error").count() == 1
        problems += axe(page, f"enrolment refused ({language})")
    finally:
        ctx.close()
    assert not problems, "axe-core found serious or critical problems:\n" + "\n".join(problems)
