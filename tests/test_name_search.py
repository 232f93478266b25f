"""Finding a person the way advocates remember them: one of their names, a near
spelling, or their phone number.

The name index holds keyed hashes only (``case_name_key``); these tests search
it through the service and through the case list, and check that it follows
every change of the alias and that two agencies' hashes never meet.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy import delete, func, select

from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.intake import service
from advocacy.intake.models import CaseNameKey
from advocacy.intake.names import keys_of, phonetic_keys, tokens
from tests import factories
from tests.helpers import CSRFClient, sign_in, text_of


@pytest.fixture
def north(app: Flask) -> SimpleNamespace:
    agency = factories.agency("north", "North Shore")
    valley = factories.agency("valley", "River Valley")
    return SimpleNamespace(
        agency=agency,
        valley=valley,
        amina=factories.user(agency, Role.ADVOCATE),
        vera=factories.user(valley, Role.ADVOCATE),
    )


def found(who: SimpleNamespace, name: str = "", phone: str = "") -> list[str]:
    page = service.search_cases(factories.actor(who), service.CaseQuery(name=name, phone=phone))
    return [case.alias for case in page.cases]


def listed(response: object) -> list[int]:
    html = response.get_data(as_text=True)  # type: ignore[attr-defined]
    return [int(i) for i in re.findall(r'<th scope="row"><a href="/cases/(\d+)">', html)]


def test_a_name_is_folded_for_case_diacritics_and_punctuation() -> None:
    assert tokens("  María-José O'Brien ") == ["maria", "jose", "obrien"]
    assert tokens("ROSA  M.") == ["rosa", "m"]
    assert tokens("Nguyễn Thị") == ["nguyen", "thi"]
    assert tokens("جميلة") == ["جميلة"]
    assert tokens("Rosa rosa RÓSA") == ["rosa"]
    # An initial has no sound of its own; a name has its Double Metaphone keys.
    assert phonetic_keys("m") == set() and phonetic_keys("rosa") == {"RS"}


def test_rosa_finds_rosa_m_and_each_name_finds_the_person(north: SimpleNamespace) -> None:
    factories.case(north.amina, "Rosa M.")
    factories.case(north.amina, "Hodan Ali Warsame")
    assert found(north.amina, "Rosa") == ["Rosa M."]
    assert found(north.amina, "rosa") == ["Rosa M."]
    for one in ("Hodan", "ali", "WARSAME", "Warsame Hodan"):
        assert found(north.amina, one) == ["Hodan Ali Warsame"], one
    assert found(north.amina, "Grace") == []


def test_exact_spellings_rank_before_near_ones(north: SimpleNamespace, clock: object) -> None:
    factories.case(north.amina, "Rosa M.")
    factories.case(north.amina, "Roza Lind")
    factories.case(north.amina, "Aminah Y.")
    # Newest first would put Roza first: the exact spelling wins.
    assert found(north.amina, "Rosa") == ["Rosa M.", "Roza Lind"]
    assert found(north.amina, "Roza") == ["Roza Lind", "Rosa M."]
    assert found(north.amina, "Amina") == ["Aminah Y."]


def test_each_name_typed_narrows_the_list(north: SimpleNamespace, clock: object) -> None:
    factories.case(north.amina, "Rosa Lind")
    factories.case(north.amina, "Rosa M.")
    assert found(north.amina, "Rosa") == ["Rosa M.", "Rosa Lind"]
    assert found(north.amina, "Lind Rosa") == ["Rosa Lind"]
    assert found(north.amina, "roza lynd") == ["Rosa Lind"]
    assert found(north.amina, "Rosa Pérez") == []


def test_the_index_follows_an_edit_of_the_name(north: SimpleNamespace) -> None:
    case = factories.case(north.amina, "Hodan A.")
    service.update_case(factories.actor(north.amina), case, {"alias": "Mai Xiong"}, section="person")
    factories.commit()
    assert found(north.amina, "Hodan") == []
    assert found(north.amina, "Xiong") == ["Mai Xiong"]
    # Editing another section leaves the index as it was.
    service.update_case(factories.actor(north.amina), case, {"pets": 1}, section="household")
    factories.commit()
    assert found(north.amina, "Mai") == ["Mai Xiong"]


def test_another_agencys_person_of_the_same_name_is_not_found_and_shares_no_hash(
    north: SimpleNamespace,
) -> None:
    ours = factories.case(north.amina, "Rosa M.")
    theirs = factories.case(north.vera, "Rosa M.")
    assert found(north.amina, "Rosa") == ["Rosa M."]
    assert [
        c.id for c in service.search_cases(factories.actor(north.vera), service.CaseQuery(name="Rosa")).cases
    ] == [theirs.id]

    def hashes(case_id: int) -> set[str]:
        return set(db.session.scalars(select(CaseNameKey.key_hash).where(CaseNameKey.case_id == case_id)))

    assert hashes(ours.id) and not hashes(ours.id) & hashes(theirs.id)
    assert {k.key_hash for k in keys_of("Rosa M.", north.agency.id)} == hashes(ours.id)


def test_the_index_holds_no_name(north: SimpleNamespace) -> None:
    case = factories.case(north.amina, "Winona Beaulieu")
    stored = list(db.session.scalars(select(CaseNameKey.key_hash).where(CaseNameKey.case_id == case.id)))
    # Two tokens, each with its own sounds: hex digests, and nothing readable.
    assert len(stored) >= 4
    assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in stored)


def test_the_reindex_command_rebuilds_the_index(app: Flask, north: SimpleNamespace) -> None:
    factories.case(north.amina, "Rosa M.")
    factories.case(north.amina, "Grace Two Bears")
    before = db.session.scalar(select(func.count()).select_from(CaseNameKey))
    db.session.execute(delete(CaseNameKey))
    factories.commit()
    assert found(north.amina, "Grace") == []
    result = app.test_cli_runner().invoke(args=["intake", "reindex-names"])
    assert result.exit_code == 0, result.output
    assert "2 cases indexed" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(CaseNameKey)) == before
    assert found(north.amina, "bears") == ["Grace Two Bears"]


def test_phone_search_finds_the_case_by_its_number_in_any_form(
    client: CSRFClient, north: SimpleNamespace
) -> None:
    wanted = factories.case(north.amina, "Rosa M.", phone="+12185550101")
    factories.case(north.amina, "Hodan A.", phone="+12185550199")
    factories.case(north.vera, "Vera's case", phone="+12185550101")
    assert found(north.amina, phone="+12185550101") == ["Rosa M."]
    sign_in(client, north.amina)
    for typed in ("(218) 555-0101", "218 555 0101", "+1 218 555 0101"):
        response = client.post("/cases/", data={"phone": typed})
        assert listed(response) == [wanted.id], typed
        # The number never goes into a link.
        assert "0101" not in " ".join(re.findall(r'href="([^"]*)"', response.get_data(as_text=True)))
    response = client.post("/cases/", data={"phone": "555"})
    assert response.status_code == 400
    assert "Enter a phone number with its area code" in text_of(response)


def test_the_list_ranks_exact_first_through_the_app(client: CSRFClient, north: SimpleNamespace) -> None:
    rosa = factories.case(north.amina, "Rosa M.")
    roza = factories.case(north.amina, "Roza Lind")
    sign_in(client, north.amina)
    assert listed(client.post("/cases/", data={"name": "Rosa"})) == [rosa.id, roza.id]
    assert listed(client.post("/cases/", data={"name": "roza"})) == [roza.id, rosa.id]
