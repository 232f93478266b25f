"""Referrals made on the network board, tied to the referring agency's cases.

North's advocate asks Valley's shelter for beds from the network board and
says which case they are for (or starts an intake from the request).  North
sees the case in its list of referrals; Valley, which keeps the shelter,
sees a token and numbers, never the case's number or the person's name.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from sqlalchemy import select

from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.intake import service
from advocacy.intake.models import Case, Placement
from advocacy.shelters.models import Referral
from tests import test_intake
from tests.helpers import CSRFClient, make_user, sign_in, text_of
from tests.test_intake import post_step, walk

#: The intake tests' world: North's advocates, Valley's shelter (a fixture shared, not copied).
place = test_intake.place

REQUEST = {"adults": "1", "children_ages": "", "pets": "0"}


def open_case(client: CSRFClient) -> Case:
    post_step(client, walk(client), "placement", {"bed": "later"})
    return db.session.scalars(select(Case).order_by(Case.id.desc())).first()  # type: ignore[return-value]


def test_a_request_from_the_network_board_is_tied_to_an_open_case(
    client: CSRFClient, other_client: CSRFClient, place: SimpleNamespace
) -> None:
    sign_in(client, place.advocate)
    case = open_case(client)
    url = f"/shelters/network/{place.shelter_id}/request"
    page = text_of(client.get(url))
    assert f"{case.number} · Amina Test" in page and "Start a new intake for this household" in page

    response = client.post(url, data={**REQUEST, "case": str(case.id)})
    assert response.status_code == 302, text_of(response)
    referral = db.session.scalars(select(Referral)).one()
    placement = db.session.scalar(select(Placement).where(Placement.referral_id == referral.id))
    assert placement is not None and placement.case_id == case.id
    assert service.active_referral(case.id).id == referral.id  # type: ignore[union-attr]
    # The referring agency's list links the case by its number.
    html = client.get("/shelters/referrals").get_data(as_text=True)
    assert re.search(rf'<a href="/cases/{case.id}">{case.number}</a>', html)
    assert referral.token in text_of(client.get(f"/cases/{case.id}"))

    # The shelter's agency sees the token and the numbers, never the case.
    sign_in(other_client, make_user(place.valley, Role.SHELTER_STAFF))
    board = other_client.get(f"/shelters/{place.shelter_id}/board").get_data(as_text=True)
    assert referral.token in board
    assert case.number not in board and "Amina" not in board and f"/cases/{case.id}" not in board
    sign_in(other_client, place.stranger)  # an advocate of the shelter's agency
    for page_url in ("/shelters/referrals", f"/shelters/{place.shelter_id}/board", "/shelters/network"):
        html = other_client.get(page_url).get_data(as_text=True)
        assert case.number not in html and "Amina" not in html, page_url


def test_only_the_advocate_s_own_open_cases_are_offered(client: CSRFClient, place: SimpleNamespace) -> None:
    sign_in(client, place.colleague)
    theirs = open_case(client)
    sign_in(client, place.advocate)
    mine = open_case(client)
    client.post(f"/cases/{mine.id}/close", data={"reason": "moved", "confirm": "yes"})
    html = client.get(f"/shelters/network/{place.shelter_id}/request").get_data(as_text=True)
    offered = re.findall(
        r'<option[^>]*value="([^"]*)"', html.split('id="case"', 1)[1].split("</select>", 1)[0]
    )
    assert offered == ["", "new"]
    # A case not offered is refused next to the field; nothing is held.
    response = client.post(
        f"/shelters/network/{place.shelter_id}/request", data={**REQUEST, "case": str(theirs.id)}
    )
    assert response.status_code == 400
    assert re.search(r'id="case-error-1"', response.get_data(as_text=True))
    assert db.session.scalars(select(Referral)).all() == []


def test_a_request_can_start_the_intake_whose_case_gets_the_referral(
    client: CSRFClient, place: SimpleNamespace
) -> None:
    sign_in(client, place.advocate)
    response = client.post(f"/shelters/network/{place.shelter_id}/request", data={**REQUEST, "case": "new"})
    assert response.status_code == 302
    location = response.headers["Location"]
    draft_id = int(location.split("/")[3])
    assert location.endswith(f"/cases/intake/{draft_id}/person")
    referral = db.session.scalars(select(Referral)).one()
    assert f"Beds are held at RV-1 (referral {referral.token})" in text_of(client.get(location))

    walk(client, draft_id=draft_id)
    page = text_of(client.get(f"/cases/intake/{draft_id}/placement"))
    assert f"Beds are held at RV-1 by referral {referral.token}" in page
    assert "No bed needed" not in page
    response = post_step(client, draft_id, "placement", {"bed": "held"})
    assert response.status_code == 302, text_of(response)
    case = db.session.scalars(select(Case)).one()
    placement = db.session.scalar(select(Placement).where(Placement.case_id == case.id))
    assert placement is not None and placement.referral_id == referral.id
    assert service.active_referral(case.id).id == referral.id  # type: ignore[union-attr]


def test_a_referral_belongs_to_one_case_only(client: CSRFClient, place: SimpleNamespace) -> None:
    from advocacy.errors import Refused
    from tests import factories

    sign_in(client, place.advocate)
    first, second = open_case(client), open_case(client)
    client.post(f"/shelters/network/{place.shelter_id}/request", data={**REQUEST, "case": str(first.id)})
    referral = db.session.scalars(select(Referral)).one()
    actor = factories.actor(place.advocate)
    try:
        service.attach_referral(actor, second, referral.id)
    except Refused as refused:
        assert refused.message == f"Referral {referral.token} already belongs to a case."
    else:
        raise AssertionError("attached twice")
