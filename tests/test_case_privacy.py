"""What must not leak from a case: the rules of the issue, each shown from the outside.

- A name is searched through its blind index: the SQL the search runs filters on
  ``case_name_key.key_hash`` with the HMACs of its tokens and their sounds as
  parameters, and the plaintext name (or a token of it) is in no statement parameter.
- Raw screening answers (and the advocate's reason) appear on the owning
  agency's case page and nowhere else: every other GET page of the app, for
  the agency's own staff and for another agency's, and the hand-off preview
  and its bytes.
- The case list decrypts no contact detail: its SQL selects no phone or code word.
"""

from __future__ import annotations

import html as htmllib
import itertools
import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.handoff import service as handoff
from advocacy.intake import instrument_format, service
from advocacy.intake import instruments as inst
from advocacy.intake.forms import SECTION_FORMS
from advocacy.intake.models import Case
from advocacy.intake.names import query_keys
from advocacy.shelters.service import add_shelter
from tests import factories
from tests.helpers import CSRFClient, make_agency, make_user, sign_in

LETHALITY = "lethality-screen@1"
NAME = "Rosa María Pérez"

#: GET endpoints that are not pages.
NOT_PAGES = {"static", "core.health"}

#: Modules whose pages show an instrument's questions as such (to answer or to
#: manage them), never a person's answers.
INSTRUMENT_PAGES = {"advocacy.intake.instrument_views", "advocacy.intake.wizard"}


@contextmanager
def captured_sql() -> Iterator[list[tuple[str, list[Any]]]]:
    """Every statement the app sends to the database meanwhile, with its parameters."""
    statements: list[tuple[str, list[Any]]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool
    ) -> None:
        rows = parameters if executemany else [parameters]
        values: list[Any] = []
        for row in rows:
            if isinstance(row, dict):
                values.extend(row.values())
            elif row is not None:
                values.extend(row)
        statements.append((statement, values))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


def where_clause(statement: str) -> str:
    """The part of a SELECT that filters (and orders) rows, after its first WHERE."""
    _select, _sep, rest = statement.partition("WHERE")
    return rest


@pytest.fixture
def world(app: Flask) -> SimpleNamespace:
    north = make_agency("north", "North Shore")
    valley = make_agency("valley", "River Valley")
    advocate = make_user(north, Role.ADVOCATE)
    admin = make_user(north, Role.ADMIN)
    outsider = make_user(valley, Role.ADVOCATE)
    system = factories.system(north)
    case = service.open_case(
        system, north.id, advocate.id, NAME, phone="+12185550101", language="es", code_word="bluebird"
    )
    db.session.commit()
    marker = f"MARKER-{secrets.token_hex(6)}"
    instrument = instrument_format.shipped()[LETHALITY]
    answers = {
        q.key: ("yes" if q.key in ("q2", "q5") else "no_answer" if q.key == "q9" else "no")
        for q in instrument.questions
    }
    service.screen_case(
        factories.actor(advocate), case, instrument, answers, judgment_reason=f"Reason {marker}"
    )
    shelter = add_shelter(system, north.id, "Casa Norte", "North 1", "Northeast", address="12 Birch Street")
    db.session.commit()
    draft = service.start_draft(factories.actor(advocate))
    db.session.commit()
    stored = service.latest_screening(case)
    assert stored is not None
    return SimpleNamespace(
        north=north,
        advocate=advocate,
        admin=admin,
        outsider=outsider,
        case_id=case.id,
        marker=marker,
        instrument=instrument,
        answers_json=stored.answers,
        shelter_id=shelter.id,
        draft_id=draft.id,
    )


# --- (a) search uses the lookup column ---------------------------------------------------------


def test_search_uses_the_lookup_column_not_a_plaintext_scan(
    client: CSRFClient, world: SimpleNamespace
) -> None:
    sign_in(client, world.advocate)
    query = "  rosa   MARÍA pérez "
    with captured_sql() as statements:
        response = client.post("/cases/", data={"name": query})
    assert response.status_code == 200
    assert f'href="/cases/{world.case_id}"' in response.get_data(as_text=True)
    expected = set(query_keys(query, [world.north.id]))
    searches = [(sql, params) for sql, params in statements if "FROM case_file" in sql]
    assert searches, "the search ran no query on case_file"
    # The page's rows, whose ids a subquery finds and which bring the count: through the name index.
    assert len(searches) == 1, searches
    for sql, params in searches:
        assert "alias" not in where_clause(sql), sql
        assert "case_name_key.key_hash IN" in where_clause(sql), sql
        assert expected <= set(params)
    # The name people typed is sent to the database in no form at all, nor any of its tokens.
    for _sql, params in statements:
        for value in params:
            if isinstance(value, str):
                for token in ("rosa", "maria", "perez", "pérez"):
                    assert token not in value.casefold(), value


# --- (b) raw answers stay on the case page -----------------------------------------------------


def url_values(app: Flask, world: SimpleNamespace) -> dict[str, list[Any]]:
    return {
        "case_id": [world.case_id],
        "shelter_id": [world.shelter_id],
        "user_id": [world.advocate.id],
        "draft_id": [world.draft_id],
        "step": list(service.STEPS),
        "section": list(SECTION_FORMS),
        "ref": [LETHALITY],
        "partner_id": [1],
    }


def every_get_page(app: Flask, world: SimpleNamespace) -> list[tuple[str, str]]:
    """(endpoint, url) of every GET route, each argument filled with every value it can take.

    A route with an argument named nowhere here would be skipped silently, so
    the intake's and hand-off's routes are required to be covered.
    """
    values = url_values(app, world)
    adapter = app.url_map.bind("localhost")
    pages = []
    skipped = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES:
            continue
        names = sorted(rule.arguments)
        if not set(names) <= values.keys():
            skipped.append(rule.endpoint)
            continue
        for combination in itertools.product(*(values[name] for name in names)):
            pages.append(
                (rule.endpoint, adapter.build(rule.endpoint, dict(zip(names, combination, strict=True))))
            )
    assert not [e for e in skipped if e.split(".")[0] in ("intake", "handoff")], skipped
    return sorted(pages)


