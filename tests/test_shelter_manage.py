"""Shelter management, occupancy and history, through the app as people use them.

North's admin adds a shelter, its rooms and beds, and sets the agency's hold
length; North's staff read occupancy and the history.  Valley's people, and
North's advocates, cannot reach any of it: another agency's shelter is a 404,
a role that does not manage shelters is a 403.  A network label that gives
away the shelter's name is refused next to its field, and nothing is saved.
"""

from __future__ import annotations

import csv
import importlib
import io
import re
from datetime import timedelta
from html import unescape as html_unescape
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from advocacy.auth.models import Role
from advocacy.clock import FrozenClock
from advocacy.clock import now as utcnow
from advocacy.extensions import db
from advocacy.shelters import service
from advocacy.shelters.models import (
    AvailabilityEvent,
    Bed,
    BedType,
    Hold,
    OutOfServiceReason,
    Room,
    RoomType,
    Shelter,
)
from advocacy.shelters.service import bed_labels, safe_cell
from advocacy.shelters.service.history import FORMULA_START
from tests import factories
from tests.helpers import CSRFClient, login, make_agency, make_user, text_of
from tests.test_i18n import shown


@pytest.fixture
def people(app: Flask) -> SimpleNamespace:
    north = make_agency("north", "North Shore")
    valley = make_agency("valley", "River Valley")
    setup = factories.system(north)
    shelter = service.add_shelter(
        setup, north.id, "Birch House", "NS-1", "North Shore", address="1208 Example Ave"
    )
    service.add_room(setup, shelter, "Room 1", beds=[("1A", BedType.ADULT), ("1B", BedType.ADULT)])
    db.session.commit()
    return SimpleNamespace(
        north_id=north.id,
        valley_id=valley.id,
        shelter_id=shelter.id,
        admin=make_user(north, Role.ADMIN),
        staff=make_user(north, Role.SHELTER_STAFF),
        advocate=make_user(north, Role.ADVOCATE),
        valley_admin=make_user(valley, Role.ADMIN),
        valley_staff=make_user(valley, Role.SHELTER_STAFF),
    )


def shelter_count() -> int:
    return db.session.scalar(select(func.count(Shelter.id))) or 0


def shelter_form(**overrides: object) -> dict[str, object]:
    return {
        "name": "Aspen Place",
        "address": "77 Placeholder Road",
        "public_label": "NS-2",
        "region": "North Shore",
        "languages": ["en", "so"],
        "cultural_program": "",
        "boys_age_limit": "12",
        "max_stay_days": "90",
    } | overrides


# --- shelters, rooms and beds ----------------------------------------------------------------


def test_admin_adds_a_shelter_and_a_room_whose_beds_are_lettered(client: CSRFClient, people) -> None:
    login(client, people.admin)
    assert client.get("/shelters/new").status_code == 200
    response = client.post("/shelters/new", data=shelter_form())
    assert response.status_code == 302
    shelter = db.session.scalar(select(Shelter).where(Shelter.public_label == "NS-2"))
    assert shelter is not None
    assert (shelter.agency_id, shelter.name, shelter.language_tags) == (
        people.north_id,
        "Aspen Place",
        ["en", "so"],
    )
    assert (shelter.boys_age_limit, shelter.max_stay_days) == (12, 90)
    assert response.headers["Location"].endswith(f"/shelters/{shelter.id}")
    assert "The shelter is added." in text_of(client.get(response.headers["Location"]))

    response = client.post(
        f"/shelters/{shelter.id}/rooms/new",
        data={
            "label": "Room 3",
            "room_type": "family",
            "accessible": "y",
            "adult_beds": "2",
            "child_beds": "1",
            "cribs": "1",
        },
    )
    assert response.status_code == 302
    room = db.session.scalar(select(Room).where(Room.shelter_id == shelter.id))
    assert (
        room is not None
        and room.room_type == RoomType.FAMILY.value
        and room.accessible
        and not room.pets_allowed
    )
    beds = [(b.label, b.bed_type, b.state) for b in room.beds]
    assert beds == [
        ("Room 3-A", "adult", "available"),
        ("Room 3-B", "adult", "available"),
        ("Room 3-C", "child", "available"),
        ("Room 3-D", "crib", "available"),
    ]
    added = db.session.scalars(
        select(AvailabilityEvent).where(AvailabilityEvent.shelter_id == shelter.id)
    ).all()
    assert [(e.action, e.from_state, e.to_state, e.actor_id) for e in added] == [
        ("bed.added", None, "available", people.admin.id)
    ] * 4


