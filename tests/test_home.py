"""The home page shows the panels domains register, for the people they concern,
and the case page shows each domain's own section."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from jinja2 import ChoiceLoader, DictLoader

from advocacy.actor import Actor
from advocacy.audit.verify import verify_chains, write_checkpoints
from advocacy.auth.models import LoginThrottle, Role
from advocacy.auth.service import throttle_key
from advocacy.clock import FrozenClock
from advocacy.clock import now as clock_now
from advocacy.core import panels
from advocacy.core.panels import Panel
from advocacy.extensions import db
from advocacy.shelters import service as shelters
from advocacy.shelters.models import DeclineReason, OutOfServiceReason
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


# --- home pages by role (issue 12) ---------------------------------------------------------------


def _panel(page: str, heading: str, next_heading: str | None = None) -> str:
    """The text of one panel of a home page, from its heading to the next one's."""
    start = page.index(heading)
    end = page.index(next_heading, start) if next_heading else len(page)
    return page[start:end]


def test_an_advocates_home_lists_their_open_cases_high_danger_first_with_the_steps_still_open(
    client: CSRFClient,
) -> None:
    north = factories.agency("north")
    advocate, colleague = factories.user(north), factories.user(north)
    factories.case(advocate, "Aspen")
    high = factories.case(advocate, "Birch")
    factories.screening(high, 1, 2)
    closed = factories.case(advocate, "Cedar")
    from advocacy.intake import service as intake

    intake.close_case(factories.system(north), closed, "other")
    factories.case(colleague, "Dogwood")
    factories.draft(advocate, person={"alias": "Elm", "language": "en"})
    factories.commit()
    sign_in(client, advocate)
    page = text_of(client.get("/"))
    cases = _panel(page, "My open cases", "My unfinished intakes")
    assert cases.index("Birch") < cases.index("Aspen")
    assert "High danger" in cases and "protocol steps open" in cases
    assert "Cedar" not in cases and "Dogwood" not in page  # closed; a colleague's
    assert "Elm" in _panel(page, "My unfinished intakes", "My referrals")


def test_an_advocates_home_shows_their_referral_waiting_then_answered(client: CSRFClient) -> None:
    north, valley = factories.agency("north"), factories.agency("valley")
    staff = factories.user(north, Role.SHELTER_STAFF)
    advocate = factories.user(valley)
    birch = factories.shelter(north, "S1: adult adult")
    referral = shelters.request_referral(
        factories.actor(advocate), birch.id, shelters.Household(adults=1), from_agency_id=valley.id
    )
    factories.commit()
    sign_in(client, advocate)
    mine = _panel(text_of(client.get("/")), "My referrals")
    assert referral.token in mine and "Waiting for the shelter" in mine
    shelters.decline_referral(factories.actor(staff), birch, referral.id, DeclineReason.NOT_A_FIT)
    factories.commit()
    mine = _panel(text_of(client.get("/")), "My referrals")
    assert "Declined" in mine and "cannot meet this household" in mine


def test_shelter_staff_see_referrals_waiting_holds_ending_beds_out_and_stale_boards(
    client: CSRFClient, clock: FrozenClock
) -> None:
    north, valley = factories.agency("north"), factories.agency("valley")
    staff = factories.user(north, Role.SHELTER_STAFF)
    birch = factories.shelter(north, "S1: adult adult; S2: adult; S3: adult")
    beds = {bed.label: bed.id for room in birch.rooms for bed in room.beds}
    setup = factories.system(north)
    shelters.place_hold(setup, birch, [beds["S2-A"]], minutes=30)
    shelters.place_hold(setup, birch, [beds["S3-A"]], minutes=180)
    shelters.take_out_of_service(setup, birch, [beds["S1-B"]], OutOfServiceReason.REPAIR)
    referral = shelters.request_referral(
        factories.actor(factories.user(valley)),
        birch.id,
        shelters.Household(adults=1),
        from_agency_id=valley.id,
    )
    factories.commit()
    sign_in(client, staff)
    page = text_of(client.get("/"))
    assert referral.token in _panel(page, "Referrals waiting for an answer", "Holds ending within the hour")
    ending = _panel(page, "Holds ending within the hour", "Are the boards up to date?")
    assert "S2-A" in ending and "S3-A" not in ending
    assert "S1-B" in _panel(page, "Beds out of service") and "Repair" in _panel(page, "Beds out of service")
    assert "Every board is up to date" in page
    birch.availability_updated_at = clock.now() - timedelta(hours=7)  # nobody touched it since
    factories.commit()
    assert "Stale" in _panel(text_of(client.get("/")), "Are the boards up to date?", "Beds out of service")


def test_an_admins_home_names_locked_and_never_signed_in_accounts_and_the_last_audit_check(
    client: CSRFClient, app: Flask
) -> None:
    north = factories.agency("north")
    admin = factories.user(north, Role.ADMIN)
    fresh = factories.user(north, username="fresh-one")
    signed = factories.user(north, username="signed-one")
    sign_in(client, signed)
    db.session.add(
        LoginThrottle(
            key_hash=throttle_key(signed.username), failures=0, locked_until=clock_now() + timedelta(hours=1)
        )
    )
    factories.commit()
    sign_in(client, admin)
    page = text_of(client.get("/"))
    accounts = _panel(page, "Accounts locked or never signed in", "Audit log verification")
    assert "fresh-one" in accounts and "has never signed in" in accounts
    assert "signed-one" in accounts and "locked out" in accounts
    assert admin.username not in accounts
    assert "The chain has not been verified yet" in _panel(page, "Audit log verification")
    write_checkpoints(verify_chains())
    factories.commit()
    assert "Last verified" in _panel(text_of(client.get("/")), "Audit log verification")
    del fresh


def test_a_coordinator_is_told_what_they_will_see_and_not_to_ask_an_admin_for_cases(
    client: CSRFClient,
) -> None:
    north = factories.agency("north")
    sign_in(client, factories.user(north, Role.COORDINATOR))
    page = text_of(client.get("/"))
    assert "What you will see here" in page and "de-identified monthly figures" in page
    refused = client.get("/cases/")
    assert refused.status_code == 403
    assert "admin" not in text_of(refused).lower().split("not allowed", 1)[1]
    assert "No one can open this page to a coordinator" in text_of(refused)


def test_the_home_page_shows_the_panels_of_the_roles_held_in_the_acting_agency_only(
    client: CSRFClient,
) -> None:
    north, valley = factories.agency("north"), factories.agency("valley")
    both = factories.user(north, Role.ADVOCATE, also=((valley, Role.SHELTER_STAFF),))
    sign_in(client, both)
    page = text_of(client.get("/"))
    assert "My open cases" in page and "Referrals waiting for an answer" not in page
    client.post("/agency", data={"agency": valley.id})
    page = text_of(client.get("/"))
    assert "Referrals waiting for an answer" in page and "My open cases" not in page
