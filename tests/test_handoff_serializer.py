"""One serializer with an explicit field list, and the location guard on every free-text field."""

from __future__ import annotations

import json

import pytest

from advocacy.demo.network import SHELTERS
from advocacy.handoff import serialize
from advocacy.handoff.serialize import LocationRefused
from advocacy.handoff.vocabulary import EventType
from tests import factories
from tests.test_handoff_world import consent, prepare, release, world

SAFETY = {"concerns": ["threats", "weapons"]}


def test_hand_off_with_an_address_in_the_summary_is_refused(app, clock) -> None:
    _north, advocate, case, tracking = world()
    consent(case, tracking)
    summary = "She moved to 4410 Grand Ave Apt 3 last week."
    with pytest.raises(LocationRefused) as refused:
        prepare(factories.actor(advocate), case, tracking, summary=summary)
    hits = refused.value.hits["summary"]
    assert any("4410 Grand Ave" in hit.excerpt(summary) for hit in hits)
    # Nothing is rewritten: the advocate gets the text back as written.
    assert refused.value.texts["summary"] == summary


@pytest.mark.parametrize(
    "summary",
    [
        "Call her at 218-555-0147 after 5pm.",
        "Her new e-mail is maple.tree@example.org.",
        "She is at 46.7867, -92.1005 tonight.",
        "Send mail to PO Box 221.",
    ],
)
def test_contact_details_and_coordinates_in_the_summary_are_refused(app, clock, summary: str) -> None:
    _north, advocate, case, tracking = world()
    consent(case, tracking)
    with pytest.raises(LocationRefused):
        prepare(factories.actor(advocate), case, tracking, summary=summary)


def test_the_partner_case_reference_is_free_text_and_guarded_too(app, clock) -> None:
    _north, advocate, case, tracking = world()
    consent(case, tracking)
    with pytest.raises(LocationRefused) as refused:
        prepare(factories.actor(advocate), case, tracking, reference="218-555-0147")
    assert "partner_case_reference" in refused.value.hits


def test_a_benign_summary_with_times_money_and_docket_numbers_passes(app, clock) -> None:
    _north, advocate, case, tracking = world()
    consent(case, tracking)
    summary = "Hearing moved to 9:30 in courtroom 4B; bail set at $5,000 under Minn. Stat. 629.72, file 27-CR-26-1187."
    prepared = prepare(factories.actor(advocate), case, tracking, summary=summary)
    assert json.loads(prepared.body)["summary"] == summary


def test_no_demo_shelter_name_label_or_address_can_leave(app, clock) -> None:
    north, advocate, case, tracking = world()
    factories.shelter(north)  # Birch House, 1208 Example Ave, Duluth, NS-1 (as the demo's first)
    consent(case, tracking)
    who = factories.actor(advocate)
    demo = next(s for s in SHELTERS if s.name == "Birch House")
    for text in (f"Staying at {demo.name} for now.", f"She is at {demo.label}.", f"Near {demo.address}."):
        with pytest.raises(LocationRefused):
            prepare(who, case, tracking, summary=text)
    record = release(who, case, tracking)
    for spec in SHELTERS:
        for value in (spec.name, spec.address, spec.address.split(",")[0]):
            assert value not in record.body


def test_every_event_type_serializes_exactly_the_partner_fields(app, clock) -> None:
    _north, advocate, case, tracking = world()
    factories.screening(case, 1)
    consent(case, tracking)
    who = factories.actor(advocate)
    examples = {
        "victim_contacted": ({"method": "in_person"}, "Met after court."),
        "victim_unreachable": ({"attempts": 3, "reason": "no_answer"}, None),
        "safety_concern_reported": (SAFETY, None),
        "protection_order_filed": ({"order_type": "ex_parte"}, None),
        "protection_order_granted": ({"order_type": "full", "firearm_surrender_ordered": True}, None),
        "protection_order_denied": ({"order_type": "full"}, None),
        "no_contact_violation_reported": ({"violation": ["phone_call"], "reported_to": ["police"]}, None),
        "victim_input_bail": ({"position": "opposes_release"}, None),
        "victim_input_sentencing": ({"impact_statement": "written"}, None),
        "risk_screen_result": ({}, None),
        "court_notification_outcome": ({"outcome": "delivered"}, None),
    }
    assert set(examples) == {e.value for e in EventType}
    fields = {name for name, _get in serialize.AUDIENCES["partner"]}
    for event_type, (choices, summary) in examples.items():
        prepared = prepare(who, case, tracking, event_type, choices=choices, summary=summary)
        body = json.loads(prepared.body)
        assert set(body) == fields
        assert body["event_type"] == event_type
        assert not any(
            isinstance(v, int) and not isinstance(v, bool) and k != "schema_version" for k, v in body.items()
        )
    risk = json.loads(prepare(who, case, tracking, "risk_screen_result", choices={}, summary=None).body)
    assert set(risk["choices"]) == {"screened_in", "instrument", "level"}