def test_admin_changes_a_shelter(client: CSRFClient, people) -> None:
    login(client, people.admin)
    page = client.get(f"/shelters/{people.shelter_id}/edit")
    assert page.status_code == 200
    assert 'value="NS-1"' in page.get_data(as_text=True)
    response = client.post(
        f"/shelters/{people.shelter_id}/edit",
        data=shelter_form(
            name="Birch House", public_label="NS-1b", languages=["ar"], cultural_program="deaf"
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    shelter = db.session.get(Shelter, people.shelter_id)
    assert (shelter.public_label, shelter.languages, shelter.cultural_program) == ("NS-1b", "ar", "deaf")


def test_a_label_that_gives_away_the_name_is_refused_next_to_it_and_nothing_is_saved(
    client: CSRFClient, people
) -> None:
    login(client, people.admin)
    before = shelter_count()
    response = client.post("/shelters/new", data=shelter_form(public_label="Aspen Place North"))
    assert response.status_code == 400
    assert shelter_count() == before
    html = response.get_data(as_text=True)
    error = re.search(r'id="public_label-error-\d+"[^>]*>([^<]*)<', html)
    assert error and "must not contain the shelter's name or address" in html_unescape(error.group(1))

    response = client.post(
        f"/shelters/{people.shelter_id}/edit",
        data=shelter_form(name="Birch House", region="Birch House area"),
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Shelter, people.shelter_id).region == "North Shore"


def test_a_refusal_is_shown_in_the_page_language(client: CSRFClient, people) -> None:
    message = "The network label and region must not contain the shelter's name or address."
    login(client, people.admin)
    client.post("/language", data={"language": "es", "next": "/"})
    response = client.post("/shelters/new", data=shelter_form(public_label="Aspen Place"))
    assert response.status_code == 400
    assert '<html lang="es"' in response.get_data(as_text=True)
    # Its Spanish once translated (English until then, as every new string).
    assert shown("es", message) in html_unescape(text_of(response))


def test_invalid_fields_are_shown_next_to_them(client: CSRFClient, people) -> None:
    login(client, people.admin)
    response = client.post("/shelters/new", data=shelter_form(languages=[], boys_age_limit="40", name=""))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for field in ("name", "languages", "boys_age_limit"):
        assert f'id="{field}-error-1"' in html, field
    assert shelter_count() == 1


def test_a_room_needs_a_bed_and_a_label_of_its_own(client: CSRFClient, people) -> None:
    login(client, people.admin)
    url = f"/shelters/{people.shelter_id}/rooms/new"
    beds = db.session.scalar(select(func.count(Bed.id)))
    response = client.post(
        url,
        data={"label": "Room 9", "room_type": "single", "adult_beds": "0", "child_beds": "0", "cribs": "0"},
    )
    assert response.status_code == 400
    assert 'id="adult_beds-error-1"' in response.get_data(as_text=True)
    response = client.post(
        url,
        data={"label": "room 1", "room_type": "single", "adult_beds": "1", "child_beds": "0", "cribs": "0"},
    )
    assert response.status_code == 400
    assert 'id="label-error-1"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Bed.id))) == beds
    assert db.session.scalar(select(func.count(Room.id))) == 1


def test_bed_letters_stop_at_z() -> None:
    assert bed_labels("R", [(BedType.ADULT, 1), (BedType.CRIB, 1)]) == [
        ("R-A", BedType.ADULT),
        ("R-B", BedType.CRIB),
    ]
    with pytest.raises(service.Refused):
        bed_labels("R", [(BedType.ADULT, 27)])


def test_settings_change_the_length_of_new_holds(client: CSRFClient, people) -> None:
    login(client, people.admin)
    page = client.get("/shelters/settings")
    assert page.status_code == 200
    assert 'value="120"' in page.get_data(as_text=True)
    response = client.post("/shelters/settings", data={"hold_minutes": "45", "stale_after_minutes": "90"})
    assert response.status_code == 302
    settings = service.network_settings(people.north_id)
    assert (settings.hold_minutes, settings.stale_after_minutes) == (45, 90)

    shelter = db.session.get(Shelter, people.shelter_id)
    bed = db.session.scalar(select(Bed.id).where(Bed.shelter_id == shelter.id).limit(1))
    hold = service.place_hold(factories.actor(people.staff), shelter, [bed])
    assert hold.expires_at - hold.created_at == timedelta(minutes=45)


def test_settings_out_of_range_are_refused_next_to_the_field(client: CSRFClient, people) -> None:
    login(client, people.admin)
    response = client.post("/shelters/settings", data={"hold_minutes": "5", "stale_after_minutes": "90"})
    assert response.status_code == 400
    assert 'id="hold_minutes-error-1"' in response.get_data(as_text=True)
    assert service.network_settings(people.north_id).hold_minutes == 120


def test_settings_of_another_agency_are_not_found(client: CSRFClient, people) -> None:
    login(client, people.admin)
    assert client.get(f"/shelters/settings?agency={people.valley_id}").status_code == 404
    response = client.post(
        f"/shelters/settings?agency={people.north_id}",
        data={"agency": str(people.valley_id), "hold_minutes": "45", "stale_after_minutes": "90"},
    )
    assert response.status_code == 400
    assert service.network_settings(people.valley_id).hold_minutes == 120


# --- who may open what ----------------------------------------------------------------------------


def test_another_agency_gets_404_for_every_page_of_the_shelter(client: CSRFClient, people) -> None:
    sid = people.shelter_id
    readable = [f"/shelters/{sid}/occupancy", f"/shelters/{sid}/occupancy.csv", f"/shelters/{sid}/history"]
    login(client, people.valley_staff)
    for url in readable:
        assert client.get(url).status_code == 404, url
    client.post("/auth/logout")
    login(client, people.valley_admin)
    for url in [*readable, f"/shelters/{sid}/edit", f"/shelters/{sid}/rooms/new"]:
        assert client.get(url).status_code == 404, url
    response = client.post(f"/shelters/{sid}/edit", data=shelter_form(name="Mine now"))
    assert response.status_code == 404
    room = {"label": "X", "room_type": "single", "adult_beds": "1", "child_beds": "0", "cribs": "0"}
    assert client.post(f"/shelters/{sid}/rooms/new", data=room).status_code == 404
    db.session.expire_all()
    assert db.session.get(Shelter, sid).name == "Birch House"
    assert db.session.scalar(select(func.count(Room.id))) == 1


def test_advocates_and_staff_cannot_manage_shelters(client: CSRFClient, people) -> None:
    sid = people.shelter_id
    manage = ["/shelters/new", f"/shelters/{sid}/edit", f"/shelters/{sid}/rooms/new", "/shelters/settings"]
    login(client, people.advocate)
    for url in [*manage, f"/shelters/{sid}/occupancy", f"/shelters/{sid}/history"]:
        assert client.get(url).status_code == 403, url
    assert client.post("/shelters/new", data=shelter_form()).status_code == 403
    client.post("/auth/logout")
    login(client, people.staff)
    for url in manage:
        assert client.get(url).status_code == 403, url
    assert client.get(f"/shelters/{sid}/occupancy").status_code == 200
    assert client.get(f"/shelters/{sid}/history").status_code == 200
    assert shelter_count() == 1


def test_the_shelter_page_links_what_each_role_may_use(client: CSRFClient, people) -> None:
    sid = people.shelter_id
    login(client, people.staff)
    html = client.get(f"/shelters/{sid}").get_data(as_text=True)
    assert f"/shelters/{sid}/occupancy" in html and f"/shelters/{sid}/history" in html
    assert f"/shelters/{sid}/edit" not in html and f"/shelters/{sid}/rooms/new" not in html
    client.post("/auth/logout")
    login(client, people.admin)
    html = client.get(f"/shelters/{sid}").get_data(as_text=True)
    assert f"/shelters/{sid}/edit" in html and f"/shelters/{sid}/rooms/new" in html


# --- occupancy ---------------------------------------------------------------------------------------


def test_the_chart_has_one_point_per_day(client: CSRFClient, people) -> None:
    shelter = db.session.get(Shelter, people.shelter_id)
    bed = db.session.scalar(select(Bed.id).where(Bed.shelter_id == shelter.id).limit(1))
    service.check_in(factories.actor(people.staff), shelter, [bed])
    db.session.commit()
    login(client, people.staff)
    response = client.get(f"/shelters/{people.shelter_id}/occupancy?days=7")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<svg" in html and "<title" in html and "<desc" in html
    occupied = re.search(r'class="app-chart__occupied" points="([^"]*)"', html)
    assert occupied and len(occupied.group(1).split()) == 7
    assert len(re.findall(r"<circle ", html)) == 7
    # The table below the chart: one row per day, today with 1 of 2 beds occupied.
    assert len(re.findall(r'<th scope="row">', html)) == 7
    assert "50%" in text_of(response)
    assert "style=" not in html.split("<main", 1)[1]
    assert client.get(f"/shelters/{people.shelter_id}/occupancy?days=8").status_code == 400
    assert client.get(f"/shelters/{people.shelter_id}/occupancy").status_code == 200


def test_the_chart_reads_in_arabic(client: CSRFClient, people) -> None:
    login(client, people.staff)
    client.post("/language", data={"language": "ar", "next": "/"})
    response = client.get(f"/shelters/{people.shelter_id}/occupancy?days=90")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in html
    assert 'direction="ltr"' in html
    occupied = re.search(r'class="app-chart__occupied" points="([^"]*)"', html)
    assert occupied and len(occupied.group(1).split()) == 90


def test_the_csv_has_a_row_per_day_and_no_formula(client: CSRFClient, people) -> None:
    shelter = db.session.get(Shelter, people.shelter_id)
    beds = list(db.session.scalars(select(Bed.id).where(Bed.shelter_id == shelter.id)))
    staff = factories.actor(people.staff)
    service.check_in(staff, shelter, beds[:1])
    service.take_out_of_service(staff, shelter, beds[1:], OutOfServiceReason.REPAIR)
    db.session.commit()
    login(client, people.staff)
    response = client.get(f"/shelters/{people.shelter_id}/occupancy.csv?days=7")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "Birch" not in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["date", "occupied", "in_service", "occupancy_rate"]
    assert len(rows) == 8
    # The last row is today in the agency's time zone, not in UTC.
    zone = ZoneInfo(client.application.config["SETTINGS"].default_timezone)
    assert rows[-1] == [utcnow().astimezone(zone).date().isoformat(), "1", "1", "1.000"]
    assert all(not cell.startswith(FORMULA_START) for row in rows for cell in row)


def test_a_cell_that_looks_like_a_formula_is_made_text() -> None:
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_cell("-1") == "'-1"
    assert safe_cell("@SUM") == "'@SUM"
    assert safe_cell("2025-04-05") == "2025-04-05"


# --- history -------------------------------------------------------------------------------------------


def test_history_names_people_and_says_when_the_app_expired_a_hold(
    client: CSRFClient, people, clock: FrozenClock
) -> None:
    shelter = db.session.get(Shelter, people.shelter_id)
    bed = db.session.scalar(select(Bed.id).where(Bed.shelter_id == shelter.id, Bed.label == "1A"))
    hold = service.place_hold(factories.actor(people.staff), shelter, [bed])
    clock.advance(hours=3)
    assert service.expire_holds() == 1
    assert db.session.get(Hold, hold.id).status == "expired"
    db.session.commit()

    login(client, people.staff)
    response = client.get(f"/shelters/{people.shelter_id}/history")
    assert response.status_code == 200
    rows = re.findall(r"<tr>(.*?)</tr>", response.get_data(as_text=True), re.S)[1:]
    texts = [" ".join(re.sub(r"<[^>]+>", " ", r).split()) for r in rows]
    assert "Hold expired" in texts[0] and "Automatic (hold expired)" in texts[0]
    assert "Held → Available" in texts[0] and "1A" in texts[0]
    assert "Hold placed" in texts[1] and "Test shelter_staff" in texts[1] and "Available → Held" in texts[1]
    assert "Bed added" in texts[-1]


def test_history_pages_go_back_in_time(client: CSRFClient, people, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.import_module("advocacy.shelters.service.history"), "HISTORY_PAGE_SIZE", 1)
    shelter = db.session.get(Shelter, people.shelter_id)
    shelter_events = db.session.scalar(select(func.count(AvailabilityEvent.id))) or 0
    assert shelter_events == 2
    page = service.history(shelter, size=1)
    assert len(page.rows) == 1 and page.next_before is not None
    older = service.history(shelter, before=page.next_before, size=1)
    assert len(older.rows) == 1 and older.next_before is None
    assert {page.rows[0].bed_label, older.rows[0].bed_label} == {"1A", "1B"}

    login(client, people.staff)
    html = client.get(f"/shelters/{people.shelter_id}/history").get_data(as_text=True)
    assert f"before={page.next_before}" not in html  # 100 per page: one page here
