"""The staff board and the network board, through the app as people use them.

Two agencies: North keeps a shelter; Valley's advocates look for beds on the
network board and ask North to hold some.  The rules of the issue, each shown
here: no double booking (one success, one clear message, no change), refused
transitions change nothing, another agency's beds answer 404, nothing that
says where a shelter is reaches another agency, and an unchanged board costs
a 304.
"""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, request
from sqlalchemy import func, select, update

from advocacy.auth.models import Agency, Role
from advocacy.clock import now as utcnow
from advocacy.extensions import db
from advocacy.fields import form_field
from advocacy.security import BACKGROUND_HEADER
from advocacy.shelters import service
from advocacy.shelters.forms import BedActionForm, BoardFilterForm
from advocacy.shelters.models import (
    AvailabilityEvent,
    Bed,
    BedState,
    BedType,
    Hold,
    Referral,
    ReferralStatus,
    RoomType,
    Shelter,
)
from tests import factories
from tests.helpers import CSRFClient, make_agency, make_user, sign_in, text_of


@pytest.fixture
def network(app: Flask) -> SimpleNamespace:
    north = make_agency("north", "North Shore")
    valley = make_agency("valley", "River Valley")
    north_setup, valley_setup = factories.system(north), factories.system(valley)
    shelter = service.add_shelter(
        north_setup,
        north.id,
        "Birch House",
        "NS-1",
        "North Shore",
        address="1208 Example Ave",
        languages=("en", "so"),
    )
    family = service.add_room(
        north_setup,
        shelter,
        "Room 1",
        room_type=RoomType.FAMILY,
        accessible=True,
        beds=[("1A", BedType.ADULT), ("1B", BedType.CHILD), ("1C", BedType.CRIB)],
    )
    single = service.add_room(north_setup, shelter, "Room 2", beds=[("2A", BedType.ADULT)])
    other = service.add_shelter(
        valley_setup, valley.id, "Cedar Haven", "RV-1", "River Valley", address="9 Placeholder Rd"
    )
    other_room = service.add_room(valley_setup, other, "Room 9", beds=[("9A", BedType.ADULT)])
    db.session.commit()
    return SimpleNamespace(
        north=north,
        valley=valley,
        shelter_id=shelter.id,
        other_id=other.id,
        beds={b.label: b.id for room in (family, single, other_room) for b in room.beds},
        staff=make_user(north, Role.SHELTER_STAFF),
        valley_staff=make_user(valley, Role.SHELTER_STAFF),
        advocate=make_user(valley, Role.ADVOCATE),
        coordinator=make_user(north, Role.COORDINATOR),
    )


def bed_state(bed_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Bed, bed_id).state  # type: ignore[union-attr]


def event_count() -> int:
    return db.session.scalar(select(func.count(AvailabilityEvent.id))) or 0


def board(client: CSRFClient, n: SimpleNamespace) -> str:
    response = client.get(f"/shelters/{n.shelter_id}/board")
    assert response.status_code == 200
    return text_of(response)


def hold_beds(client: CSRFClient, n: SimpleNamespace, *labels: str) -> Any:
    return client.post(
        f"/shelters/{n.shelter_id}/beds",
        data={"bed_ids": [str(n.beds[label]) for label in labels], "action": "hold"},
    )


# --- the staff board -------------------------------------------------------------------------


def test_staff_see_every_bed_and_its_state(client: CSRFClient, network: SimpleNamespace) -> None:
    sign_in(client, network.staff)
    text = board(client, network)
    assert "Beds at Birch House" in text
    for label in ("1A", "1B", "1C", "2A"):
        assert label in text
    assert "9A" not in text  # another agency's bed
    assert "4 beds shown" in text


def test_the_board_filters_by_state_and_bed_type(client: CSRFClient, network: SimpleNamespace) -> None:
    sign_in(client, network.staff)
    hold_beds(client, network, "2A")
    text = text_of(client.get(f"/shelters/{network.shelter_id}/board?state=held"))
    assert "1 bed shown" in text and "2A" in text
    text = text_of(client.get(f"/shelters/{network.shelter_id}/board?bed_type=crib"))
    assert "1 bed shown" in text and "1C" in text


