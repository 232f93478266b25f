"""No byte that leaves holds the case's personal data: a property test over random people and places.

Hypothesis fills a case with random personal data (name, phone number, code
word, contact note naming an e-mail, a street, a date of birth and the
coordinates of where she stays) and the agency with a shelter of random name,
label and address, a room and bed of random labels, and a stay in that bed
with a random note; then the case is handed off with every event type, pulled
through the API (every page, every record) from a random IP address and
pushed; every emitted byte is searched for each of those values.
"""

from __future__ import annotations

import itertools
import json
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.handoff import service
from advocacy.handoff.service import push
from advocacy.shelters import service as shelters
from advocacy.shelters.models import Bed
from tests import factories
from tests.test_handoff_world import consent, partner, public_resolver, release

_slugs = itertools.count(1)

# Distinctive random words, so that a hit is a leak and never a coincidence with the vocabulary.
word = st.from_regex(r"Zq[a-z]{6,10}", fullmatch=True)
phone = st.from_regex(r"\(2[0-9]{2}\) [2-9][0-9]{2}-[0-9]{4}", fullmatch=True)
person = st.fixed_dictionaries(
    {
        "alias": word,
        "phone": phone,
        "code_word": word,
        "email_user": word,
        "street": word,
        "house": st.integers(min_value=100, max_value=99999),
        "shelter": word,
        "label": st.from_regex(r"ZQ-[0-9]{3}", fullmatch=True),
        "town": word,
        "born": st.dates(min_value=date(1940, 1, 1), max_value=date(2008, 12, 31)),
        "latitude": st.floats(min_value=43.5, max_value=49.0),
        "longitude": st.floats(min_value=-97.2, max_value=-89.5),
        "room": st.from_regex(r"QR[0-9]{3}", fullmatch=True),
        "stay_note": word,
        "ip": st.ip_addresses(v=4).filter(lambda a: a.is_global).map(str),
    }
)

EXAMPLES: dict[str, tuple[dict[str, Any], str | None]] = {
    "victim_contacted": ({"method": "in_person"}, "Met after the hearing."),
    "victim_unreachable": ({"attempts": 2, "reason": "no_answer"}, "Two calls, no answer."),
    "safety_concern_reported": ({"concerns": ["threats"]}, "New threats reported."),
    "protection_order_filed": ({"order_type": "ex_parte"}, None),
    "protection_order_granted": ({"order_type": "full"}, None),
    "protection_order_denied": ({"order_type": "full"}, None),
    "no_contact_violation_reported": ({"violation": ["phone_call"], "reported_to": ["police"]}, None),
    "victim_input_bail": ({"position": "opposes_release"}, None),
    "victim_input_sentencing": ({"impact_statement": "written"}, None),
    "risk_screen_result": ({}, None),
    "court_notification_outcome": ({"outcome": "delivered"}, None),
}


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def __call__(self, request: push.Request) -> int:
        self.bodies.append(request.body + json.dumps(request.headers).encode())
        return 204


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=person)
def test_no_emitted_byte_contains_the_persons_data_or_the_shelters(app, client, clock, data) -> None:  # type: ignore[no-untyped-def]
    slug = f"prop{next(_slugs)}"
    agency = factories.agency(slug)
    advocate = factories.user(agency, Role.ADVOCATE, f"adv-{slug}")
    email = f"{data['email_user']}@example.org"
    address = f"{data['house']} {data['street']} Street, {data['town']}"
    where = f"{data['latitude']:.5f}, {data['longitude']:.5f}"
    case = factories.case(
        advocate,
        data["alias"],
        phone=data["phone"],
        code_word=data["code_word"],
        contact_note=(
            f"Write to {email}; she stays near {address}, at {where}; born {data['born']:%m/%d/%Y}."
        ),
    )
    # Its intake line shared with the network: still nothing of the shelter may leave by a hand-off.
    shelter = factories.shelter(
        agency,
        f"{data['room']}: adult",
        name=data["shelter"],
        label=data["label"],
        address=address,
        intake_phone="218-555-0142",
        intake_phone_shared=True,
    )
    # She stays in that shelter's bed: the stay's note, room and bed are the shelter's secrets too.
    bed = db.session.scalar(select(Bed).where(Bed.shelter_id == shelter.id))
    assert bed is not None and bed.label == f"{data['room']}-A"
    shelters.check_in(factories.system(agency), shelter, [bed.id], note=data["stay_note"])
    factories.screening(case, 1)
    target = partner(agency, "Tracking", push_url="https://hooks.example.org/in")
    service.rotate_secret(factories.system(agency), target)
    consent(case, target)
    who = factories.actor(advocate)
    for event_type, (choices, summary) in EXAMPLES.items():
        release(who, case, target, event_type=event_type, choices=choices, summary=summary)
    token = service.issue_token(factories.system(agency), target).plaintext
    factories.commit()

    emitted: list[bytes] = []
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": data["ip"]}
    from_ip = {"REMOTE_ADDR": data["ip"]}
    cursor = ""
    while True:
        response = client.get(
            f"/api/v1/handoff/?limit=4&cursor={cursor}", headers=headers, environ_base=from_ip
        )
        assert response.status_code == 200
        emitted.append(response.data + str(response.headers).encode())
        page = json.loads(response.data)
        for item in page["records"]:
            one = client.get(f"/api/v1/handoff/{item['record_id']}", headers=headers, environ_base=from_ip)
            emitted.append(one.data + str(one.headers).encode())
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    receiver = Receiver()
    push.deliver_due(receiver, production=True, resolve=public_resolver(), each=db.session.commit)
    db.session.commit()
    assert len(receiver.bodies) == len(EXAMPLES)
    emitted += receiver.bodies

    secrets_ = [
        data["alias"],
        data["phone"],
        data["phone"].replace("(", "").replace(") ", "-"),
        data["code_word"],
        email,
        data["street"],
        data["town"],
        data["shelter"],
        data["label"],
        address,
        "555-0142",
        "5550142",
        data["born"].isoformat(),
        f"{data['born']:%m/%d/%Y}",
        f"{data['latitude']:.5f}",
        f"{data['longitude']:.5f}",
        f"{data['latitude']:.3f}",
        data["room"],
        bed.label,
        data["stay_note"],
        data["ip"],
    ]
    everything = b"\n".join(emitted).decode("utf-8").casefold()
    leaked = [value for value in secrets_ if value.casefold() in everything]
    assert not leaked, leaked
    # Integer ids of the case and the shelter are nowhere in a record either.
    for body in receiver.bodies:
        record = json.loads(body.split(b'{"webhook-id"')[0])
        values = [v for k, v in record.items() if k != "schema_version"]
        assert case.id not in values and shelter.id not in values and bed.id not in values
