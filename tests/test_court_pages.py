"""Court dates in the browser's terms: an admin's courts, an advocate adding and moving a hearing."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from advocacy.clock import FrozenClock
from advocacy.court import service
from advocacy.court.models import CourtEvent, CourtEventStatus
from advocacy.extensions import db
from advocacy.roles import Role
from tests import factories
from tests.helpers import sign_in
from tests.helpers import text_of as raw_text

CHICAGO = "America/Chicago"
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


@pytest.fixture
def world(app: Any, clock: FrozenClock) -> dict[str, Any]:
    clock.set(NOW)
    north = factories.agency("north")
    admin = factories.user(north, Role.ADMIN)
    advocate = factories.user(north, Role.ADVOCATE)
    court = service.add_court(factories.system(north), north.id, "District Court, Duluth", CHICAGO)
    case = factories.case(advocate, "Maple")
    factories.commit()
    return {"agency": north, "admin": admin, "advocate": advocate, "court": court, "case": case}


def text_of(response: Any) -> str:
    return html.unescape(raw_text(response))


def hearing(world: dict[str, Any], **overrides: str) -> dict[str, Any]:
    return {
        "kind": "protection_order",
        "court": str(world["court"].id),
        "courtroom": "3B",
        "day": "2026-12-15",
        "at": "09:30",
        **overrides,
    }


def only_event() -> CourtEvent:
    event = db.session.scalar(select(CourtEvent))
    assert event is not None
    return event


def test_an_admin_adds_a_court_and_sets_the_schedule(client: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["admin"])
    page = client.get("/court/courts")
    assert page.status_code == 200 and "District Court, Duluth" in text_of(page)
    added = client.post("/court/courts", data={"name": "Tribal Court", "time_zone": "America/Denver"})
    assert added.status_code == 302
    assert "Tribal Court" in text_of(client.get("/court/courts"))
    saved = client.post("/court/schedule", data={"schedule": "7d 1d 07:30", "denser": "3d 2h"})
    assert saved.status_code == 302
    assert service.agency_schedule(world["agency"].id).standard_text == "7d 1d 07:30"


def test_a_court_with_no_name_or_an_unreadable_schedule_shows_why(client: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["admin"])
    page = client.post("/court/courts", data={"name": "", "time_zone": CHICAGO})
    assert page.status_code == 400 and "Enter the court's name." in text_of(page)
    page = client.post("/court/schedule", data={"schedule": "7d sometime", "denser": ""})
    assert page.status_code == 400 and "is not a reminder time" in text_of(page)
    assert service.agency_schedule(world["agency"].id).standard_text == "7d 1d 08:00"


def test_an_advocate_does_not_manage_courts(client: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["advocate"])
    assert client.get("/court/courts").status_code == 403
    assert client.post("/court/courts", data={"name": "X", "time_zone": CHICAGO}).status_code == 403


def test_an_advocate_adds_a_court_date_shown_on_the_courts_clock(client: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["advocate"])
    case_id = world["case"].id
    assert "No court date yet." in text_of(client.get(f"/cases/{case_id}"))
    assert client.get(f"/court/cases/{case_id}/new").status_code == 200
    done = client.post(f"/court/cases/{case_id}/new", data=hearing(world))
    assert done.status_code == 302
    event = only_event()
    assert event.starts_at == datetime(2026, 12, 15, 15, 30, tzinfo=UTC)
    page = text_of(client.get(f"/cases/{case_id}"))
    assert "9:30" in page and "CST" in page and "Protection order hearing" in page


def test_a_court_date_in_the_hour_skipped_in_spring_is_refused_on_the_form(
    client: Any, world: dict[str, Any]
) -> None:
    sign_in(client, world["advocate"])
    page = client.post(
        f"/court/cases/{world['case'].id}/new", data=hearing(world, day="2027-03-14", at="02:30")
    )
    assert page.status_code == 400
    assert "02:30 does not exist on that day in the court's time zone" in text_of(page)
    assert db.session.scalar(select(CourtEvent)) is None


def test_a_court_date_with_no_date_or_kind_says_what_is_missing(client: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["advocate"])
    page = client.post(f"/court/cases/{world['case'].id}/new", data=hearing(world, day="", kind=""))
    body = text_of(page)
    assert page.status_code == 400
    assert "Enter the date of the court date." in body and "Choose the kind of court date." in body


def test_an_advocate_continues_then_cancels_a_court_date(client: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["advocate"])
    client.post(f"/court/cases/{world['case'].id}/new", data=hearing(world))
    event = only_event()
    moved = client.post(
        f"/court/events/{event.id}/change",
        data={
            "why": "continued",
            "court": str(world["court"].id),
            "courtroom": "5A",
            "day": "2027-01-12",
            "at": "10:00",
            "notice": "y",
        },
    )
    assert moved.status_code == 302
    page = text_of(client.get(f"/court/events/{event.id}"))
    assert "Continued to a new date" in page and "Court date added" in page
    cancelled = client.post(f"/court/events/{event.id}/cancel", data={"notice": "y"})
    assert cancelled.status_code == 302
    db.session.refresh(event)
    assert event.status == CourtEventStatus.CANCELLED
    assert "Cancelled" in text_of(client.get(f"/cases/{world['case'].id}"))


def test_another_agencys_advocate_finds_no_court_date(client: Any, world: dict[str, Any]) -> None:
    event = service.add_event(
        factories.actor(world["advocate"]),
        world["case"],
        kind="trial",  # type: ignore[arg-type]
        court_id=world["court"].id,
        courtroom=None,
        day=datetime(2026, 12, 20).date(),
        at=datetime(2026, 12, 20, 9, 0).time(),
    )
    factories.commit()
    south = factories.agency("south")
    stranger = factories.user(south, Role.ADVOCATE)
    sign_in(client, stranger)
    assert client.get(f"/court/events/{event.id}").status_code == 404
    assert client.post(f"/court/events/{event.id}/cancel", data={}).status_code == 404
    assert client.get(f"/court/cases/{world['case'].id}/new").status_code == 404


def test_the_menu_offers_courts_to_an_admin_only(
    client: Any, other_client: Any, world: dict[str, Any]
) -> None:
    sign_in(client, world["admin"])
    sign_in(other_client, world["advocate"])
    assert 'href="/court/courts"' in client.get("/").get_data(as_text=True)
    assert 'href="/court/courts"' not in other_client.get("/").get_data(as_text=True)
