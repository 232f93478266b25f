"""The guided intake through the app: steps, drafts, autosave, timeout, the bed at the end."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from advocacy.audit.models import AuditEvent
from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.intake import service
from advocacy.intake.models import Case, IntakeDraft, Placement, ProtocolStep, RiskScreening
from advocacy.security import BACKGROUND_HEADER, LAST_SEEN_KEY
from advocacy.shelters import service as shelters
from advocacy.shelters.models import BedType, Referral, RoomType, Shelter
from advocacy.types import lookup_hash
from tests import factories
from tests.helpers import CSRFClient, login, make_agency, make_user, sign_in, text_of

PERSON = {"alias": "Amina Test", "language": "so", "referral_source": "police", "interpreter_needed": "y"}
CONTACT = {
    "phone": "(218) 555-0199",
    "safe_to_text": "y",
    "code_word": "blue kettle",
    "contact_note": "after 6 pm",
}
HOUSEHOLD = {"adults": "1", "children_ages": "3, 9", "oldest_boy_age": "9", "pets": "0"}
NEEDS = {"access_needs": ["wheelchair", "medical"], "access_note": "insulin", "cultural_program": ""}
ALL_NO = {f"answer_q{i}": "no" for i in range(1, 12)}
SCREEN = {"instrument": "lethality-screen@1", **ALL_NO}
CONSENT = {"consent_sms": "y"}


@pytest.fixture
def place(app: Flask) -> SimpleNamespace:
    north = make_agency("north", "North Shore")
    valley = make_agency("valley", "River Valley")
    setup = factories.system(valley)
    shelter = shelters.add_shelter(
        setup, valley.id, "Cedar Haven", "RV-1", "River Valley", address="9 Placeholder Rd"
    )
    shelters.add_room(
        setup,
        shelter,
        "Room 1",
        room_type=RoomType.FAMILY,
        accessible=True,
        beds=[("1A", BedType.ADULT), ("1B", BedType.CHILD), ("1C", BedType.CHILD)],
    )
    db.session.commit()
    return SimpleNamespace(
        north=north,
        valley=valley,
        shelter_id=shelter.id,
        advocate=make_user(north, Role.ADVOCATE),
        colleague=make_user(north, Role.ADVOCATE),
        stranger=make_user(valley, Role.ADVOCATE),
    )


def start(client: CSRFClient) -> int:
    response = client.post("/cases/new")
    assert response.status_code == 302
    draft_id = int(response.headers["Location"].split("/")[3])
    assert response.headers["Location"].endswith(f"/cases/intake/{draft_id}/person")
    return draft_id


def post_step(
    client: CSRFClient, draft_id: int, step: str, data: dict[str, Any], action: str = "next"
) -> Any:
    return client.post(f"/cases/intake/{draft_id}/{step}", data={**data, "action": action})


def draft(draft_id: int) -> IntakeDraft | None:
    db.session.expire_all()
    return db.session.get(IntakeDraft, draft_id)


def stored(draft_id: int, step: str) -> dict[str, Any]:
    row = draft(draft_id)
    assert row is not None
    return service.step_values(row, step)


def walk(
    client: CSRFClient,
    screen: dict[str, Any] | None = None,
    upto: str = "placement",
    *,
    draft_id: int | None = None,
) -> int:
    draft_id = draft_id if draft_id is not None else start(client)
    for step, data in (
        ("person", PERSON),
        ("contact", CONTACT),
        ("household", HOUSEHOLD),
        ("needs", NEEDS),
        ("screen", screen or SCREEN),
        ("consent", CONSENT),
    ):
        if step == upto:
            break
        response = post_step(client, draft_id, step, data)
        assert response.status_code == 302, (step, text_of(response)[:1500])
    return draft_id


def audited(case_id: int, action: str) -> int:
    return (
        db.session.scalar(
            select(func.count()).where(AuditEvent.action == action, AuditEvent.object_id == str(case_id))
        )
        or 0
    )


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_a_get_creates_nothing_and_a_post_starts_a_draft(client: CSRFClient, place: SimpleNamespace) -> None:
    sign_in(client, place.advocate)
    page = client.get("/cases/new")
    assert page.status_code == 200
    assert count(IntakeDraft) == 0
    draft_id = start(client)
    page = client.get(f"/cases/intake/{draft_id}/person")
    assert page.status_code == 200
    text = text_of(page)
    assert "Step 1 of 7" in text
    for title in ("The person", "Safe contact", "Household", "Needs", "Risk screen", "Choices", "Bed"):
        assert title in text


def test_the_whole_intake_opens_a_case_with_its_screen_and_no_bed(
    client: CSRFClient, place: SimpleNamespace
) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client)
    page = client.get(f"/cases/intake/{draft_id}/placement")
    assert "Cedar Haven" not in page.get_data(as_text=True)  # the network shows labels only
    assert "RV-1" in text_of(page)
    response = post_step(client, draft_id, "placement", {"bed": "no_bed_needed"})
    assert response.status_code == 302
    case = db.session.scalars(select(Case)).one()
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    assert draft(draft_id) is None
    assert (case.alias, case.language, case.referral_source, case.interpreter_needed) == (
        "Amina Test",
        "so",
        "police",
        True,
    )
    assert (case.phone, case.safe_to_text, case.safe_to_call, case.code_word) == (
        "+12185550199",
        True,
        False,
        "blue kettle",
    )
    assert (case.adults, case.ages, case.oldest_boy_age, case.pets) == (1, [3, 9], 9, 0)
    assert case.needs[0].value == "wheelchair" and case.access_note == "insulin"
    assert case.consent_sms and not case.consent_share
    assert case.owner_id == place.advocate.id and case.agency_id == place.north.id
    assert case.danger == "standard"
    assert case.name_hash == lookup_hash("  amina   TEST ", service.NAME_PURPOSE)
    screening = db.session.scalars(select(RiskScreening)).one()
    assert not screening.screened_in and json.loads(screening.answers) == {
        f"q{i}": "no" for i in range(1, 12)
    }
    (placement,) = db.session.scalars(select(Placement)).all()
    assert placement.kind == "no_bed_needed"
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"intake.started", "intake.viewed", "intake.saved", "intake.finished"} <= actions
    assert {"case.created", "case.screened"} <= actions
    assert "case.placement.no_bed_needed" in actions


def test_a_screened_in_intake_shows_the_protocol_and_asks_a_priority_bed(
    client: CSRFClient, place: SimpleNamespace
) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client, screen={**SCREEN, "answer_q2": "yes"})
    page = client.get(f"/cases/intake/{draft_id}/placement")
    text = text_of(page)
    assert "High danger" in text and "Connect them with the hotline advocate now" in text
    assert re.search(r'<input checked[^>]*name="priority"', page.get_data(as_text=True))
    response = post_step(
        client, draft_id, "placement", {"bed": f"shelter-{place.shelter_id}", "priority": "y"}
    )
    assert response.status_code == 302
    case = db.session.scalars(select(Case)).one()
    assert case.danger == "high"
    referral = db.session.scalars(select(Referral)).one()
    assert referral.priority and referral.from_agency_id == place.north.id
    # The referral carries numbers and ages only; the case is linked on the referring side.
    assert (referral.adults, referral.ages, referral.oldest_boy_age, referral.needs_accessible) == (
        1,
        [3, 9],
        9,
        True,
    )
    assert db.session.scalars(select(Placement)).one().referral_id == referral.id
    steps = {s.step: s for s in db.session.scalars(select(ProtocolStep))}
    assert set(steps) == {"hotline", "priority_placement", "denser_reminders", "offer_share"}
    assert steps["priority_placement"].done_at is not None and steps["hotline"].done_at is None
    # The shelter's staff see "Priority" and the numbers; never the case, the screen or the name.
    sign_in(client, make_user(place.valley, Role.SHELTER_STAFF))
    board = text_of(client.get(f"/shelters/{place.shelter_id}/board"))
    assert f"{referral.token} Priority" in board
    for private in ("Amina", "High danger", "lethality", "blue kettle", case.number):
        assert private not in board


def test_a_shelter_full_since_the_page_was_drawn_is_an_error_and_nothing_opens(
    client: CSRFClient, place: SimpleNamespace
) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client)
    client.get(f"/cases/intake/{draft_id}/placement")
    shelters.request_referral(
        factories.actor(place.stranger),
        place.shelter_id,
        shelters.Household(adults=1),
        from_agency_id=place.valley.id,
    )
    db.session.commit()
    response = post_step(client, draft_id, "placement", {"bed": f"shelter-{place.shelter_id}"})
    assert response.status_code == 400
    assert "This shelter has no open beds for this household any more" in text_of(response)
    assert count(Case) == 0 and draft(draft_id) is not None


def test_a_bed_taken_in_the_last_moment_keeps_the_case_and_offers_another_choice(
    client: CSRFClient, place: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client)
    client.get(f"/cases/intake/{draft_id}/placement")
    # The form still offers the shelter (it was checked a moment before)...
    offered = shelters.fitting_shelters(service.draft_household(draft(draft_id)), None)  # type: ignore[arg-type]
    monkeypatch.setattr("advocacy.intake.wizard.fitting_shelters", lambda *args: offered)
    # ...but another agency's request takes the family room first.
    shelters.request_referral(
        factories.actor(place.stranger),
        place.shelter_id,
        shelters.Household(adults=1),
        from_agency_id=place.valley.id,
    )
    db.session.commit()
    response = post_step(client, draft_id, "placement", {"bed": f"shelter-{place.shelter_id}"})
    assert response.status_code == 302
    case = db.session.scalars(select(Case)).one()
    assert response.headers["Location"].endswith(f"/cases/{case.id}/bed")
    assert draft(draft_id) is None
    assert count(Placement) == 0 and count(Referral) == 1
    monkeypatch.undo()
    page = client.get(response.headers["Location"])
    assert "The bed was not held" in text_of(page)
    assert "No shelter of the network has open beds that fit this household" in text_of(page)
    response = client.post(f"/cases/{case.id}/bed", data={"bed": "later"})
    assert response.status_code == 302
    assert db.session.scalars(select(Placement)).one().kind == "later"


def test_bad_input_is_shown_next_to_its_field_and_the_draft_keeps_the_rest(
    client: CSRFClient, place: SimpleNamespace
) -> None:
    sign_in(client, place.advocate)
    draft_id = start(client)
    response = post_step(client, draft_id, "person", {**PERSON, "language": "not a tag!"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="language-error-1"' in html and "Choose a language from the list" in html
    assert stored(draft_id, "person")["alias"] == "Amina Test"
    assert "language" not in stored(draft_id, "person")
    # "Other" takes any valid BCP 47 tag, and only a valid one.
    response = post_step(
        client, draft_id, "person", {**PERSON, "language": "other", "language_other": "not a tag!"}
    )
    assert response.status_code == 400
    assert 'id="language_other-error-1"' in response.get_data(as_text=True)
    assert "language" not in stored(draft_id, "person")
    assert "person" not in service.steps_done(draft(draft_id))  # type: ignore[arg-type]

    response = post_step(client, draft_id, "household", {**HOUSEHOLD, "children_ages": "3, 40", "pets": "2"})
    assert response.status_code == 400
    assert "Children's ages are from 0 to 17." in text_of(response)
    assert stored(draft_id, "household")["pets"] == 2
    assert "children_ages" not in stored(draft_id, "household")

    response = post_step(client, draft_id, "contact", {"safe_to_text": "y"})
    assert response.status_code == 400
    assert "Enter the number, or untick" in text_of(response)

    response = post_step(client, draft_id, "screen", {**SCREEN, "answer_q5": "", "judgment": "y"})
    assert response.status_code == 400
    text = text_of(response)
    assert "Choose an answer" in text and "Say why" in text
    assert stored(draft_id, "screen")["answers"]["q4"] == "no"


def test_bad_input_is_translated(client: CSRFClient, place: SimpleNamespace) -> None:
    sign_in(client, place.advocate)
    client.post("/language", data={"language": "es"})
    draft_id = start(client)
    response = post_step(client, draft_id, "household", {**HOUSEHOLD, "adults": "0"})
    assert response.status_code == 400
    assert "Enter a number from 1 to 12." not in text_of(response)


def test_the_case_cannot_open_before_every_step_is_answered(
    client: CSRFClient, place: SimpleNamespace
) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client, upto="household")
    client.post(f"/cases/intake/{draft_id}/consent", data={**CONSENT, "action": "next"})
    response = post_step(client, draft_id, "placement", {"bed": "later"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/intake/{draft_id}/household")
    assert count(Case) == 0 and draft(draft_id) is not None


def test_judgment_screens_in_only_with_its_box_ticked_and_a_reason(
    client: CSRFClient, place: SimpleNamespace
) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client, screen={**SCREEN, "judgment_reason": "typed, box not ticked"})
    assert "High danger" not in text_of(client.get(f"/cases/intake/{draft_id}/placement"))
    post_step(client, draft_id, "placement", {"bed": "later"})
    assert db.session.scalars(select(Case)).one().danger == "standard"

    draft_id = walk(client, screen={**SCREEN, "judgment": "y", "judgment_reason": "he has said it before"})
    assert "Screened in by the advocate's judgment." in text_of(
        client.get(f"/cases/intake/{draft_id}/placement")
    )
    post_step(client, draft_id, "placement", {"bed": "later"})
    case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
    screening = db.session.scalars(select(RiskScreening).where(RiskScreening.case_id == case.id)).one()
    assert (case.danger, screening.by_judgment, screening.judgment_reason) == (
        "high",
        True,
        "he has said it before",
    )


def test_screen_later_opens_an_unscreened_case(client: CSRFClient, place: SimpleNamespace) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client, screen={"instrument": ""})
    post_step(client, draft_id, "placement", {"bed": "later"})
    case = db.session.scalars(select(Case)).one()
    assert case.danger == "unscreened" and count(RiskScreening) == 0


def test_choosing_an_instrument_shows_its_questions_without_errors(
    client: CSRFClient, place: SimpleNamespace
) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client, upto="screen")
    post_step(client, draft_id, "screen", {"instrument": ""})
    response = post_step(client, draft_id, "screen", {"instrument": "lethality-screen@1"}, action="choose")
    assert response.status_code == 200
    text = text_of(response)
    assert "Has your partner ever tried to choke or strangle you?" in text
    assert "Choose an answer" not in text


def test_questions_show_in_the_persons_language_too(client: CSRFClient, place: SimpleNamespace) -> None:
    sign_in(client, place.advocate)
    draft_id = start(client)
    post_step(client, draft_id, "person", {**PERSON, "language": "other", "language_other": "es-MX"})
    html = client.get(f"/cases/intake/{draft_id}/screen").get_data(as_text=True)
    assert "Has your partner threatened to kill you or your children?" in html
    assert '<span lang="es" dir="auto">¿Su pareja ha amenazado con matarla/matarlo' in html


def test_autosave_keeps_valid_fields_and_does_not_count_as_activity(
    client: CSRFClient, place: SimpleNamespace
) -> None:
    sign_in(client, place.advocate)
    draft_id = start(client)
    with client.session_transaction() as sess:
        sess[LAST_SEEN_KEY] = seen = time.time() - 60
    response = client.post(
        f"/cases/intake/{draft_id}/autosave",
        data={"step": "contact", "phone": "555", "code_word": "kettle", "safe_to_call": "y"},
        headers={BACKGROUND_HEADER: "1", "Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json["unsaved"] == ["phone"]
    assert stored(draft_id, "contact")["code_word"] == "kettle"
    assert "contact" not in service.steps_done(draft(draft_id))  # type: ignore[arg-type]
    with client.session_transaction() as sess:
        assert sess[LAST_SEEN_KEY] == seen
    assert "intake.autosaved" in set(db.session.scalars(select(AuditEvent.action)))


def test_a_draft_survives_a_forced_session_timeout(
    client: CSRFClient, place: SimpleNamespace, app: Flask
) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client, upto="household")
    # The page's script saves what is typed just before the deadline...
    client.post(
        f"/cases/intake/{draft_id}/autosave",
        data={"step": "household", "adults": "2", "children_ages": "4", "pets": "1", "pets_note": "old cat"},
        headers={BACKGROUND_HEADER: "1"},
    )
    # ...and then the session times out.
    with client.session_transaction() as sess:
        sess[LAST_SEEN_KEY] = time.time() - app.config["SETTINGS"].idle_timeout_seconds - 5
    response = client.get(f"/cases/intake/{draft_id}/household")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    # A late post of the step does not get through, and changes nothing.
    response = post_step(client, draft_id, "household", {**HOUSEHOLD, "pets_note": "lost"})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]

    login(client, place.advocate)
    listing = text_of(client.get("/cases/new"))
    assert "Unfinished intakes" in listing
    page = client.get(f"/cases/intake/{draft_id}")
    assert page.headers["Location"].endswith(f"/cases/intake/{draft_id}/household")
    html = client.get(f"/cases/intake/{draft_id}/household").get_data(as_text=True)
    assert 'value="old cat"' in html
    assert re.search(r'<input[^>]*id="adults"[^>]*value="2"', html)
    assert stored(draft_id, "person")["alias"] == "Amina Test"


def test_a_colleague_can_finish_a_draft_and_another_agency_cannot_see_it(
    client: CSRFClient, place: SimpleNamespace
) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client, upto="placement")
    sign_in(client, place.colleague)
    assert client.get(f"/cases/intake/{draft_id}/placement").status_code == 200
    sign_in(client, place.stranger)
    for url in (f"/cases/intake/{draft_id}", f"/cases/intake/{draft_id}/person"):
        assert client.get(url).status_code == 404
    assert post_step(client, draft_id, "person", PERSON).status_code == 404
    assert client.post(f"/cases/intake/{draft_id}/autosave", data={"step": "person"}).status_code == 404
    assert client.post(f"/cases/intake/{draft_id}/discard").status_code == 404
    assert "Amina" not in text_of(client.get("/cases/new"))
    assert draft(draft_id) is not None


def test_a_draft_can_be_deleted(client: CSRFClient, place: SimpleNamespace) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client, upto="contact")
    response = client.post(f"/cases/intake/{draft_id}/discard")
    assert response.status_code == 302
    assert draft(draft_id) is None
    assert "intake.discarded" in set(db.session.scalars(select(AuditEvent.action)))


def test_unknown_steps_and_shelter_staff_are_refused(client: CSRFClient, place: SimpleNamespace) -> None:
    sign_in(client, place.advocate)
    draft_id = start(client)
    assert client.get(f"/cases/intake/{draft_id}/nope").status_code == 404
    assert client.post(f"/cases/intake/{draft_id}/autosave", data={"step": "nope"}).status_code == 400
    staff = make_user(place.north, Role.SHELTER_STAFF)
    sign_in(client, staff)
    assert client.get("/cases/new").status_code == 403
    assert client.get(f"/cases/intake/{draft_id}/person").status_code == 403


def test_a_personal_field_is_never_stored_in_clear(client: CSRFClient, place: SimpleNamespace) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client)
    raw = db.session.execute(text("SELECT data FROM intake_draft")).scalar_one()
    assert "Amina" not in raw and "kettle" not in raw
    post_step(client, draft_id, "placement", {"bed": "later"})
    row = db.session.execute(text("SELECT * FROM case_file")).mappings().one()
    dumped = json.dumps({k: str(v) for k, v in row.items()})
    for secret in ("Amina", "kettle", "5550199", "insulin", "after 6 pm"):
        assert secret not in dumped


def test_an_intake_untouched_for_30_days_is_deleted(
    client: CSRFClient, place: SimpleNamespace, app: Flask
) -> None:
    sign_in(client, place.advocate)
    old_id = walk(client, upto="household")
    recent_id = walk(client, upto="contact")
    old = draft(old_id)
    assert old is not None
    old.updated_at = old.updated_at - timedelta(days=30, minutes=1)
    db.session.commit()
    assert "deleted after 30 days without a change" in text_of(client.get("/cases/"))
    result = app.test_cli_runner().invoke(args=["intake", "purge-drafts"])
    assert result.exit_code == 0 and "1 unfinished intakes deleted" in result.output
    assert draft(old_id) is None and draft(recent_id) is not None
    expired = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "intake.expired")).one()
    assert (expired.object_id, expired.agency_id) == (str(old_id), place.north.id)


def test_a_double_click_on_open_the_case_opens_one_case(client: CSRFClient, place: SimpleNamespace) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client)
    first = post_step(client, draft_id, "placement", {"bed": "later"})
    second = post_step(client, draft_id, "placement", {"bed": "later"})
    assert first.status_code == 302 and second.status_code == 404  # the draft is gone: nothing more happens
    assert count(Case) == 1


def test_a_step_saved_after_a_colleague_finished_the_draft_says_so(
    client: CSRFClient, place: SimpleNamespace, app: Flask
) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client)
    row = draft(draft_id)
    assert row is not None
    # Another request deletes the row after this one has read it.
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM intake_draft WHERE id = :id"), {"id": draft_id})
    with pytest.raises(service.AlreadyFinished):
        service.save_step(
            factories.actor(place.advocate), row, "consent", {"consent_sms": True}, complete=True
        )
    db.session.rollback()
    with pytest.raises(service.AlreadyFinished):
        service.finish_draft(factories.actor(place.advocate), row)
    assert count(Case) == 0


def test_a_case_holds_beds_once_until_the_shelter_answers(client: CSRFClient, place: SimpleNamespace) -> None:
    shelter = db.session.get(Shelter, place.shelter_id)
    shelters.add_room(
        factories.system(place.valley),
        shelter,
        "Room 2",
        room_type=RoomType.FAMILY,
        accessible=True,
        beds=[(f"2{x}", BedType.ADULT) for x in "ABC"],
    )
    db.session.commit()
    sign_in(client, place.advocate)
    draft_id = walk(client)
    post_step(client, draft_id, "placement", {"bed": "later"})
    case = db.session.scalars(select(Case)).one()
    # A double click on "Save" with a shelter chosen: the second is refused and holds nothing.
    first = client.post(f"/cases/{case.id}/bed", data={"bed": f"shelter-{place.shelter_id}"})
    assert first.headers["Location"].endswith(f"/cases/{case.id}")
    referral = db.session.scalars(select(Referral)).one()
    views_before = audited(case.id, "case.view")
    second = client.post(f"/cases/{case.id}/bed", data={"bed": f"shelter-{place.shelter_id}"})
    assert second.status_code == 409
    page = text_of(second)
    assert audited(case.id, "case.view") == views_before + 1  # the page shows the case: a view
    assert "Beds are already held for this case. Cancel that referral before asking again." in page
    assert count(Referral) == 1
    # "Find a bed" shows the waiting referral with its cancel button, not the form.
    page = text_of(client.get(f"/cases/{case.id}/bed"))
    assert f"Referral {referral.token} at RV-1" in page and "Waiting for the shelter" in page
    assert f"Cancel referral {referral.token}" in page
    assert "Where can they stay?" not in page
    assert count(Placement) == 2  # "later", then the referral
    # Once the shelter declines, another shelter can be asked.
    sign_in(client, make_user(place.valley, Role.SHELTER_STAFF))
    client.post(f"/shelters/{place.shelter_id}/referrals/{referral.id}/decline", data={"reason": "not_a_fit"})
    db.session.expire_all()
    assert service.active_referral(case.id) is None


@pytest.mark.parametrize("where", ["case", "bed"])
def test_a_waiting_referral_is_cancelled_from_the_case_page_or_find_a_bed(
    client: CSRFClient, place: SimpleNamespace, where: str
) -> None:
    sign_in(client, place.advocate)
    draft_id = walk(client)
    post_step(client, draft_id, "placement", {"bed": "later"})
    case = db.session.scalars(select(Case)).one()
    client.post(f"/cases/{case.id}/bed", data={"bed": f"shelter-{place.shelter_id}"})
    referral = db.session.scalars(select(Referral)).one()
    page = text_of(client.get(f"/cases/{case.id}" if where == "case" else f"/cases/{case.id}/bed"))
    assert f"Cancel referral {referral.token}" in page
    response = client.post(
        f"/cases/{case.id}/referrals/{referral.id}/cancel", data={"next": "bed"} if where == "bed" else {}
    )
    assert response.headers["Location"].endswith(
        f"/cases/{case.id}/bed" if where == "bed" else f"/cases/{case.id}#bed"
    )
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "cancelled"  # type: ignore[union-attr]
    assert service.active_referral(case.id) is None
    assert audited(case.id, "case.placement.cancelled") == 1
    page = text_of(client.get(f"/cases/{case.id}/bed"))
    assert f"Referral {referral.token} is cancelled and its beds are free for others." in page
    assert "Where can they stay?" in page  # the form is back
    # Cancelling again says what became of it; nothing changes.
    client.post(f"/cases/{case.id}/referrals/{referral.id}/cancel")
    assert f"Referral {referral.token} was already cancelled." in text_of(client.get(f"/cases/{case.id}"))
    assert audited(case.id, "case.placement.cancelled") == 1


def test_another_case_s_referral_is_not_found_from_this_case(
    client: CSRFClient, place: SimpleNamespace
) -> None:
    sign_in(client, place.advocate)
    for _n in range(2):
        post_step(client, walk(client), "placement", {"bed": "later"})
    first, second = db.session.scalars(select(Case).order_by(Case.id)).all()
    client.post(f"/cases/{first.id}/bed", data={"bed": f"shelter-{place.shelter_id}"})
    referral = db.session.scalars(select(Referral)).one()
    assert client.post(f"/cases/{second.id}/referrals/{referral.id}/cancel").status_code == 404
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "pending"  # type: ignore[union-attr]


def test_intake_and_referral_read_childrens_ages_the_same_way(app: Flask) -> None:
    from wtforms.validators import ValidationError

    from advocacy.shelters.forms import children_ages

    for typed in ("3, 7", "3 7", "3;7", "٣، ٧", " 3 ,  7 "):
        assert children_ages(typed) == (3, 7), typed
    assert children_ages("") == ()
    for typed, message in (("3, x", "whole years"), ("3, 18", "from 0 to 17"), ("1 " * 13, "at most 12")):
        with pytest.raises(ValidationError, match=message):
            children_ages(typed)


def test_the_preferred_language_is_a_list_by_own_and_english_names_with_the_apps_eight_first(
    client: CSRFClient, place: SimpleNamespace
) -> None:
    sign_in(client, place.advocate)
    draft_id = start(client)
    html = client.get(f"/cases/intake/{draft_id}/person").get_data(as_text=True)
    select = html.split('id="language"', 1)[1].split("</select>", 1)[0]
    values = re.findall(r'<option[^>]*value="([^"]+)"', select)
    assert values[:8] == ["en", "es", "so", "hmn", "ksw", "om", "oj", "ar"]
    assert values[-1] == "other" and len(values) > 300
    assert "Tiếng Việt (Vietnamese)" in select and "Deutsch (German)" in select
    assert 'class="usa-combo-box"' in html
    # A tag CLDR does not list is chosen as Other, and shown again as Other with its tag.
    post_step(client, draft_id, "person", {**PERSON, "language": "other", "language_other": "sgn-us"})
    assert stored(draft_id, "person")["language"] == "sgn-US"
    html = client.get(f"/cases/intake/{draft_id}/person").get_data(as_text=True)
    assert re.search(r'<option selected value="other">|<option value="other" selected>', html)
    assert 'value="sgn-US"' in html
    post_step(client, draft_id, "person", {**PERSON, "language": "vi"})
    assert stored(draft_id, "person")["language"] == "vi"


def test_the_language_file_is_what_cldr_gives() -> None:
    """``advocacy/intake/languages.json`` is written from Babel's CLDR data; a Babel upgrade rewrites it."""
    import json

    from advocacy.intake.languages import DATA_FILE, cldr_languages

    assert json.loads(DATA_FILE.read_text(encoding="utf-8")) == cldr_languages(), (
        "run: .venv/bin/python -m advocacy.intake.languages"
    )
