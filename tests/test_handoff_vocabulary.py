"""The hand-off's fixed vocabulary: event types, their structured choices, and nothing free but the summary."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advocacy.errors import Refused
from advocacy.handoff import service
from advocacy.handoff.vocabulary import (
    SCHEMA_VERSION,
    SPECS,
    SUMMARY_FIELD,
    SUMMARY_MAX_LENGTH,
    EventType,
    Field,
    FieldKind,
    check_choices,
    check_summary,
    choices_schema,
    spec,
)
from advocacy.intake.service import ScreeningResult


def test_the_vocabulary_is_the_one_the_mission_names_and_its_values_do_not_move() -> None:
    """Partners store these strings: changing one is a new schema version."""
    assert [e.value for e in EventType] == [
        "victim_contacted",
        "victim_unreachable",
        "safety_concern_reported",
        "protection_order_filed",
        "protection_order_granted",
        "protection_order_denied",
        "no_contact_violation_reported",
        "victim_input_bail",
        "victim_input_sentencing",
        "risk_screen_result",
        "court_notification_outcome",
    ]
    assert set(SPECS) == set(EventType)


def test_the_risk_screen_result_is_the_preview_records_event_type_and_fields() -> None:
    assert EventType.RISK_SCREEN_RESULT.value == service.RISK_SCREEN_RESULT
    assert SCHEMA_VERSION == service.SCHEMA_VERSION
    risk = spec(EventType.RISK_SCREEN_RESULT)
    assert not risk.has_summary
    assert set(risk.field_names) | set(service.ENVELOPE_FIELDS) | {"date"} == set(
        service.ALLOWED_FIELDS[service.RISK_SCREEN_RESULT]
    )


def test_a_preview_records_screening_result_passes_the_vocabulary() -> None:
    result = ScreeningResult(
        screened_in=True, instrument="lethality-screen@1", level="high", screened_on="2026-03-04"
    )
    choices = {k: v for k, v in result.to_dict().items() if k != "date"}
    assert check_choices("risk_screen_result", choices) == choices


def test_a_risk_screen_result_carries_nothing_but_instrument_flag_and_level() -> None:
    with pytest.raises(Refused) as caught:
        check_choices(
            "risk_screen_result",
            {
                "screened_in": True,
                "instrument": "lethality-screen@1",
                "level": "high",
                "answers": {"q1": True},
            },
        )
    assert caught.value.field == "answers"
    with pytest.raises(Refused) as caught:
        check_summary("risk_screen_result", "She said he choked her last week.")
    assert caught.value.field == SUMMARY_FIELD


@pytest.mark.parametrize(
    ("event_type", "field", "options"),
    [
        ("court_notification_outcome", "outcome", ["delivered", "not_delivered", "victim_confirmed"]),
        ("protection_order_filed", "order_type", ["ex_parte", "full", "harassment"]),
        ("protection_order_granted", "order_type", ["ex_parte", "full", "harassment"]),
        ("protection_order_denied", "order_type", ["ex_parte", "full", "harassment"]),
    ],
)
def test_structured_choices_of_the_brief(event_type: str, field: str, options: list[str]) -> None:
    chosen = spec(event_type).field(field)
    assert chosen.options is not None
    assert [m.value for m in chosen.options] == options
    assert chosen.required


def test_which_event_types_have_a_summary() -> None:
    without = {e for e, s in SPECS.items() if not s.has_summary}
    assert without == {EventType.RISK_SCREEN_RESULT, EventType.COURT_NOTIFICATION_OUTCOME}


def test_no_choice_is_free_text() -> None:
    """Only the summary is free text, and only the summary goes through the location guard."""
    for event in SPECS.values():
        for field in event.fields:
            assert field.kind in set(FieldKind)
            if field.kind is FieldKind.KEY:
                assert field.pattern is not None
                assert not field.pattern.fullmatch("44 Sample St")
                assert not field.pattern.fullmatch("call 218-555-0143")
            if field.kind in (FieldKind.CHOICE, FieldKind.CHOICES):
                assert field.options is not None
                for member in field.options:
                    assert re.fullmatch(r"[a-z][a-z_]*", member.value)


def test_every_value_and_field_has_a_translated_label() -> None:
    enums = {EventType} | {f.options for s in SPECS.values() for f in s.fields if f.options is not None}
    for enum_type in enums:
        labels = [member.label for member in enum_type]
        assert all(labels) and len(set(labels)) == len(labels), enum_type
        assert [value for value, _ in enum_type.choices()] == [m.value for m in enum_type]
    assert EventType.PROTECTION_ORDER_GRANTED.label == "Protection order granted"
    for event in SPECS.values():
        assert all(str(f.label) for f in event.fields)


# --------------------------------------------------------------------------
# Checking a record's choices
# --------------------------------------------------------------------------


def test_an_advocate_records_a_no_contact_violation_reported_to_police_and_probation() -> None:
    checked = check_choices(
        EventType.NO_CONTACT_VIOLATION_REPORTED,
        {
            "violation": ["text_or_message", "phone_call", "text_or_message"],
            "reported_to": {"probation", "police"},
        },
    )
    assert checked == {"violation": ["phone_call", "text_or_message"], "reported_to": ["police", "probation"]}


def test_an_optional_choice_left_out_is_not_sent() -> None:
    assert check_choices("victim_contacted", {"method": "phone", "initiated_by": None}) == {"method": "phone"}
    assert check_choices(
        "protection_order_granted", {"order_type": "full", "firearm_surrender_ordered": False}
    ) == {
        "order_type": "full",
        "firearm_surrender_ordered": False,
    }


@pytest.mark.parametrize(
    ("event_type", "values", "field"),
    [
        ("court_notification_outcome", {}, "outcome"),
        ("court_notification_outcome", {"outcome": "sent"}, "outcome"),
        ("court_notification_outcome", {"outcome": "delivered", "phone": "218-555-0143"}, "phone"),
        ("protection_order_filed", {"order_type": "EX_PARTE"}, "order_type"),
        ("safety_concern_reported", {"concerns": []}, "concerns"),
        ("safety_concern_reported", {"concerns": "threats"}, "concerns"),
        ("safety_concern_reported", {"concerns": ["threats", "moved to 44 Sample St"]}, "concerns"),
        ("victim_unreachable", {"attempts": 0, "reason": "no_answer"}, "attempts"),
        ("victim_unreachable", {"attempts": 100, "reason": "no_answer"}, "attempts"),
        ("victim_unreachable", {"attempts": True, "reason": "no_answer"}, "attempts"),
        ("victim_unreachable", {"attempts": "3", "reason": "no_answer"}, "attempts"),
        (
            "risk_screen_result",
            {"screened_in": "yes", "instrument": "lethality-screen@1", "level": "high"},
            "screened_in",
        ),
        (
            "risk_screen_result",
            {"screened_in": True, "instrument": "lethality screen", "level": "high"},
            "instrument",
        ),
        (
            "risk_screen_result",
            {"screened_in": True, "instrument": "lethality-screen@1", "level": "High!"},
            "level",
        ),
        ("risk_screen_result", {"screened_in": True, "instrument": "x@1\n", "level": "high"}, "instrument"),
    ],
)
def test_a_wrong_choice_is_refused_next_to_its_field(
    event_type: str, values: dict[str, Any], field: str
) -> None:
    with pytest.raises(Refused) as caught:
        check_choices(event_type, values)
    assert caught.value.field == field
    assert str(caught.value.message)


def test_an_event_type_outside_the_vocabulary_is_an_error() -> None:
    with pytest.raises(ValueError):
        spec("victim_relocated")


def test_the_summary_is_stripped_and_kept_to_500_characters() -> None:
    assert (
        check_summary("victim_contacted", "  Victim confirmed the hearing.  ")
        == "Victim confirmed the hearing."
    )
    assert check_summary("victim_contacted", "   ") is None
    assert check_summary("risk_screen_result", None) is None
    assert check_summary("victim_contacted", "x" * SUMMARY_MAX_LENGTH) == "x" * SUMMARY_MAX_LENGTH
    with pytest.raises(Refused) as caught:
        check_summary("victim_contacted", "x" * (SUMMARY_MAX_LENGTH + 1))
    assert "500" in str(caught.value.message)


# --------------------------------------------------------------------------
# The JSON Schema says exactly what check_choices accepts
# --------------------------------------------------------------------------


def _valid(schema: dict[str, Any], value: object) -> bool:
    """The few JSON Schema keywords choices_schema uses, read as the specification reads them."""
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return False
        if schema.get("additionalProperties") is False and set(value) - set(schema["properties"]):
            return False
        if any(name not in value for name in schema.get("required", [])):
            return False
        return all(_valid(schema["properties"][k], v) for k, v in value.items())
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and schema.get("minimum", value) <= value <= schema.get("maximum", value)
        )
    if kind == "string":
        if not isinstance(value, str):
            return False
        if "enum" in schema and value not in schema["enum"]:
            return False
        if "pattern" in schema and not re.search(schema["pattern"].replace("$", r"\Z"), value):
            return False
        return schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value))
    if kind == "array":
        return (
            isinstance(value, list)
            and len(value) >= schema.get("minItems", 0)
            and (not schema.get("uniqueItems") or len(set(map(repr, value))) == len(value))
            and all(_valid(schema["items"], v) for v in value)
        )
    raise AssertionError(f"unexpected schema {schema}")


_NOISE = st.one_of(
    st.sampled_from(["", "High", "delivered ", "44 Sample St", "x@1\n", "lethality screen@1"]),
    st.booleans(),
    st.integers(-2, 120),
    st.lists(st.sampled_from(["threats", "police", "phone_call", "other"]), unique=True, max_size=3),
)


def _good(field: Field) -> st.SearchStrategy[object]:
    if field.kind is FieldKind.FLAG:
        return st.booleans()
    if field.kind is FieldKind.COUNT:
        return st.integers(field.minimum or 0, field.maximum or 0)
    if field.kind is FieldKind.KEY:
        return st.sampled_from(["lethality-screen@1", "danger-assessment@2019.1", "high", "standard"])
    assert field.options is not None
    values = [m.value for m in field.options]
    if field.kind is FieldKind.CHOICE:
        return st.sampled_from(values)
    return st.lists(st.sampled_from(values), unique=True, max_size=len(values))


@st.composite
def _candidates(draw: st.DrawFn, event_type: EventType) -> dict[str, object]:
    """Mostly right values, some wrong, some missing, now and then a field the event does not have."""
    values: dict[str, object] = {}
    for field in spec(event_type).fields:
        what = draw(st.sampled_from(["good"] * 6 + ["noise", "absent"]))
        if what != "absent":
            values[field.name] = draw(_good(field) if what == "good" else _NOISE)
    if draw(st.integers(0, 9)) == 0:
        values[draw(st.sampled_from(["address", "phone", SUMMARY_FIELD]))] = draw(_NOISE)
    return values


@settings(max_examples=60)
@given(data=st.data())
@pytest.mark.parametrize("event_type", list(EventType))
def test_the_json_schema_accepts_exactly_what_check_choices_accepts(
    event_type: EventType, data: st.DataObject
) -> None:
    schema = choices_schema(event_type)
    schema_without_summary = {
        **schema,
        "properties": {k: v for k, v in schema["properties"].items() if k != SUMMARY_FIELD},
    }
    values = data.draw(_candidates(event_type))
    try:
        checked = check_choices(event_type, values)
    except Refused:
        accepted = False
    else:
        accepted = True
        assert _valid(schema_without_summary, checked)
    assert _valid(schema_without_summary, values) == accepted, values


def test_the_json_schema_names_the_summary_only_where_there_is_one() -> None:
    for event_type, event in SPECS.items():
        properties = choices_schema(event_type)["properties"]
        assert (SUMMARY_FIELD in properties) == event.has_summary
        if event.has_summary:
            assert properties[SUMMARY_FIELD]["maxLength"] == SUMMARY_MAX_LENGTH