def test_staff_hold_a_bed_and_the_board_shows_time_left(client: CSRFClient, network: SimpleNamespace) -> None:
    sign_in(client, network.staff)
    response = hold_beds(client, network, "2A")
    assert response.status_code == 302
    text = board(client, network)
    assert "The beds are held." in text
    assert "Hold ends in 120 minutes." in text
    assert bed_state(network.beds["2A"]) == BedState.HELD


def test_the_second_person_to_hold_the_same_bed_is_told_and_nothing_changes(
    client: CSRFClient, other_client: CSRFClient, network: SimpleNamespace
) -> None:
    sign_in(client, network.staff)
    sign_in(other_client, make_user(network.north, Role.SHELTER_STAFF))
    hold_beds(client, network, "2A")
    before = event_count()
    hold_beds(other_client, network, "2A", "1A")
    text = board(other_client, network)
    assert "Bed 2A is held. Nothing was held; the board shows the beds as they are now." in text
    assert "Someone else" not in text
    assert bed_state(network.beds["1A"]) == BedState.AVAILABLE  # all or nothing
    assert event_count() == before


def test_check_in_several_beds_then_check_out(client: CSRFClient, network: SimpleNamespace) -> None:
    sign_in(client, network.staff)
    response = client.post(
        f"/shelters/{network.shelter_id}/beds",
        data={
            "bed_ids": [str(network.beds["1A"]), str(network.beds["1B"])],
            "action": "check_in",
            "adults": "1",
            "children": "1",
        },
    )
    assert response.status_code == 302
    assert "The household is checked in." in board(client, network)
    assert bed_state(network.beds["1A"]) == bed_state(network.beds["1B"]) == BedState.OCCUPIED
    # The first POST only asks, and changes nothing (it works without JavaScript).
    before = event_count()
    response = client.post(f"/shelters/{network.shelter_id}/beds/{network.beds['1B']}/check-out")
    assert response.status_code == 200
    page = text_of(response)
    assert "Check out this household?" in page and "Nothing has changed yet" in page
    assert "Yes, check out the household in beds 1A, 1B" in page
    assert bed_state(network.beds["1A"]) == bed_state(network.beds["1B"]) == BedState.OCCUPIED
    assert event_count() == before
    stay_url = re.search(r'action="(/shelters/\d+/stays/\d+/check-out)"', response.get_data(as_text=True))
    assert stay_url is not None
    response = client.post(stay_url.group(1), data={"confirm": "yes"})
    assert response.status_code == 302
    assert bed_state(network.beds["1A"]) == bed_state(network.beds["1B"]) == BedState.AVAILABLE
    text = board(client, network)
    assert "The household is checked out of beds 1A, 1B, which are available now." in text
    assert "check the household in again" in text


def test_checking_in_to_an_occupied_bed_names_the_bed(client: CSRFClient, network: SimpleNamespace) -> None:
    sign_in(client, network.staff)
    check_in = {"action": "check_in", "adults": "1", "children": "0"}
    client.post(
        f"/shelters/{network.shelter_id}/beds", data={"bed_ids": [str(network.beds["2A"])], **check_in}
    )
    before = event_count()
    client.post(
        f"/shelters/{network.shelter_id}/beds",
        data={"bed_ids": [str(network.beds["2A"]), str(network.beds["1A"])], **check_in},
    )
    text = board(client, network)
    assert "Bed 2A is occupied. Nothing was changed; the board shows the beds as they are now." in text
    assert "Someone else" not in text
    assert bed_state(network.beds["1A"]) == BedState.AVAILABLE
    assert event_count() == before


def test_checking_out_an_empty_bed_is_refused_with_a_message(
    client: CSRFClient, network: SimpleNamespace
) -> None:
    sign_in(client, network.staff)
    before = event_count()
    client.post(f"/shelters/{network.shelter_id}/beds/{network.beds['2A']}/check-out")
    assert "Nobody is checked in to bed 2A, so there is nothing to check out." in board(client, network)
    assert event_count() == before