def question_texts(instrument: inst.Instrument) -> list[str]:
    return [q.text[lang] for q in instrument.questions for lang in ("en", "es")]


def leaks(page: str, world: SimpleNamespace, *, questions: bool) -> list[str]:
    """What of the screening's raw content a page shows."""
    text = htmllib.unescape(page)
    found = [needle for needle in (world.marker, world.answers_json) if needle in text]
    if questions:
        found += [q for q in question_texts(world.instrument) if q in text]
    else:
        # A page that asks the questions shows none answered.
        found += re.findall(r'name="answer_[^"]+"[^>]*checked', page)
    return found


def test_the_sweep_would_see_the_answers(client: CSRFClient, world: SimpleNamespace) -> None:
    """The case page itself shows them: the checks below can fail."""
    sign_in(client, world.advocate)
    page = client.get(f"/cases/{world.case_id}").get_data(as_text=True)
    found = leaks(page, world, questions=True)
    assert world.marker in found
    assert world.instrument.questions[1].text["en"] in found


@pytest.mark.parametrize("who", ["advocate", "admin", "outsider"])
def test_raw_answers_are_on_no_other_page(
    app: Flask, client: CSRFClient, world: SimpleNamespace, who: str
) -> None:
    sign_in(client, getattr(world, who))
    problems = []
    for endpoint, url in every_get_page(app, world):
        if endpoint == "intake.detail" and who != "outsider":
            continue
        response = client.get(url)
        assert response.status_code < 500, f"{url}: {response.status_code}"
        module = app.view_functions[endpoint].__module__
        questions_allowed = module in INSTRUMENT_PAGES or endpoint == "intake.case_screen"
        found = leaks(response.get_data(as_text=True), world, questions=not questions_allowed)
        if found:
            problems.append((url, found[:3]))
    assert problems == []
    # Still signed in after the sweep, so no page was swept signed out.
    assert client.get("/cases/").status_code == 200
    if who == "outsider":
        for url in (f"/cases/{world.case_id}", f"/handoff/cases/{world.case_id}/preview"):
            assert client.get(url).status_code == 404


def test_the_handoff_preview_and_its_bytes_carry_the_result_only(
    client: CSRFClient, world: SimpleNamespace
) -> None:
    case = db.session.get(Case, world.case_id)
    assert case is not None
    record = handoff.risk_result_record(case)
    assert record is not None
    data = handoff.preview_bytes(record)
    assert json.loads(data) == {
        "schema_version": handoff.SCHEMA_VERSION,
        "event_type": "risk_screen_result",
        "screened_in": True,
        "instrument": LETHALITY,
        "level": "high_danger",
        "date": case.last_screened_at.date().isoformat(),  # type: ignore[union-attr]
    }
    text = data.decode("utf-8")
    # Exactly those fields (above), so nothing else about the case is in the bytes.
    for secret in (world.marker, NAME, "+12185550101", "bluebird", "Casa Norte"):
        assert secret not in text
    assert not leaks(text, world, questions=True)
    # Canonical: sorted keys, no spaces, UTF-8.
    assert data == json.dumps(json.loads(data), sort_keys=True, separators=(",", ":")).encode()
    sign_in(client, world.advocate)
    page = client.get(f"/handoff/cases/{world.case_id}/preview")
    assert page.status_code == 200
    body = htmllib.unescape(page.get_data(as_text=True))
    assert f'<pre class="app-handoff-bytes">{text}</pre>' in body
    assert "Nothing has been sent" in body and "written" in body


def test_an_unscreened_case_has_nothing_to_preview(client: CSRFClient, world: SimpleNamespace) -> None:
    case = service.open_case(factories.system(world.north), world.north.id, world.advocate.id, "Hodan A.")
    db.session.commit()
    assert handoff.risk_result_record(case) is None
    sign_in(client, world.advocate)
    page = client.get(f"/handoff/cases/{case.id}/preview")
    assert page.status_code == 200
    assert "<pre" not in page.get_data(as_text=True)


def test_a_record_with_a_field_outside_the_allowlist_never_becomes_bytes() -> None:
    record = {"schema_version": 1, "event_type": "risk_screen_result", "screened_in": True, "answers": {}}
    with pytest.raises(handoff.NotAllowed):
        handoff.preview_bytes(record)
    with pytest.raises(handoff.NotAllowed):
        handoff.preview_bytes({"event_type": "gossip"})


# --- (c) the list decrypts no contact detail ---------------------------------------------------


def test_the_case_list_selects_no_phone_or_code_word(client: CSRFClient, world: SimpleNamespace) -> None:
    sign_in(client, world.advocate)
    with captured_sql() as statements:
        response = client.get("/cases/")
    assert response.status_code == 200
    assert f'href="/cases/{world.case_id}"' in response.get_data(as_text=True)
    listing = [sql for sql, _params in statements if "FROM case_file" in sql]
    assert listing
    for sql in listing:
        assert not re.search(r"case_file\.(phone|code_word|contact_note)\b", sql), sql
    # The page itself (a check that the SQL check is about the right page).
    assert "bluebird" not in response.get_data(as_text=True)
    # Whereas the case page does read them.
    with captured_sql() as statements:
        client.get(f"/cases/{world.case_id}")
    assert any(re.search(r"case_file\.code_word\b", sql) for sql, _params in statements)
