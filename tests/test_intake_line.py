"""Each shelter's intake line: the owning agency may show it to the network.

North's admin records the line (validated and stored in E.164, encrypted) and
chooses whether the network sees it.  Valley's advocates find it on the
network board, next to "Stale", only when North shares it; never otherwise,
and never in a hand-off (which carries no shelter data at all).
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from sqlalchemy import text

from advocacy.auth.models import Agency, Role
from advocacy.extensions import db
from advocacy.shelters import service
from advocacy.shelters.models import Shelter
from tests import factories
from tests.helpers import CSRFClient, login, make_agency, make_user, text_of
from tests.test_shelter_manage import people, shelter_form

__all__ = ["people"]  # the fixture, shared with the shelter-setup tests

LINE = "218-555-0142"
E164 = "+12185550142"


def shelter_row(shelter_id: int) -> Shelter:
    db.session.expire_all()
    found = db.session.get(Shelter, shelter_id)
    assert found is not None
    return found


def network_html(client: CSRFClient) -> str:
    response = client.get("/shelters/network")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_admin_records_the_intake_line_and_chooses_to_share_it(
    client: CSRFClient, other_client: CSRFClient, people: SimpleNamespace
) -> None:
    login(client, people.admin)
    edit = f"/shelters/{people.shelter_id}/edit"
    data = shelter_form(name="Birch House", address="1208 Example Ave", public_label="NS-1")
    assert client.post(edit, data={**data, "intake_phone": LINE}).status_code == 302
    shelter = shelter_row(people.shelter_id)
    assert (shelter.intake_phone, shelter.intake_phone_shared) == (E164, False)
    # Encrypted at rest: the number is not in the row as stored.
    stored = db.session.execute(
        text("SELECT intake_phone FROM shelter WHERE id = :id"), {"id": shelter.id}
    ).scalar()
    assert "2185550142" not in stored
    assert "+1 218-555-0142 · your agency only" in text_of(client.get(f"/shelters/{people.shelter_id}"))

    advocate = make_user(make_agency("valley2", "Valley Two"), Role.ADVOCATE)
    login(other_client, advocate)
    assert "555-0142" not in network_html(other_client)  # not shared: never shown
    rows = other_client.get("/shelters/network.json").get_json()["shelters"]
    assert [row["intake_phone"] for row in rows] == [None]

    client.post(edit, data={**data, "intake_phone": LINE, "intake_phone_shared": "y"})
    assert shelter_row(people.shelter_id).intake_phone_shared is True
    html = network_html(other_client)
    assert re.search(
        r'Intake line: <a href="tel:\+12185550142"><bdi dir="ltr" class="app-phone">\+1 218-555-0142</bdi></a>',
        html,
    )

    rows = other_client.get("/shelters/network.json").get_json()["shelters"]
    assert [row["intake_phone"] for row in rows] == [E164]

    client.post(edit, data={**data, "intake_phone": LINE})  # sharing withdrawn
    assert "555-0142" not in network_html(other_client)


def test_a_stale_board_shows_the_shared_line_next_to_call_before_sending(
    client: CSRFClient, people: SimpleNamespace, clock
) -> None:  # type: ignore[no-untyped-def]
    shelter = shelter_row(people.shelter_id)
    service.update_shelter(
        factories.system(db.session.get(Agency, people.north_id)),
        shelter,
        intake_phone=LINE,
        intake_phone_shared=True,
    )
    factories.commit()
    clock.advance(minutes=7 * 60)
    login(client, make_user(make_agency("valley3", "Valley Three"), Role.ADVOCATE))
    html = network_html(client)
    row = re.search(r'<tr class="app-row--stale">.*?</tr>', html, re.S)
    assert row is not None
    assert "Call before sending them." in row.group(0) and "+1 218-555-0142" in row.group(0)


def test_a_bad_intake_line_is_refused_next_to_its_field_and_changes_nothing(
    client: CSRFClient, people: SimpleNamespace
) -> None:
    login(client, people.admin)
    edit = f"/shelters/{people.shelter_id}/edit"
    data = shelter_form(name="Birch House", address="1208 Example Ave", public_label="NS-1")
    for typed, message in (
        ("12 Main Street", "This is not a valid phone number."),
        ("555-01", "This is not a valid phone number."),
        ("", "Enter the intake line to share it with the network."),
    ):
        response = client.post(edit, data={**data, "intake_phone": typed, "intake_phone_shared": "y"})
        assert response.status_code == 400, typed
        html = response.get_data(as_text=True)
        assert re.search(rf'id="intake_phone-error-1"[^>]*>{re.escape(message)}', html), typed
        shelter = shelter_row(people.shelter_id)
        assert (shelter.intake_phone, shelter.intake_phone_shared) == (None, False)
