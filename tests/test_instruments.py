"""Risk instruments as data: the lethality screen's rule, files refused with a
precise message, an agency's own weighted instrument, and the pages.

The shipped lethality screen screens in on "yes" to any of questions 1-3, or
to at least 4 of questions 4-11, or by the advocate's judgment.  Every
boundary of that rule is checked both in the scorer and through
``service.screen_case``, which is what sets the case's danger and opens the
high-danger protocol.  The weighted example in ``fixtures/instruments`` is
invented (no licensed weights are copied) and is read by score.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import combinations, product
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, g
from flask_babel import force_locale
from sqlalchemy import func, select

from advocacy.audit.models import AuditEvent
from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.intake import instrument_format, service
from advocacy.intake import instruments as inst
from advocacy.intake.instrument_format import InstrumentError
from advocacy.intake.instruments import NO, NO_ANSWER, YES
from advocacy.intake.models import Case, ProtocolStep, ProtocolStepKey, RiskInstrument
from tests import factories
from tests.helpers import CSRFClient, login, make_agency, make_user, text_of
from tests.test_i18n import choose, html_lang, shown

FIXTURES = Path(__file__).parent / "fixtures" / "instruments"
WEIGHTED_FILE = FIXTURES / "weighted-example.json"
LETHALITY_FILE = instrument_format.SHIPPED_DIR / "lethality-screen.json"
LETHALITY = "lethality-screen@1"
WEIGHTED = "weighted-example@2024.1"
FIRST = ("q1", "q2", "q3")
REST = tuple(f"q{n}" for n in range(4, 12))
ALL_STEPS = sorted(step.value for step in ProtocolStepKey)


def lethality() -> inst.Instrument:
    return instrument_format.shipped()[LETHALITY]


def answers(yes: Iterable[str] = (), otherwise: str = NO) -> dict[str, str]:
    """Every question of the lethality screen answered: ``yes`` ones yes, the others ``otherwise``."""
    chosen = set(yes)
    return {f"q{n}": YES if f"q{n}" in chosen else otherwise for n in range(1, 12)}


def document(path: Path = WEIGHTED_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def encoded(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def refusal(raw: bytes | dict[str, Any]) -> InstrumentError:
    with pytest.raises(InstrumentError) as caught:
        instrument_format.parse(encoded(raw) if isinstance(raw, dict) else raw)
    return caught.value


def instrument_rows() -> int:
    return db.session.scalar(select(func.count(RiskInstrument.id))) or 0


@pytest.fixture
def people(app: Flask) -> SimpleNamespace:
    north = make_agency("north", "North Shore")
    valley = make_agency("valley", "River Valley")
    return SimpleNamespace(
        north_id=north.id,
        valley_id=valley.id,
        admin=make_user(north, Role.ADMIN),
        advocate=make_user(north, Role.ADVOCATE),
        staff=make_user(north, Role.SHELTER_STAFF),
        valley_admin=make_user(valley, Role.ADMIN),
        valley_advocate=make_user(valley, Role.ADVOCATE),
    )


def upload(client: CSRFClient, content: bytes, filename: str = "instrument.json") -> Any:
    return client.post(
        "/cases/instruments/upload",
        data={"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def refs(agency_id: int) -> list[str]:
    return [i.ref for i in service.available_instruments(agency_id)]


# --- the shipped lethality screen -----------------------------------------------------------


def test_the_shipped_screen_is_the_eleven_question_screen_in_english_and_spanish() -> None:
    screen = lethality()
    assert screen.shipped and screen.languages == ("en", "es")
    assert [(q.key, q.number, q.type) for q in screen.questions] == [
        (f"q{n}", str(n), "yes_no") for n in range(1, 12)
    ]
    assert [(lv.key, lv.screened_in) for lv in screen.levels] == [
        ("high_danger", True),
        ("not_screened_in", False),
    ]
    assert screen.judgment_level == "high_danger"
    assert not inst.weighted(screen)


@pytest.mark.parametrize("question", FIRST)
def test_yes_to_one_of_the_first_three_alone_screens_in(question: str) -> None:
    outcome = inst.evaluate(lethality(), answers([question]))
    assert (outcome.screened_in, outcome.level.key, outcome.by_judgment) == (True, "high_danger", False)


@pytest.mark.parametrize("size", range(len(REST) + 1))
def test_four_or_more_of_the_other_eight_screen_in_and_three_do_not(size: int) -> None:
    """Every subset of questions 4-11 (256 in all), the others "no" and then "no_answer"."""
    expected = size >= 4
    subsets = list(combinations(REST, size))
    assert len(subsets) == {3: 56, 4: 70}.get(size, len(subsets))
    for yes in subsets:
        for otherwise in (NO, NO_ANSWER):
            outcome = inst.evaluate(lethality(), answers(yes, otherwise))
            assert outcome.screened_in is expected, (yes, otherwise)
            assert outcome.level.key == ("high_danger" if expected else "not_screened_in")
            assert not outcome.by_judgment


def test_no_answer_never_counts_as_yes() -> None:
    screen = lethality()
    assert not inst.evaluate(screen, answers()).screened_in
    assert not inst.evaluate(screen, answers(otherwise=NO_ANSWER)).screened_in
    # Three yes and a fourth "did not answer" among 4-11 is still three.
    assert not inst.evaluate(screen, {**answers(REST[:3]), REST[3]: NO_ANSWER}).screened_in
    # A question left out of the answers is no answer either.
    assert not inst.evaluate(screen, {"q4": YES, "q5": YES, "q6": YES}).screened_in
    assert inst.evaluate(screen, {"q4": YES, "q5": YES, "q6": YES, "q11": YES}).screened_in


def test_judgment_screens_in_only_what_the_answers_do_not() -> None:
    screen = lethality()
    by_judgment = inst.evaluate(screen, answers(), judgment=True)
    assert (by_judgment.screened_in, by_judgment.by_judgment, by_judgment.level.key) == (
        True,
        True,
        "high_danger",
    )
    three = inst.evaluate(screen, answers(REST[:3]), judgment=True)
    assert (three.screened_in, three.by_judgment) == (True, True)
    already = inst.evaluate(screen, answers(["q2"]), judgment=True)
    assert (already.screened_in, already.by_judgment, already.level.key) == (True, False, "high_danger")
    assert not inst.evaluate(screen, answers(), judgment=False).screened_in


def test_screen_case_sets_the_danger_and_the_protocol_on_every_boundary(people: SimpleNamespace) -> None:
    case = service.open_case(factories.system(people.north_id), people.north_id, people.advocate.id, "Maple")
    db.session.commit()
    runs: list[tuple[dict[str, str], bool]] = [(answers([q]), True) for q in FIRST]
    runs += [(answers(yes), False) for yes in combinations(REST, 3)]
    runs += [(answers(yes), True) for yes in combinations(REST, 4)]
    runs += [(answers(), False), (answers(otherwise=NO_ANSWER), False), (answers(REST), True)]
    runs += [({**answers(REST[:3]), REST[3]: NO_ANSWER}, False)]
    assert len(runs) == 3 + 56 + 70 + 4
    for given, expected in runs:
        screening = service.screen_case(factories.actor(people.advocate), case, lethality(), given)
        assert (screening.screened_in, screening.by_judgment) == (expected, False), given
        assert screening.level == ("high_danger" if expected else "not_screened_in")
        if screening.lower_pending:
            # Lower than a high-danger case: it stays high until an advocate confirms.
            assert db.session.get(Case, case.id).danger == "high"  # type: ignore[union-attr]
            service.confirm_lowering(factories.actor(people.advocate), case, "Reviewed with the person")
        assert db.session.get(Case, case.id).danger == ("high" if expected else "standard")  # type: ignore[union-attr]
        steps = db.session.scalars(
            select(ProtocolStep.step).where(ProtocolStep.screening_id == screening.id)
        ).all()
        assert sorted(steps) == (ALL_STEPS if expected else []), given
    assert db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "case.screened")
    ) == len(runs)


def test_screen_case_by_judgment_records_it_and_opens_the_protocol(people: SimpleNamespace) -> None:
    case = service.open_case(factories.system(people.north_id), people.north_id, people.advocate.id, "Aspen")
    db.session.commit()
    screening = service.screen_case(
        factories.actor(people.advocate),
        case,
        lethality(),
        answers(REST[:3]),
        judgment_reason="Afraid after the call",
    )
    assert (screening.screened_in, screening.by_judgment, screening.level) == (True, True, "high_danger")
    assert screening.judgment_reason == "Afraid after the call"
    assert db.session.get(Case, case.id).danger == "high"  # type: ignore[union-attr]
    assert sorted(s.step for s in service.protocol_steps(case)) == ALL_STEPS

    again = service.screen_case(
        factories.actor(people.advocate), case, lethality(), answers(["q1"]), judgment_reason="Still afraid"
    )
    assert (again.screened_in, again.by_judgment) == (True, False)
    calmer = service.screen_case(factories.actor(people.advocate), case, lethality(), answers())
    assert not calmer.screened_in
    assert db.session.get(Case, case.id).danger == "high"  # type: ignore[union-attr]
    service.confirm_lowering(factories.actor(people.advocate), case, "Reviewed with the person")
    assert db.session.get(Case, case.id).danger == "standard"  # type: ignore[union-attr]
    assert (
        db.session.scalar(select(func.count(ProtocolStep.id)).where(ProtocolStep.screening_id == calmer.id))
        == 0
    )


# --- files refused with a precise message ---------------------------------------------------


@pytest.mark.parametrize(
    "name", ["format", "key", "version", "languages", "title", "summary", "source", "questions", "levels"]
)
def test_a_missing_top_level_field_is_named(app: Flask, name: str) -> None:
    doc = document()
    del doc[name]
    error = refusal(doc)
    assert (error.path, error.message) == (name, "this field is missing.")
    assert str(error) == f"{name}: this field is missing."


def test_a_question_without_text_is_named(app: Flask) -> None:
    doc = document()
    del doc["questions"][3]["text"]
    error = refusal(doc)
    assert (error.path, error.message) == ("questions[3].text", "this field is missing.")


def test_a_missing_translation_is_named_with_its_language(app: Flask) -> None:
    doc = document()
    del doc["questions"][0]["text"]["es"]
    error = refusal(doc)
    assert (error.path, error.message) == (
        "questions[0].text.es",
        "the translation for this language is missing.",
    )
    doc = document()
    del doc["questions"][6]["options"][2]["label"]["es"]
    assert refusal(doc).path == "questions[6].options[2].label.es"


def test_a_translation_in_a_language_not_listed_is_refused(app: Flask) -> None:
    doc = document()
    doc["title"]["so"] = "Tusaale"
    error = refusal(doc)
    assert (error.path, error.message) == ("title.so", "this language is not listed in “languages”.")


def test_an_unknown_field_such_as_a_typo_is_named(app: Flask) -> None:
    doc = document()
    option = doc["questions"][6]["options"][1]
    option["wieght"] = option.pop("weight")
    error = refusal(doc)
    assert (error.path, error.message) == (
        "questions[6].options[1].wieght",
        "this field is not part of the format.",
    )
    doc = document()
    doc["levles"] = doc["levels"]
    assert refusal(doc).path == "levles"


def test_a_condition_naming_an_unknown_question_is_refused(app: Flask) -> None:
    doc = document(LETHALITY_FILE)
    doc["levels"][0]["when"]["any"][0]["yes_any"] = ["q1", "q2", "q12"]
    error = refusal(doc)
    assert (error.path, error.message) == (
        "levels[0].when.any[0].yes_any[2]",
        "there is no yes-or-no question with this key.",
    )
    # A "choice" question has no yes.
    doc = document()
    doc["levels"][1]["when"] = {"yes_at_least": 1, "of": ["w1", "w7"]}
    assert refusal(doc).path == "levels[1].when.of[1]"


def test_yes_at_least_more_than_the_questions_listed_is_refused(app: Flask) -> None:
    doc = document(LETHALITY_FILE)
    doc["levels"][0]["when"]["any"][1]["yes_at_least"] = 9
    error = refusal(doc)
    assert (error.path, error.message) == (
        "levels[0].when.any[1].yes_at_least",
        "must be a whole number from 1 to 8.",
    )


def test_the_last_level_must_say_otherwise(app: Flask) -> None:
    doc = document()
    doc["levels"][2]["when"] = {"score_at_least": 0}
    error = refusal(doc)
    assert (error.path, error.message) == ("levels[2].when", 'the last level must say "otherwise".')
    doc = document()
    doc["levels"][0]["when"] = "otherwise"
    assert refusal(doc).path == "levels[0].when"


@pytest.mark.parametrize("level", ["variable", "no-such-level"])
def test_the_judgment_level_must_screen_in(app: Flask, level: str) -> None:
    doc = document()
    doc["judgment_level"] = level
    error = refusal(doc)
    assert (error.path, error.message) == ("judgment_level", "must name a level that counts as screened in.")


def test_a_duplicate_question_key_is_refused(app: Flask) -> None:
    doc = document()
    doc["questions"][1]["key"] = "w1"
    error = refusal(doc)
    assert (error.path, error.message) == ("questions[1].key", "“w1” is used by another question.")


def test_invalid_json_is_refused_with_its_line_and_column(app: Flask) -> None:
    error = refusal(b'{\n  "format": 1,\n  "key": "x"\n  "version": "1"\n}')
    assert (error.path, error.message) == ("", "The file is not valid JSON (line 4, column 3).")
    assert str(error) == "The file is not valid JSON (line 4, column 3)."


def test_a_file_that_is_not_utf8_is_refused(app: Flask) -> None:
    latin1 = json.dumps(document(), ensure_ascii=False).encode("latin-1")
    error = refusal(latin1)
    assert (error.path, error.message) == ("", "The file is not UTF-8 text.")


def test_a_file_over_the_size_limit_is_refused_and_one_at_it_is_read(app: Flask) -> None:
    raw = encoded(document())
    at_limit = raw + b" " * (instrument_format.MAX_FILE_BYTES - len(raw))
    assert instrument_format.parse(at_limit).ref == WEIGHTED
    error = refusal(at_limit + b" ")
    assert (error.path, error.message) == ("", "The file is larger than 256 KB.")


def test_a_deeply_nested_file_is_refused_not_crashed_on(app: Flask) -> None:
    error = refusal(b"[" * 100_000)
    assert (error.path, error.message) == ("", "The file nests lists or objects too deeply.")
    doc = document()
    condition: Any = {"score_at_least": 8}
    for _depth in range(instrument_format.MAX_DEPTH):
        condition = {"any": [condition]}
    doc["levels"][1]["when"] = condition
    error = refusal(doc)
    assert error.path == "levels[1].when" + ".any[0]" * instrument_format.MAX_DEPTH
    assert error.message == "conditions may nest at most 8 deep."


def test_format_must_be_the_number_one(app: Flask) -> None:
    for value in (True, "1", 2):
        doc = document()
        doc["format"] = value
        assert (refusal(doc).path, refusal(doc).message) == ("format", "this app reads format 1.")
    doc = document()
    assert refusal(b"[]").path == "(file)"


def test_question_numbers_may_be_written_as_numbers(app: Flask) -> None:
    doc = document()
    doc["questions"][0]["number"] = 1
    assert instrument_format.parse(encoded(doc)).questions[0].number == "1"
    doc["questions"][0]["number"] = {"n": 1}
    assert refusal(doc).path == "questions[0].number"


def test_a_utf8_file_with_a_byte_order_mark_is_accepted(people: SimpleNamespace) -> None:
    row = service.add_instrument(
        factories.actor(people.admin), people.north_id, b"\xef\xbb\xbf" + encoded(document())
    )
    assert service.get_instrument(WEIGHTED, people.north_id).agency_instrument_id == row.id


def test_an_agency_cannot_reuse_a_shipped_key(people: SimpleNamespace) -> None:
    doc = document(LETHALITY_FILE)
    doc["version"] = "2"
    with pytest.raises(InstrumentError) as caught:
        service.add_instrument(factories.actor(people.admin), people.north_id, encoded(doc))
    assert (caught.value.path, caught.value.message) == (
        "key",
        "“lethality-screen” is the key of an instrument the app ships.",
    )
    assert instrument_rows() == 0


def test_the_same_version_twice_is_refused_for_one_agency_only(people: SimpleNamespace) -> None:
    raw = WEIGHTED_FILE.read_bytes()
    service.add_instrument(factories.actor(people.admin), people.north_id, raw)
    with pytest.raises(InstrumentError) as caught:
        service.add_instrument(factories.actor(people.admin), people.north_id, raw)
    assert (caught.value.path, caught.value.message) == (
        "version",
        "Your agency already has version 2024.1 of this instrument.",
    )
    assert instrument_rows() == 1
    # Another agency with the same licence adds the same file as its own.
    service.add_instrument(factories.actor(people.valley_admin), people.valley_id, raw)
    doc = document()
    doc["version"] = "2025.1"
    service.add_instrument(factories.actor(people.admin), people.north_id, encoded(doc))
    assert instrument_rows() == 3


@contextmanager
def ui_language(app: Flask, tag: str) -> Iterator[None]:
    """A request in ``tag``, as a page in that language would be."""
    with app.test_request_context(), force_locale(tag):
        g.language = tag
        try:
            yield
        finally:
            g.pop("language", None)


# The messages are translated when raised, in the language of the request.
def test_refusals_are_in_the_language_of_the_page(app: Flask) -> None:
    msgid = "the translation for this language is missing."
    assert shown("es", msgid) != msgid
    doc = document()
    del doc["summary"]["es"]
    with ui_language(app, "es"):
        error = refusal(doc)
    assert (error.path, error.message) == ("summary.es", shown("es", msgid))


# --- conditions in plain words ---------------------------------------------------------------


def test_conditions_are_described_with_the_question_numbers(app: Flask) -> None:
    screen = lethality()
    rule = inst.describe(screen, screen.levels[0].when)
    assert rule.text == "Any one of these:"
    assert [p.text for p in rule.parts] == [
        "Yes to any of questions 1, 2, 3",
        "Yes to at least 4 of questions 4–11",
    ]
    assert inst.describe(screen, "otherwise") == inst.Rule("Otherwise")
    cases = [
        ({"yes_any": ["q2"]}, "Yes to question 2"),
        ({"yes_any": ["q1", "q2"]}, "Yes to any of questions 1, 2"),
        ({"yes_at_least": 2, "of": ["q1", "q3", "q5"]}, "Yes to at least 2 of questions 1, 3, 5"),
        ({"yes_at_least": 1, "of": ["q6", "q5", "q4"]}, "Yes to at least 1 of questions 6, 5, 4"),
        ({"yes_at_least": 3, "of": ["q9", "q10", "q11"]}, "Yes to all of questions 9, 10, 11"),
        ({"yes_at_least": 4, "of": ["q8", "q9", "q10", "q11"]}, "Yes to all of questions 8–11"),
        ({"yes_any": ["q4", "q5", "q7", "q8"]}, "Yes to any of questions 4, 5, 7, 8"),
        ({"score_at_least": 1800}, "Score at least 1,800"),
        ({"all": [{"yes_any": ["q1"]}]}, "Yes to question 1"),
    ]
    for condition, text in cases:
        assert inst.describe(screen, condition) == inst.Rule(text), condition
    both = inst.describe(screen, {"all": [{"yes_any": ["q1"]}, {"score_at_least": 3}]})
    assert both == inst.Rule("All of these:", (inst.Rule("Yes to question 1"), inst.Rule("Score at least 3")))


# --- an agency's own weighted instrument --------------------------------------------------------


WEIGHTS = {"w1": 5, "w2": 4, "w3": 3, "w4": 2, "w5": 1, "w6": 1}  # w6 has no weight: a yes is 1
OFTEN = {"never": 0, "sometimes": 1, "often": 3, NO_ANSWER: 0}


def weighted_level(total: int) -> str:
    return "extreme" if total >= 14 else "severe" if total >= 8 else "variable"


def test_the_weighted_example_scores_by_weight_and_levels_by_score() -> None:
    example = instrument_format.parse(WEIGHTED_FILE.read_bytes())
    assert inst.weighted(example)
    totals = set()
    for picks in product((YES, NO, NO_ANSWER), repeat=len(WEIGHTS)):
        given = dict(zip(WEIGHTS, picks, strict=True))
        for often in OFTEN:
            total = sum(WEIGHTS[k] for k, v in given.items() if v == YES) + OFTEN[often]
            outcome = inst.evaluate(example, {**given, "w7": often})
            assert outcome.score == total, (given, often)
            assert outcome.level.key == weighted_level(total), (given, often)
            assert outcome.screened_in is (total >= 8)
            totals.add(total)
    assert {7, 8, 13, 14} <= totals


@pytest.mark.parametrize(
    ("yes", "often", "total", "level"),
    [
        ((), "never", 0, "variable"),
        (("w1", "w6"), "sometimes", 7, "variable"),
        (("w1", "w5", "w6"), "sometimes", 8, "severe"),
        (("w1", "w3"), "never", 8, "severe"),
        (("w1", "w2", "w3", "w6"), "never", 13, "severe"),
        (("w1", "w2", "w3", "w5", "w6"), "never", 14, "extreme"),
        (("w1", "w2", "w4"), "sometimes", 12, "severe"),
        (("w1", "w2", "w4"), "often", 14, "extreme"),
        (("w1", "w2", "w3", "w4", "w5", "w6"), NO_ANSWER, 16, "extreme"),
    ],
)
def test_weighted_boundaries(yes: tuple[str, ...], often: str, total: int, level: str) -> None:
    example = instrument_format.parse(WEIGHTED_FILE.read_bytes())
    given = {k: YES if k in yes else NO for k in WEIGHTS} | {"w7": often}
    outcome = inst.evaluate(example, given)
    assert (outcome.score, outcome.level.key) == (total, level)
    judged = inst.evaluate(example, given, judgment=True)
    if level == "variable":
        assert (judged.level.key, judged.screened_in, judged.by_judgment) == ("severe", True, True)
    else:
        assert (judged.level.key, judged.by_judgment) == (level, False)


def test_an_uploaded_instrument_is_the_agencys_alone(
    client: CSRFClient, other_client: CSRFClient, people: SimpleNamespace
) -> None:
    login(client, people.admin)
    response = upload(client, WEIGHTED_FILE.read_bytes(), "weighted-example.json")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/instruments/{WEIGHTED}")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "“Weighted example screen” is added." in text_of(page)

    row = db.session.scalar(select(RiskInstrument))
    assert row is not None
    assert (row.agency_id, row.key, row.version, row.active, row.added_by_id) == (
        people.north_id,
        "weighted-example",
        "2024.1",
        True,
        people.admin.id,
    )
    assert db.session.scalar(
        select(AuditEvent.object_id).where(AuditEvent.action == "instrument.added")
    ) == str(row.id)

    # North's advocates screen with it; Valley's do not see it at all.
    assert refs(people.north_id) == [LETHALITY, WEIGHTED]
    assert refs(people.valley_id) == [LETHALITY]
    client.post("/auth/logout")
    login(client, people.advocate)
    listing = text_of(client.get("/cases/instruments/"))
    assert "Weighted example screen" in listing
    assert "Added by Test admin on" in listing
    assert client.get(f"/cases/instruments/{WEIGHTED}").status_code == 200

    login(other_client, people.valley_advocate)
    assert "Weighted example screen" not in text_of(other_client.get("/cases/instruments/"))
    assert other_client.get(f"/cases/instruments/{WEIGHTED}").status_code == 404
    assert other_client.get(f"/cases/instruments/{WEIGHTED}/file").status_code == 404
    other_client.post("/auth/logout")
    login(other_client, people.valley_admin)
    assert other_client.post(f"/cases/instruments/{row.id}/disable").status_code == 404
    assert other_client.get(f"/cases/instruments/{WEIGHTED}").status_code == 404
    db.session.expire_all()
    assert db.session.get(RiskInstrument, row.id).active  # type: ignore[union-attr]


def test_disabling_hides_an_instrument_from_new_screenings_but_keeps_it_for_history(
    client: CSRFClient, people: SimpleNamespace
) -> None:
    row = service.add_instrument(factories.actor(people.admin), people.north_id, WEIGHTED_FILE.read_bytes())
    row_id = row.id
    case = service.open_case(factories.system(people.north_id), people.north_id, people.advocate.id, "Birch")
    db.session.commit()
    example = service.get_instrument(WEIGHTED, people.north_id)
    given = {k: YES for k in WEIGHTS} | {"w7": "often"}
    service.screen_case(factories.actor(people.advocate), case, example, given)
    db.session.commit()

    login(client, people.admin)
    response = client.post(f"/cases/instruments/{row_id}/disable")
    assert response.status_code == 302 and response.headers["Location"].endswith("/cases/instruments/")
    assert "“Weighted example screen” is disabled." in text_of(client.get("/cases/instruments/"))
    db.session.expire_all()
    assert not db.session.get(RiskInstrument, row_id).active  # type: ignore[union-attr]
    assert refs(people.north_id) == [LETHALITY]
    assert service.get_instrument(WEIGHTED, people.north_id).agency_instrument_id == row_id
    history = service.risk_history(db.session.get(Case, case.id))  # type: ignore[arg-type]
    assert [(e.instrument.ref, e.level.key) for e in history] == [(WEIGHTED, "extreme")]
    page = client.get(f"/cases/instruments/{WEIGHTED}")
    assert page.status_code == 200 and "This instrument is disabled" in text_of(page)

    assert client.post(f"/cases/instruments/{row_id}/enable").status_code == 302
    assert refs(people.north_id) == [LETHALITY, WEIGHTED]
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("instrument.%")).order_by(AuditEvent.id)
    ).all()
    assert actions == ["instrument.added", "instrument.disabled", "instrument.enabled"]


# --- the pages --------------------------------------------------------------------------------


def file_error(response: Any) -> str:
    match = re.search(
        r'<span class="usa-error-message" id="file-error-1" role="alert">(.*?)</span>',
        response.get_data(as_text=True),
    )
    assert match, "no error next to the file field"
    return match.group(1)


def test_a_malformed_file_is_refused_next_to_the_field_and_nothing_is_stored(
    client: CSRFClient, people: SimpleNamespace
) -> None:
    login(client, people.admin)
    doc = document()
    del doc["questions"][3]["text"]["es"]
    response = upload(client, encoded(doc))
    assert response.status_code == 400
    assert file_error(response) == "questions[3].text.es: the translation for this language is missing."
    assert 'href="#file"' in response.get_data(as_text=True)  # the error summary leads to the field

    response = upload(client, b'{\n  "format": 1,,\n}')
    assert response.status_code == 400
    assert file_error(response) == "The file is not valid JSON (line 2, column 15)."

    response = upload(client, encoded(document()) + b" " * instrument_format.MAX_FILE_BYTES)
    assert response.status_code == 400
    assert file_error(response) == "The file is larger than 256 KB."

    response = client.post("/cases/instruments/upload", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert file_error(response) == "Choose the instrument file to add."

    doc = document(LETHALITY_FILE)
    response = upload(client, encoded(doc))
    assert response.status_code == 400
    assert file_error(response) == "key: “lethality-screen” is the key of an instrument the app ships."
    assert instrument_rows() == 0
    assert (
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "instrument.added"))
        == 0
    )


def test_advocates_read_but_cannot_change_instruments(client: CSRFClient, people: SimpleNamespace) -> None:
    row = service.add_instrument(factories.actor(people.admin), people.north_id, WEIGHTED_FILE.read_bytes())
    row_id = row.id
    db.session.commit()
    login(client, people.advocate)
    listing = client.get("/cases/instruments/")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert "Lethality screen (11 questions)" in html and "Weighted example screen" in html
    assert "Shipped with the app" in html
    assert 'enctype="multipart/form-data"' not in html
    assert f"/cases/instruments/{row_id}/disable" not in html
    assert upload(client, WEIGHTED_FILE.read_bytes()).status_code == 403
    assert client.post(f"/cases/instruments/{row_id}/disable").status_code == 403
    page = client.get(f"/cases/instruments/{WEIGHTED}")
    assert page.status_code == 200 and f"/cases/instruments/{row_id}/disable" not in page.get_data(
        as_text=True
    )
    assert instrument_rows() == 1
    db.session.expire_all()
    assert db.session.get(RiskInstrument, row_id).active  # type: ignore[union-attr]

    client.post("/auth/logout")
    login(client, people.staff)
    assert client.get("/cases/instruments/").status_code == 403
    assert client.get(f"/cases/instruments/{LETHALITY}").status_code == 403


def test_the_admin_list_shows_sources_languages_and_the_form(
    client: CSRFClient, people: SimpleNamespace
) -> None:
    login(client, people.admin)
    response = client.get("/cases/instruments/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(response)
    assert "lethality-screen@1" in text
    assert "Maryland Network Against Domestic Violence" in text
    assert 'href="https://lethalityassessmentprogram.org/"' in html
    assert '<span lang="es">Español</span>' in html
    assert 'enctype="multipart/form-data"' in html
    assert f'href="/cases/instruments/{LETHALITY}/file"' in html
    example = client.get(f"/cases/instruments/{LETHALITY}/file")
    assert example.status_code == 200 and example.mimetype == "application/json"
    assert example.data == LETHALITY_FILE.read_bytes()


def test_the_instrument_page_writes_the_rule_out_in_english(
    client: CSRFClient, people: SimpleNamespace
) -> None:
    login(client, people.advocate)
    response = client.get(f"/cases/instruments/{LETHALITY}")
    assert response.status_code == 200
    text = text_of(response)
    for words in (
        "Any one of these: Yes to any of questions 1, 2, 3 Yes to at least 4 of questions 4–11",
        "Not screened in (does not count as screened in) When: Otherwise",
        "The level is then: High danger",
        "Any pressure on the neck counts, even if there is no mark.",
        "Español Included",
        "Soomaali Shown in English",
    ):
        assert words in text, words
    assert "Yes counts" not in text and "adds its points" not in text  # no points in this screen

    service.add_instrument(factories.actor(people.admin), people.north_id, WEIGHTED_FILE.read_bytes())
    db.session.commit()
    text = text_of(client.get(f"/cases/instruments/{WEIGHTED}"))
    for words in (
        "Extreme danger Counts as screened in When: Score at least 14",
        "Severe danger Counts as screened in When: Score at least 8",
        "Variable danger (does not count as screened in) When: Otherwise",
        "Yes counts 5 points.",
        "Often (3 points)",
        "Example only. A licensed instrument would state its licence here.",
    ):
        assert words in text, words


def test_the_instrument_page_is_in_spanish_when_the_page_is(
    client: CSRFClient, people: SimpleNamespace
) -> None:
    login(client, people.advocate)
    choose(client, "es")
    response = client.get(f"/cases/instruments/{LETHALITY}")
    assert response.status_code == 200 and html_lang(response) == ("es", "ltr")
    html = response.get_data(as_text=True)
    assert "¿Su pareja ha amenazado con matarla/matarlo a usted o a sus hijos?" in html
    assert "Cuenta cualquier presión en el cuello, aunque no deje marca." in html
    assert "Peligro alto" in html
    assert "Has your partner" not in html


def test_a_language_the_file_lacks_falls_back_to_english_marked_as_english(
    client: CSRFClient, people: SimpleNamespace
) -> None:
    login(client, people.advocate)
    choose(client, "so")
    response = client.get(f"/cases/instruments/{LETHALITY}")
    assert response.status_code == 200 and html_lang(response) == ("so", "ltr")
    html = response.get_data(as_text=True)
    assert (
        '<span lang="en" dir="auto">Has your partner threatened to kill you or your children?</span>' in html
    )
    assert '<span lang="en" dir="auto">High danger</span>' in html


def test_an_unknown_instrument_is_404(client: CSRFClient, people: SimpleNamespace) -> None:
    login(client, people.admin)
    for url in (
        "/cases/instruments/lethality-screen@9",
        "/cases/instruments/nothing",
        "/cases/instruments/x@1/file",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post("/cases/instruments/999/enable").status_code == 404
