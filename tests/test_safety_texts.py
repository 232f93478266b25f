"""Parts of a plan as SMS pieces: in the victim's language, discreet by default, each within its budget."""

from __future__ import annotations

import pytest
from flask import Flask

from advocacy.auth.models import Role
from advocacy.errors import Refused
from advocacy.extensions import db
from advocacy.i18n import registry
from advocacy.notify.segments import measure
from advocacy.safety import service, texts
from advocacy.safety.models import SafetyPlan
from tests import factories
from tests.helpers import sign_in, text_of


def _plan(locale: str, packs=("general",)) -> SafetyPlan:  # type: ignore[no-untyped-def]
    north = factories.agency("north")
    advocate = factories.user(north)
    admin = factories.user(north, Role.ADMIN)
    case = factories.case(advocate, "Maple", language=locale)
    service.add_local_number(
        factories.actor(admin),
        north.id,
        name="North crisis line",
        number="218-555-0100",
        hours="24 hours",
        languages="English",
    )
    service.save_plan(
        factories.actor(advocate),
        case,
        base=0,
        content={
            "sections": {
                "during_incident": {
                    "notes": [{"text": "Salir por atrás " * 40}],
                    "code_word": [{"word": "mango", "meaning": "call 911"}],
                }
            },
            "checked": ["phone"],
        },
        packs=list(packs),
        locale=locale,
    )
    factories.commit()
    return db.session.query(SafetyPlan).one()


@pytest.mark.parametrize("locale", list(registry()))
def test_every_piece_is_within_its_budget_in_every_locale(app: Flask, locale: str) -> None:
    plan = _plan(locale, packs=("general", "native", "rural"))
    every = texts.parts_offered()
    pieces = texts.plan_texts(plan, every, locale, discreet=False) + texts.plan_texts(
        plan, [texts.NUMBERS], locale
    )
    assert len(pieces) > len(every)
    for piece in pieces:
        assert piece.strip()
        assert measure(piece).segments <= texts.PIECE_SEGMENTS, (locale, measure(piece), piece[:80])


def test_the_numbers_are_texted_discreetly_by_default(app: Flask) -> None:
    plan = _plan("en")
    (piece, *rest) = texts.plan_texts(plan, [texts.NUMBERS], "en")
    body = "\n".join([piece, *rest])
    assert "1-800-799-7233" in body and "text START to 88788" in body
    assert "Violence" not in body and "Hotline" not in body
    assert "Help line: 1-800-799-7233" in body


def test_a_section_needs_the_detailed_style(app: Flask) -> None:
    plan = _plan("en")
    with pytest.raises(Refused):
        texts.plan_texts(plan, ["during_incident"], "en")
    detailed = "\n".join(texts.plan_texts(plan, ["during_incident"], "en", discreet=False))
    assert "During an incident" in detailed and "mango" in detailed


def test_spanish_texts_are_in_spanish(app: Flask) -> None:
    plan = _plan("es")
    body = "\n".join(texts.plan_texts(plan, [texts.NUMBERS], "es"))
    assert "Línea de ayuda" in body or "ayuda" in body.lower()


def test_the_preview_shows_each_piece_with_encoding_and_segments(client, app: Flask) -> None:
    north = factories.agency("north")
    advocate = factories.user(north)
    case = factories.case(advocate, "Maple", language="ar")
    service.save_plan(factories.actor(advocate), case, base=0, content={}, packs=[], locale="ar")
    factories.commit()
    sign_in(client, advocate)
    page = client.get(f"/safety-plans/case/{case.id}/text?parts=important_numbers")
    assert page.status_code == 200
    shown = text_of(page)
    assert "UCS-2" in shown and "characters counted" in shown
    refused = client.get(f"/safety-plans/case/{case.id}/text?parts=children&style=discreet")
    assert refused.status_code == 400


def _preview_notes(client, locale: str, packs: list[str], query: str) -> str:  # type: ignore[no-untyped-def]
    north = factories.agency("north")
    advocate = factories.user(north)
    case = factories.case(advocate, "Maple", language=locale)
    service.save_plan(factories.actor(advocate), case, base=0, content={}, packs=packs, locale=locale)
    factories.commit()
    sign_in(client, advocate)
    page = client.get(f"/safety-plans/case/{case.id}/text?{query}")
    assert page.status_code == 200
    return page.get_data(as_text=True).split("<h2>Preview</h2>", 1)[1].split('<ol class="app-sms-pieces">')[0]


def test_the_preview_tells_the_advocate_what_is_texted_in_english_or_as_a_draft(client, app: Flask) -> None:
    # Somali: the rural pack has no Somali text, the general pack's is a draft, the app's words have none.
    notes = _preview_notes(client, "so", ["general", "rural"], "parts=during_incident&style=detailed")
    assert "No translation yet for parts of: During an incident. They are texted in English." in notes
    assert "The words around the numbers and sections have no translation in this language yet" in notes
    assert "draft translation that nobody has reviewed" in notes


def test_the_preview_of_a_reviewed_text_in_english_has_no_such_note(client, app: Flask) -> None:
    notes = _preview_notes(
        client, "en", ["general", "rural"], "parts=important_numbers&parts=during_incident&style=detailed"
    )
    assert "app-alert" not in notes and "usa-alert" not in notes


def test_the_spanish_numbers_are_a_draft_but_nothing_is_in_english(client, app: Flask) -> None:
    notes = _preview_notes(client, "es", ["general"], "parts=important_numbers")
    assert "draft translation" in notes
    assert "in English" not in notes
