"""What the admin and the advocate do in the browser: partners and keys, consents, preview and release."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.handoff.models import Consent, HandoffRecord, Partner, PartnerToken
from tests import factories
from tests.helpers import sign_in, text_of
from tests.test_handoff_world import consent, world


def test_an_admin_registers_a_partner_and_sees_its_token_once(app, client, clock) -> None:
    north = factories.agency("north")
    admin = factories.user(north, Role.ADMIN, "admin")
    sign_in(client, admin)
    response = client.post(
        "/handoff/partners",
        data={"name": "County tracking", "event_types": ["victim_contacted", "risk_screen_result"]},
    )
    assert response.status_code == 302
    partner = db.session.scalar(select(Partner))
    assert partner is not None and partner.event_types == ["victim_contacted", "risk_screen_result"]
    page = client.post(f"/handoff/partners/{partner.id}/tokens", data={"action": "issue"})
    token = db.session.scalar(select(PartnerToken))
    shown = text_of(page)
    plaintext = next(word for word in shown.split() if word.startswith("hop_"))
    assert token is not None and token.prefix == plaintext[:10]
    again = text_of(client.get(f"/handoff/partners/{partner.id}"))
    assert plaintext not in again and token.prefix in again


def test_a_push_url_to_a_private_address_is_refused_on_the_form(app, client, clock) -> None:
    north = factories.agency("north")
    sign_in(client, factories.user(north, Role.ADMIN, "admin"))
    response = client.post(
        "/handoff/partners",
        data={"name": "T", "event_types": ["victim_contacted"], "push_url": "http://169.254.169.254/latest"},
    )
    assert response.status_code == 400
    assert db.session.scalar(select(Partner)) is None


def test_an_advocate_is_told_why_a_hand_off_is_not_allowed_and_what_would_allow_it(
    app, client, clock
) -> None:
    _north, advocate, case, tracking = world()
    sign_in(client, advocate)
    response = client.get(f"/handoff/cases/{case.id}/new?partner={tracking.id}&event_type=victim_contacted")
    assert response.status_code == 403
    text = text_of(response)
    assert "no release of information" in text and "signed release of information" in text


def test_an_advocate_records_consent_previews_the_exact_bytes_and_sends_them(app, client, clock) -> None:
    _north, advocate, case, tracking = world()
    sign_in(client, advocate)
    today = clock.now().date()
    recorded = client.post(
        f"/handoff/cases/{case.id}/consents/new",
        data={
            "partner": str(tracking.id),
            "event_types": ["victim_contacted"],
            "given_on": today.isoformat(),
            "means": "signed_paper",
            "form_reference": "ROI 117",
            "expires_on": (today + timedelta(days=90)).isoformat(),
        },
    )
    assert recorded.status_code == 302, text_of(recorded)
    assert db.session.scalar(select(Consent)) is not None
    values = {
        "partner": str(tracking.id),
        "event_type": "victim_contacted",
        "partner_case_reference": "27-CR-26-1187",
        "event_date": today.isoformat(),
        "choice_method": "phone",
        "summary": "Reached her after court.",
    }
    preview = client.post(f"/handoff/cases/{case.id}/new", data={**values, "action": "preview"})
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    record_id = html.split('name="record_id" value="')[1].split('"')[0]
    assert db.session.scalar(select(HandoffRecord)) is None
    sent = client.post(
        f"/handoff/cases/{case.id}/new", data={**values, "action": "send", "record_id": record_id}
    )
    assert sent.status_code == 302
    record = db.session.scalar(select(HandoffRecord))
    assert record is not None and record.uuid == record_id
    # What the preview showed is byte for byte what is kept and sent.
    import html as html_lib

    shown = html_lib.unescape(html.split('<pre class="app-handoff-bytes">')[1].split("</pre>")[0])
    assert shown == record.body
    assert json.loads(record.body)["summary"] == "Reached her after court."
    page = text_of(client.get(f"/cases/{case.id}"))
    assert "Victim contacted" in page and "Released, not yet received" in page


def test_an_address_in_the_summary_is_highlighted_and_nothing_is_sent(app, client, clock) -> None:
    _north, advocate, case, tracking = world()
    consent(case, tracking)
    sign_in(client, advocate)
    response = client.post(
        f"/handoff/cases/{case.id}/new",
        data={
            "partner": str(tracking.id),
            "event_type": "victim_contacted",
            "partner_case_reference": "27-CR-26-1187",
            "event_date": clock.now().date().isoformat(),
            "choice_method": "phone",
            "summary": "She is at 4410 Grand Ave now.",
            "action": "send",
        },
    )
    assert response.status_code == 400
    assert "<mark>4410 Grand Ave" in response.get_data(as_text=True)
    assert db.session.scalar(select(HandoffRecord)) is None


def test_the_case_page_costs_the_same_with_many_consents_and_records(app, client, clock) -> None:
    from advocacy.handoff import service as handoff
    from tests.statements import counted
    from tests.test_handoff_world import partner, release

    north, advocate, case, tracking = world()
    other = partner(north, "Probation")
    consent(case, tracking)
    release(factories.actor(advocate), case, tracking)
    sign_in(client, advocate)
    client.get(f"/cases/{case.id}")
    with counted() as few:
        assert client.get(f"/cases/{case.id}").status_code == 200
    consent(case, other)
    for _ in range(4):
        release(factories.actor(advocate), case, other)
    assert len(handoff.records_of(case)) == 5
    with counted() as many:
        assert client.get(f"/cases/{case.id}").status_code == 200
    assert len(many) <= len(few), "\n".join(str(s)[:90] for s in many)


def test_the_admin_and_the_advocate_see_each_pushs_delivery_state(app, client, clock) -> None:
    from advocacy.handoff import service as handoff
    from advocacy.handoff.service import push
    from tests.test_handoff_world import partner, public_resolver, release

    north, advocate, case, _tracking = world()
    admin = factories.user(north, Role.ADMIN, "admin")
    pushing = partner(north, "Pushing", push_url="https://hooks.example.org/in")
    handoff.rotate_secret(factories.system(north), pushing)
    consent(case, pushing)
    who = factories.actor(advocate)
    for _ in range(3):
        release(who, case, pushing)
    answers = iter([204, 500, 500])
    push.deliver_due(lambda _request: next(answers), production=True, resolve=public_resolver())
    factories.commit()

    sign_in(client, admin)
    pushes = text_of(client.get(f"/handoff/partners/{pushing.id}")).split("Pushes", 1)[1]
    assert "Waiting 2" in pushes and "Pushed 1" in pushes and "Gave up 0" in pushes
    sign_in(client, advocate)
    records = text_of(client.get(f"/cases/{case.id}")).split("Records shared", 1)[1]
    assert records.count("Waiting to be pushed (1 attempt)") == 2
    assert "Received by the partner Pushed (1 attempt)" in records