def test_bad_input_is_shown_next_to_its_field_and_changes_nothing(
    client: CSRFClient, network: SimpleNamespace
) -> None:
    sign_in(client, network.staff)
    before = event_count()
    response = client.post(
        f"/shelters/{network.shelter_id}/beds",
        data={"bed_ids": [str(network.beds["2A"])], "action": "check_in", "adults": "0", "children": "x"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="adults-error-1"[^>]*>Enter a number from 1 to 12\.<', html)
    assert 'aria-invalid="true"' in html
    # The ticked bed stays ticked, so the person only fixes the number.
    assert re.search(rf'value="{network.beds["2A"]}"\s+checked', html)
    assert event_count() == before
    response = client.post(f"/shelters/{network.shelter_id}/beds", data={"action": "hold"})
    assert response.status_code == 400
    assert "Choose at least one bed." in text_of(response)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_board_s_fields_are_written_as_the_forms_macro_writes_them(app: Flask, language: str) -> None:
    """``fields.form_field`` stands in for the ``field`` macro ``_forms.html`` had: the
    same markup for each of the board's fields, without and with errors (two on one)."""
    from tests.test_form_details import FIELD_MACRO

    macro = app.jinja_env.from_string(FIELD_MACRO).module.field  # type: ignore[attr-defined]
    query = "state=nonsense&bed_type=adult&accessible=y"
    posted = {"action": "check_in", "adults": "0", "children": "x", "note": "n" * 201, "reason": "?"}
    with app.test_request_context(
        f"/shelters/1/board?{query}", method="POST", data=posted, headers={"Accept-Language": language}
    ):
        filters, action = BoardFilterForm(request.args), BedActionForm()
        for form in (filters, action):
            form.validate()
        action.adults.errors = [*action.adults.errors, "A second <message>."]
        fields = [
            (filters.state, "usa-select"),
            (filters.bed_type, "usa-select"),
            (filters.room_type, "usa-select"),
            (action.note, "usa-input"),
            (action.adults, "usa-input usa-input--small"),
            (action.children, "usa-input usa-input--small"),
            (action.reason, "usa-select"),
        ]
        assert filters.state.errors and action.note.errors and len(action.adults.errors) == 2
        assert not filters.bed_type.errors
        for field, classes in fields:
            assert form_field(field, classes=classes) == macro(field, classes=classes), field.name


def test_out_of_service_needs_a_reason_and_only_takes_available_beds(
    client: CSRFClient, network: SimpleNamespace
) -> None:
    sign_in(client, network.staff)
    client.post(
        f"/shelters/{network.shelter_id}/beds",
        data={"bed_ids": [str(network.beds["2A"])], "action": "out_of_service", "reason": "repair"},
    )
    assert bed_state(network.beds["2A"]) == BedState.OUT_OF_SERVICE
    assert "Repair" in board(client, network)
    hold_beds(client, network, "1A")
    client.post(
        f"/shelters/{network.shelter_id}/beds",
        data={"bed_ids": [str(network.beds["1A"])], "action": "out_of_service", "reason": "cleaning"},
    )
    assert "Only available beds can be taken out of service" in board(client, network)
    assert bed_state(network.beds["1A"]) == BedState.HELD
    client.post(
        f"/shelters/{network.shelter_id}/beds",
        data={"bed_ids": [str(network.beds["2A"])], "action": "back_in_service"},
    )
    assert bed_state(network.beds["2A"]) == BedState.AVAILABLE


def test_an_expired_hold_frees_its_bed_without_anyone_acting(
    client: CSRFClient, network: SimpleNamespace
) -> None:
    sign_in(client, network.staff)
    hold_beds(client, network, "2A")
    db.session.execute(update(Hold).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    text = board(client, network)
    assert "Holds" not in text.split("Beds 4 beds shown")[0]
    assert bed_state(network.beds["2A"]) == BedState.AVAILABLE
    expired = db.session.scalar(select(AvailabilityEvent).where(AvailabilityEvent.action == "hold.expired"))
    assert expired is not None and expired.actor_id is None


def test_extend_and_release_a_hold(client: CSRFClient, network: SimpleNamespace) -> None:
    sign_in(client, network.staff)
    hold_beds(client, network, "2A")
    hold = db.session.scalar(select(Hold))
    assert hold is not None
    db.session.execute(update(Hold).values(expires_at=utcnow() + timedelta(minutes=5)))
    db.session.commit()
    client.post(f"/shelters/{network.shelter_id}/holds/{hold.id}/extend")
    assert "The hold is extended." in board(client, network)
    db.session.expire_all()
    assert db.session.get(Hold, hold.id).expires_at > utcnow() + timedelta(minutes=100)  # type: ignore[union-attr]
    client.post(f"/shelters/{network.shelter_id}/holds/{hold.id}/release")
    assert bed_state(network.beds["2A"]) == BedState.AVAILABLE
    client.post(f"/shelters/{network.shelter_id}/holds/{hold.id}/release")
    assert "This hold was already released." in board(client, network)


def test_an_unchanged_board_costs_a_304_and_a_changed_one_sends_only_the_board(
    client: CSRFClient, network: SimpleNamespace, clock: Any
) -> None:
    # The clock stopped: a board's ETag names its minute, and a minute could turn between two requests.
    sign_in(client, network.staff)
    url = f"/shelters/{network.shelter_id}/board"
    page = client.get(url)
    etag = page.headers["ETag"]
    assert f'data-etag="{etag.strip(chr(34))}"' in page.get_data(as_text=True)
    poll = {BACKGROUND_HEADER: "1", "If-None-Match": etag}
    response = client.get(url + "?fragment=1", headers=poll)
    assert response.status_code == 304 and response.data == b""
    hold_beds(client, network, "2A")
    clock.advance(seconds=1)  # the hold's two hours begin to run out, as they do on a running clock
    response = client.get(url + "?fragment=1", headers=poll)
    assert response.status_code == 200
    assert response.headers["ETag"] != etag
    body = response.get_data(as_text=True)
    assert "<html" not in body and "Hold ends in 120 minutes." in body
    # The same for the network board.
    sign_in(client, network.advocate)
    page = client.get("/shelters/network")
    response = client.get("/shelters/network?fragment=1", headers={"If-None-Match": page.headers["ETag"]})
    assert response.status_code == 304


# --- the network board and referrals ------------------------------------------------------


def test_advocates_of_every_agency_see_open_beds_by_label_and_region(
    client: CSRFClient, network: SimpleNamespace
) -> None:
    sign_in(client, network.advocate)
    text = text_of(client.get("/shelters/network"))
    assert "NS-1" in text and "RV-1" in text
    assert "1 minute ago" in text
    text = text_of(client.get("/shelters/network?beds_needed=2&accessible=y"))
    assert "NS-1" in text and "RV-1" not in text
    text = text_of(client.get("/shelters/network?language=so"))
    assert "NS-1" in text and "RV-1" not in text


def unconfirmed_for(shelter_id: int, age: timedelta) -> None:
    """Nobody changed or confirmed the shelter's beds for ``age``."""
    db.session.execute(
        update(Shelter)
        .where(Shelter.id == shelter_id)
        .values(availability_updated_at=utcnow() - age, board_version=Shelter.board_version + 1)
    )
    db.session.commit()


def test_a_board_not_confirmed_for_long_is_marked_stale(client: CSRFClient, network: SimpleNamespace) -> None:
    unconfirmed_for(network.shelter_id, timedelta(hours=7))
    sign_in(client, network.advocate)
    html = client.get("/shelters/network").get_data(as_text=True)
    row = re.search(r"<tr class=\"app-row--stale\">.*?</tr>", html, re.S)
    assert row is not None and "NS-1" in row.group(0) and "Stale" in row.group(0)
    sign_in(client, network.staff)
    client.post(f"/shelters/{network.shelter_id}/confirm")
    sign_in(client, network.advocate)
    assert "app-row--stale" not in client.get("/shelters/network").get_data(as_text=True)


def test_the_staff_board_is_stale_by_its_agencys_own_rule(
    client: CSRFClient, network: SimpleNamespace
) -> None:
    """Unconfirmed for two hours: not stale by the default rule (six hours), stale once
    the agency says ninety minutes (the board reads the rule with its shelter)."""
    unconfirmed_for(network.shelter_id, timedelta(hours=2))
    sign_in(client, network.staff)
    board = f"/shelters/{network.shelter_id}/board"
    assert "Other agencies see this board as out of date" not in text_of(client.get(board))
    service.update_network_settings(
        factories.system(network.north), network.north.id, hold_minutes=120, stale_after_minutes=90
    )
    db.session.commit()
    assert "Other agencies see this board as out of date" in text_of(client.get(board))


def refer(client: CSRFClient, n: SimpleNamespace, **household: str) -> Referral:
    data = {"adults": "1", "children_ages": "4", "pets": "0"} | household
    response = client.post(f"/shelters/network/{n.shelter_id}/request", data=data)
    assert response.status_code == 302, text_of(response)
    referral = db.session.scalar(select(Referral).order_by(Referral.id.desc()))
    assert referral is not None
    return referral


def test_a_cross_agency_referral_from_request_to_arrival(
    client: CSRFClient, other_client: CSRFClient, network: SimpleNamespace
) -> None:
    sign_in(client, network.advocate)
    referral = refer(client, network, children_ages="4, 1", language="so")
    text = text_of(client.get(f"/shelters/referrals?new={referral.id}"))
    assert f"Give the household this reference: {referral.token}" in text
    # One family room fits the household: its adult bed, child bed and crib are held.
    assert {bed_state(network.beds[b]) for b in ("1A", "1B", "1C")} == {BedState.HELD}

    sign_in(other_client, network.staff)
    page = other_client.get(f"/shelters/{network.shelter_id}/board")
    text = text_of(page)
    assert referral.token in text
    # The check-in of the hold starts from the referred household's numbers.
    html = page.get_data(as_text=True)
    assert f'id="hold-{referral.hold_id}-children" name="children" value="2"' in html
    assert "1 adult; 2 children, aged 4, 1; speaks Soomaali" in text
    other_client.post(f"/shelters/{network.shelter_id}/referrals/{referral.id}/accept")
    # The hold and its check-in carry the reference the household gives at the door.
    card = next(
        li
        for li in other_client.get(f"/shelters/{network.shelter_id}/board")
        .get_data(as_text=True)
        .split('<li class="usa-card app-hold">')[1:]
        if f"hold-{referral.hold_id}-adults" in li
    )
    assert f'<span class="app-token">{referral.token}</span>' in card
    assert f"Check in the household of referral {referral.token}" in card
    assert "Accepted" in text_of(client.get("/shelters/referrals"))

    other_client.post(
        f"/shelters/{network.shelter_id}/holds/{referral.hold_id}/check-in",
        data={"adults": "1", "children": "2"},
    )
    assert {bed_state(network.beds[b]) for b in ("1A", "1B", "1C")} == {BedState.OCCUPIED}
    assert "Arrived" in text_of(client.get("/shelters/referrals"))


def test_a_declined_referral_frees_the_beds_and_tells_the_advocate_why(
    client: CSRFClient, other_client: CSRFClient, network: SimpleNamespace
) -> None:
    sign_in(client, network.advocate)
    referral = refer(client, network, children_ages="")
    sign_in(other_client, network.staff)
    other_client.post(
        f"/shelters/{network.shelter_id}/referrals/{referral.id}/decline", data={"reason": "not_a_fit"}
    )
    assert "Declined: The shelter cannot meet this household&#39;s needs" in text_of(
        client.get("/shelters/referrals")
    )
    assert {bed_state(b) for b in network.beds.values()} == {BedState.AVAILABLE}


def test_decline_is_not_offered_after_accepting_and_the_server_refuses_it(
    client: CSRFClient, other_client: CSRFClient, network: SimpleNamespace
) -> None:
    sign_in(client, network.advocate)
    referral = refer(client, network, children_ages="")
    sign_in(other_client, network.staff)
    assert f"Decline referral {referral.token}" in board(other_client, network)
    other_client.post(f"/shelters/{network.shelter_id}/referrals/{referral.id}/accept")
    text = board(other_client, network)
    assert f"Decline referral {referral.token}" not in text
    assert (
        "The household is expected. Check it in under Holds, or release the hold if it cannot come." in text
    )
    before = event_count()
    other_client.post(
        f"/shelters/{network.shelter_id}/referrals/{referral.id}/decline", data={"reason": "not_a_fit"}
    )
    assert f"Referral {referral.token} is already accepted, so it can no longer be declined." in board(
        other_client, network
    )
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == ReferralStatus.ACCEPTED  # type: ignore[union-attr]
    assert event_count() == before


def test_the_advocate_can_cancel_a_referral(client: CSRFClient, network: SimpleNamespace) -> None:
    sign_in(client, network.advocate)
    referral = refer(client, network)
    client.post(f"/shelters/referrals/{referral.id}/cancel")
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == ReferralStatus.CANCELLED  # type: ignore[union-attr]
    assert {bed_state(b) for b in network.beds.values()} == {BedState.AVAILABLE}


def test_a_referral_for_beds_that_are_gone_is_refused_clearly(
    client: CSRFClient, network: SimpleNamespace
) -> None:
    sign_in(client, network.advocate)
    response = client.post(
        f"/shelters/network/{network.shelter_id}/request",
        data={"adults": "5", "children_ages": "", "pets": "0"},
    )
    assert response.status_code == 200
    assert "no longer has open beds that fit this household" in text_of(response)
    assert db.session.scalar(select(func.count(Referral.id))) == 0


def test_referral_input_errors_are_translated_field_errors(
    client: CSRFClient, network: SimpleNamespace
) -> None:
    sign_in(client, network.advocate)
    response = client.post(
        f"/shelters/network/{network.shelter_id}/request",
        data={"adults": "1", "children_ages": "four", "pets": "0"},
    )
    assert response.status_code == 400
    assert "Write each child's age in whole years" in text_of(response)
    assert db.session.scalar(select(func.count(Hold.id))) == 0


# --- what another agency can reach ---------------------------------------------------------------


def test_staff_of_another_agency_get_404_for_every_bed_action(
    client: CSRFClient, network: SimpleNamespace
) -> None:
    sign_in(client, network.staff)
    hold_beds(client, network, "2A")
    hold = db.session.scalar(select(Hold))
    assert hold is not None
    sign_in(client, network.valley_staff)
    before = event_count()
    sid = network.shelter_id
    for method, url in (
        ("GET", f"/shelters/{sid}/board"),
        ("GET", f"/shelters/{sid}/board.json"),
        ("POST", f"/shelters/{sid}/beds"),
        ("POST", f"/shelters/{sid}/beds/{network.beds['2A']}/check-out"),
        ("POST", f"/shelters/{sid}/holds/{hold.id}/extend"),
        ("POST", f"/shelters/{sid}/holds/{hold.id}/release"),
        ("POST", f"/shelters/{sid}/holds/{hold.id}/check-in"),
        ("POST", f"/shelters/{sid}/confirm"),
    ):
        response = client.open(
            url, method=method, data={"bed_ids": [str(network.beds["1A"])], "action": "hold"}
        )
        assert response.status_code == 404, (method, url)
    # The other agency's bed ids posted to one's own shelter: 404 as well, nothing changes.
    response = client.post(
        f"/shelters/{network.other_id}/beds", data={"bed_ids": [str(network.beds["1A"])], "action": "hold"}
    )
    assert response.status_code == 404
    assert event_count() == before
    assert bed_state(network.beds["1A"]) == BedState.AVAILABLE


def test_roles_decide_who_sees_which_board(client: CSRFClient, network: SimpleNamespace) -> None:
    sign_in(client, network.advocate)
    assert client.get(f"/shelters/{network.shelter_id}/board").status_code == 403
    sign_in(client, network.coordinator)
    assert client.get("/shelters/network").status_code == 403


def test_nothing_another_agency_can_reach_says_where_a_shelter_is(
    client: CSRFClient, other_client: CSRFClient, app: Flask
) -> None:
    """Load the demo network, then walk every page and JSON answer an advocate
    and a staff member of another agency can reach, and look for every demo
    shelter's real name and address."""
    from advocacy.demo import load_demo

    load_demo()
    shelters = list(db.session.scalars(select(Shelter)))
    assert len(shelters) >= 8
    valley = db.session.scalar(select(Agency).where(Agency.slug == "river-valley"))
    assert valley is not None
    advocate = make_user(valley, Role.ADVOCATE)
    staff = make_user(valley, Role.SHELTER_STAFF)
    secrets_by_shelter = {
        s.id: [v for v in (s.name, s.address) if v]
        + [p for p in re.split(r",\s*", s.address or "") if len(p) > 4]
        for s in shelters
    }
    foreign = [s for s in shelters if s.agency_id != valley.id]
    assert foreign
    foreign_secrets = {text for s in foreign for text in secrets_by_shelter[s.id]}

    sign_in(client, advocate)
    sign_in(other_client, staff)
    pages: list[tuple[str, Any]] = []
    for who in (client, other_client):
        for url in (
            "/shelters/network",
            "/shelters/network?fragment=1",
            "/shelters/network.json",
            "/shelters/referrals",
        ):
            pages.append((url, who.get(url, headers={BACKGROUND_HEADER: "1"} if "fragment" in url else {})))
        for s in foreign:
            pages.append((f"request {s.id}", who.get(f"/shelters/network/{s.id}/request")))
    # After a referral too: the advocate's list and the confirmation.
    target = next(r for r in service.network_board() if r.shelter_id in {s.id for s in foreign})
    response = client.post(
        f"/shelters/network/{target.shelter_id}/request", data={"adults": "1", "pets": "0"}
    )
    assert response.status_code == 302
    pages.append(("after referral", client.get(response.headers["Location"])))
    pages.append(("home", client.get("/")))

    for name, response in pages:
        assert response.status_code == 200, name
        body = response.get_data(as_text=True)
        for secret in foreign_secrets:
            assert secret not in body, (name, secret)
        assert not re.search(r"\b(lat|lon|latitude|longitude|address|phone)\b\"?\s*:", body), name


def test_the_expire_holds_command_ends_holds_past_their_time(app: Flask, network: SimpleNamespace) -> None:
    shelter = db.session.get(Shelter, network.shelter_id)
    assert shelter is not None
    service.place_hold(factories.system(shelter.agency_id), shelter, [network.beds["2A"]])
    db.session.execute(update(Hold).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["shelters", "expire-holds"])
    assert result.exit_code == 0, result.output
    assert "1 expired holds ended" in result.output
    assert bed_state(network.beds["2A"]) == BedState.AVAILABLE


def test_children_ages_may_be_typed_with_an_arabic_comma(
    client: CSRFClient, network: SimpleNamespace
) -> None:
    sign_in(client, network.advocate)
    referral = refer(client, network, children_ages="4\u060c 1")
    assert referral.ages == [4, 1]


def test_a_refusal_is_said_in_the_person_s_language(client: CSRFClient, network: SimpleNamespace) -> None:
    sign_in(client, network.staff)
    client.post("/language", data={"language": "es", "next": "/"})
    client.post(f"/shelters/{network.shelter_id}/beds/{network.beds['2A']}/check-out")
    text = board(client, network)
    assert "Nobody is checked in" not in text
    from tests.test_i18n import shown

    msgid = "Nobody is checked in to bed %(bed)s, so there is nothing to check out."
    message = shown("es", msgid)
    assert message != msgid
    assert (message % {"bed": "2A"}).replace("'", "&#39;") in text
