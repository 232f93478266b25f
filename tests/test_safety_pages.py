"""The plan pages as an advocate uses them: write, save, a colleague's save in between, versions, compare."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from advocacy.extensions import db
from advocacy.safety.models import PlanVersion
from tests import factories
from tests.helpers import sign_in, text_of


@pytest.fixture
def people(app: Flask):  # type: ignore[no-untyped-def]
    north = factories.agency("north")
    advocate = factories.user(north)
    colleague = factories.user(north)
    case = factories.case(advocate, "Maple", language="es")
    return north, advocate, colleague, case


def _base(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'name="base" value="(\d+)"', response.get_data(as_text=True))
    assert found
    return found.group(1)


def _save(client, case_id: int, base: str, notes: str, **extra: str):  # type: ignore[no-untyped-def]
    data = {
        "base": base,
        "locale": "es",
        "packs": extra.pop("packs", "general"),
        "s.during_incident.notes.0.text": notes,
        "s.during_incident.safe_places.0.place": "La casa de mi hermana",
        "checked": "phone",
        **extra,
    }
    return client.post(f"/safety-plans/case/{case_id}", data=data)


def test_the_case_page_offers_a_plan_and_then_shows_its_version(client, people) -> None:  # type: ignore[no-untyped-def]
    _north, advocate, _colleague, case = people
    sign_in(client, advocate)
    assert "Write a safety plan" in text_of(client.get(f"/cases/{case.id}"))
    page = client.get(f"/safety-plans/case/{case.id}")
    assert page.status_code == 200
    saved = _save(client, case.id, _base(page), "Salgo por la puerta de atrás")
    assert saved.status_code == 302
    shown = text_of(client.get(f"/cases/{case.id}"))
    assert "Version 1, saved" in shown and "Open the safety plan" in shown
    assert f"by {advocate.display_name}." in shown  # who saved it
    assert "puerta de atrás" not in shown  # the plan's words stay on the plan's own page


def test_the_plan_page_shows_guidance_in_the_victims_language_marked_as_a_draft(client, people) -> None:  # type: ignore[no-untyped-def]
    _north, advocate, _colleague, case = people
    sign_in(client, advocate)
    html = client.get(f"/safety-plans/case/{case.id}").get_data(as_text=True)
    assert 'lang="es"' in html
    assert "Usted conoce su situación mejor que nadie" in html or "situación" in html
    assert "Draft translation, not reviewed" in html
    # The immigrant pack is suggested for a Spanish speaker, and says why.
    assert "Suggested: The person&#39;s language" in html or "Suggested: The person's language" in html


def test_a_pack_without_the_language_is_shown_in_english_and_said_so(client, app: Flask) -> None:
    north = factories.agency("north")
    advocate = factories.user(north)
    case = factories.case(advocate, "Ubah", language="so")
    sign_in(client, advocate)
    page = client.get(f"/safety-plans/case/{case.id}")
    saved = client.post(
        f"/safety-plans/case/{case.id}",
        data={"base": _base(page), "locale": "so", "packs": ["general", "rural"]},
    )
    assert saved.status_code == 302
    html = client.get(f"/safety-plans/case/{case.id}").get_data(as_text=True)
    assert "In English: no translation yet" in html


def test_the_second_save_is_told_shown_the_difference_and_overwrites_nothing(  # type: ignore[no-untyped-def]
    client, other_client, people
) -> None:
    _north, advocate, colleague, case = people
    sign_in(client, advocate)
    first = _save(client, case.id, "0", "Primera versión")
    assert first.status_code == 302
    sign_in(other_client, colleague)
    mine = client.get(f"/safety-plans/case/{case.id}")
    theirs = other_client.get(f"/safety-plans/case/{case.id}")
    assert _base(mine) == _base(theirs) == "1"

    assert _save(other_client, case.id, _base(theirs), "Lo que escribió la colega").status_code == 302
    late = _save(client, case.id, _base(mine), "Lo que escribí yo")

    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "Someone else saved this plan while you were writing" in html
    # Both texts are on the page, the differing words marked, and the form keeps mine.
    assert re.search(r"<del>[^<]*colega</del>", html)
    assert re.search(r"<ins>[^<]*yo</ins>", html)
    assert ">Lo que escribí yo</textarea>" in html
    assert _base(late) == "2"
    assert db.session.scalar(select(func.count(PlanVersion.id))) == 2

    # Saving again, now from version 2, is a deliberate new version: version 2 is kept.
    again = _save(client, case.id, _base(late), "Lo que escribí yo")
    assert again.status_code == 302
    assert db.session.scalar(select(func.count(PlanVersion.id))) == 3


def test_versions_list_and_compare_two_versions_side_by_side(client, people) -> None:  # type: ignore[no-untyped-def]
    _north, advocate, _colleague, case = people
    sign_in(client, advocate)
    _save(client, case.id, "0", "Voy a la tienda de la esquina")
    _save(client, case.id, "1", "Voy a la farmacia de la esquina", checked="money")
    _save(client, case.id, "2", "Voy a la farmacia de la esquina", checked="money")

    listing = text_of(client.get(f"/safety-plans/case/{case.id}/versions"))
    assert "Version" in listing and listing.count("Test advocate") == 3

    compared = client.get(f"/safety-plans/case/{case.id}/compare?a=1&b=2")
    html = compared.get_data(as_text=True)
    assert compared.status_code == 200
    assert "<del>tienda</del>" in html and "<ins>farmacia</ins>" in html
    assert "Changed" in html
    # Ticked items: the phone no longer, the money now.
    assert "Removed" in html and "Added" in html

    same = text_of(client.get(f"/safety-plans/case/{case.id}/compare?a=2&b=3"))
    assert "The two versions say the same." in same


def test_another_agency_sees_no_plan(client, people) -> None:  # type: ignore[no-untyped-def]
    _north, advocate, _colleague, case = people
    sign_in(client, advocate)
    _save(client, case.id, "0", "x")
    south = factories.agency("south")
    stranger = factories.user(south)
    sign_in(client, stranger)
    for url in ("", "/versions", "/compare?a=1&b=1", "/print", "/text"):
        assert client.get(f"/safety-plans/case/{case.id}{url}").status_code == 404, url


def test_a_shelter_name_in_the_plan_is_refused_with_the_field(client, people) -> None:  # type: ignore[no-untyped-def]
    north, advocate, _colleague, case = people
    factories.shelter(north, name="Birch House")
    sign_in(client, advocate)
    refused = _save(client, case.id, "0", "Ir a Birch House")
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "No shelter names in a plan" in html
    assert 'href="#f-during_incident-notes-0-text"' in html
    assert db.session.scalar(select(func.count(PlanVersion.id))) == 0


def test_the_versions_page_costs_the_same_statements_with_three_or_nine_versions(client, people) -> None:  # type: ignore[no-untyped-def]
    from advocacy.safety import service
    from tests.statements import counted

    north, advocate, _colleague, case = people
    sign_in(client, advocate)
    counts = []
    for total in (3, 9):
        while (done := db.session.scalar(select(func.count(PlanVersion.id)))) < total:
            # Each version by another colleague: a page that loads authors one by one costs more.
            author = factories.actor(factories.user(north))
            content = {"sections": {"children": {"notes": [{"text": f"v{done}"}]}}}
            service.save_plan(author, case, base=done, content=content, packs=[], locale="es")
            factories.commit()
        with counted() as statements:
            assert client.get(f"/safety-plans/case/{case.id}/versions").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
