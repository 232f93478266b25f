"""The home page shows the panels domains register, for the people they concern,
and the case page shows each domain's own section."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from jinja2 import ChoiceLoader, DictLoader

from advocacy.actor import Actor
from advocacy.auth.models import Role
from advocacy.core import panels
from advocacy.core.panels import Panel
from tests import factories
from tests.helpers import CSRFClient, sign_in, text_of


@pytest.fixture
def a_panel(app: Flask) -> Iterator[None]:
    app.jinja_loader = ChoiceLoader(
        [app.jinja_loader, DictLoader({"test/_panel.html": "<p>{{ context.says }}</p>"})]  # type: ignore[list-item]
    )

    def for_advocates(actor: Actor) -> Panel | None:
        if not actor.has_role(Role.ADVOCATE):
            return None
        return Panel("test", "Something to do", "test/_panel.html", {"says": "Call Maple back"}, order=5)

    panels.home_panel(for_advocates)
    try:
        yield
    finally:
        panels._SOURCES.remove(for_advocates)


def test_a_registered_panel_shows_on_the_home_page_of_those_it_concerns(
    client: CSRFClient, a_panel: None
) -> None:
    north = factories.agency("north")
    sign_in(client, factories.user(north, Role.ADVOCATE))
    page = text_of(client.get("/"))
    assert "Something to do" in page and "Call Maple back" in page
    sign_in(client, factories.user(north, Role.SHELTER_STAFF))
    assert "Call Maple back" not in text_of(client.get("/"))


def test_the_case_page_shows_each_domains_own_section(client: CSRFClient) -> None:
    north = factories.agency("north")
    advocate = factories.user(north)
    case = factories.case(advocate, "Maple")
    sign_in(client, advocate)
    page = text_of(client.get(f"/cases/{case.id}"))
    for title in ("Safety plans", "Court dates", "Text reminders", "Hand-offs"):
        assert title in page
    for domain in ("safety", "court", "notify", "handoff"):
        assert (Path(__file__).resolve().parent.parent / "templates" / domain / "_case_section.html").exists()
