"""Fixtures of the browser tests: one Chromium per module, the app served for it.

Without /usr/bin/chromium (Debian's ``chromium`` package) these tests are
skipped, unless ADVOCACY_REQUIRE_BROWSER=1 (CI sets it), which turns a
missing browser into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.browsing import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, Served, serve


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this folder drives the browser."""
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package"
        if os.environ.get("ADVOCACY_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " (ADVOCACY_REQUIRE_BROWSER=1)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def served(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory, "app")


@pytest.fixture(scope="module")
def served_short_timeout(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Signs out after 6 idle seconds and warns when 4 are left."""
    yield from serve(tmp_path_factory, "timeout", idle_timeout_seconds=6, idle_warning_seconds=4)


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


# --------------------------------------------------------------------------
