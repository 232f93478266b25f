"""The app in a real browser: Debian's Chromium driven by Playwright.

These tests serve the real app with a real HTTP server and check what only a
browser can show: an advocate signs in and switches to Arabic, the page never
talks to another host, CSS and JavaScript load under the strict CSP, the
idle-timeout warning works, and axe-core finds no serious accessibility
problem.

A browser is never downloaded: without /usr/bin/chromium (Debian's
``chromium`` package) these tests are skipped, unless ADVOCACY_REQUIRE_BROWSER=1
(CI sets it), which turns a missing browser into a failure.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.browsing import (
    CSP_LISTENER,
    TIMEOUT_MS,
    Served,
    axe,
    choose_language,
    sign_in,
    still_signed_in,
)


def test_advocate_signs_in_and_switches_to_arabic_without_leaving_the_app(context: Any, served: Served):
    from playwright.sync_api import expect

    user_id, username = served.new_advocate()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    sign_in(page, served, user_id, username)
    expect(page.locator("h1")).to_have_text("Welcome, Test advocate")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    choose_language(page, "ar")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#language-select")).to_have_value("ar")
    expect(page.locator("#language-select option:checked")).to_have_text("العربية")
    assert urlsplit(page.url).path == "/"
    # Still signed in, on the same page, now in Arabic.
    expect(page.locator("h1")).to_contain_text("Test advocate")

    assert requested, "the page made no request at all"
    foreign = [
        url
        for url in requested
        if urlsplit(url).scheme not in {"data", "blob", "about"} and urlsplit(url).netloc != served.host
    ]
    assert not foreign, f"requests to another host than {served.host}: {foreign}"


def test_pages_load_their_css_and_javascript_under_the_csp(context: Any, served: Served):
    user_id, username = served.new_advocate()
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    failed: list[str] = []
    console: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failed.append(f"failed {r.url}: {r.failure}"))
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))

    def check(what: str) -> None:
        page.wait_for_load_state("load")
        page.evaluate("document.fonts.ready.then(() => true)")
        # app.css applied: the toolbar is grey.
        toolbar = "getComputedStyle(document.querySelector('.app-toolbar')).backgroundColor"
        assert page.evaluate(toolbar) == "rgb(240, 240, 240)"
        # app.js ran: no-js is gone, and the switcher's button hides until it has focus.
        assert page.evaluate("document.documentElement.classList.contains('no-js')") is False
        assert page.evaluate(
            "document.getElementById('language-form').classList.contains('app-language--auto')"
        )
        assert page.locator(".app-language__submit").bounding_box()["width"] <= 1
        violations = page.evaluate("window.__cspViolations")
        errors = [
            m for m in console if m.startswith(("error", "pageerror")) or "Content Security Policy" in m
        ]
        assert not failed, f"{what}: {failed}"
        assert not errors, f"{what}: {errors}"
        assert not violations, f"{what}: CSP violations {violations}"

    page.goto(served.url + "/auth/login")
    check("sign-in page")
    choose_language(page, "ar")
    check("sign-in page in Arabic")
    # Arabic letters come from the local Noto Sans Arabic.
    assert page.evaluate(
        "[...document.fonts].some(f => f.family.includes('Noto Sans Arabic') && f.status === 'loaded')"
    )
    choose_language(page, "en")
    sign_in(page, served, user_id, username)
    check("home page")
    assert page.evaluate("document.body.dataset.idleTimeout") == str(15 * 60)


def test_idle_timeout_warns_keeps_the_session_on_request_and_signs_out_otherwise(
    context: Any, served_short_timeout: Served
):
    from playwright.sync_api import expect

    served = served_short_timeout
    user_id, username = served.new_advocate()
    page = context.new_page()
    sign_in(page, served, user_id, username)
    loaded = time.monotonic()
    warning = page.locator("#timeout-warning")
    stay = page.locator("#stay-signed-in")

    # 6 idle seconds, warned when 4 are left: the warning shows and takes focus.
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=5_000)
    expect(stay).to_be_focused()
    assert 0 <= int(page.locator("#timeout-seconds").inner_text()) <= 4

    # "Stay signed in" asks the server to keep the session, and the warning goes.
    with page.expect_response(lambda r: r.url.endswith("/auth/keepalive")) as answer:
        stay.click()
    assert answer.value.status == 200
    expect(warning).to_be_hidden()

    # Past the moment the first session would have ended: still signed in.
    page.wait_for_timeout(max(0, int((loaded + 7.0 - time.monotonic()) * 1000)))
    assert urlsplit(page.url).path == "/"
    assert still_signed_in(page, served)

    # Without an answer the warning comes back, and then the sign-in page.
    expect(warning).to_be_visible(timeout=5_000)
    page.wait_for_url(lambda url: urlsplit(url).path == "/auth/login", timeout=10_000)
    expect(page.locator("#username")).to_be_visible()
    assert not still_signed_in(page, served)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_axe_finds_no_serious_problem_on_sign_in_and_home(browser: Any, served: Served, language: str):
    # Only this test lifts the CSP, to inject axe-core into the page.
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        user_id, username = served.new_advocate()
        page.goto(served.url + "/auth/login")
        if language != "en":
            choose_language(page, language)
        problems = axe(page, f"sign-in page ({language})")
        sign_in(page, served, user_id, username)
        assert page.locator("html").get_attribute("lang") == language
        problems += axe(page, f"home page ({language})")
    finally:
        ctx.close()
    if problems:
        print("\n".join(problems))
    assert not problems, "axe-core found serious or critical problems:\n" + "\n".join(problems)
