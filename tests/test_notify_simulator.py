"""Development's "Simulate a phone": staff play the victim's phone and the
phone company, and every text reaches the app's own webhook signed the way
Twilio signs it, so the whole conversation works without a Twilio account.
In production the page does not exist."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from advocacy import create_app
from advocacy.clock import FrozenClock
from advocacy.extensions import db
from advocacy.notify.models import InboundMessage, MessageState, OutboxMessage, ReplyKind, Subscription
from advocacy.notify.service.worker import Worker
from advocacy.notify.simulator import development_token, webhook_tokens
from advocacy.notify.transport import ConsoleSender
from advocacy.roles import Role
from tests import factories, twilio_fake
from tests.helpers import sign_in, text_of

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # noon in Chicago: no quiet hours
VICTIM = "+12185550101"
PUBLIC = "https://advocacy.example.org"


@pytest.fixture
def world(app: Any, clock: FrozenClock, client: Any) -> dict[str, Any]:
    clock.set(NOW)
    # A development machine: no Twilio account, the console backend, a public base URL.
    app.config["SETTINGS"] = dataclasses.replace(
        app.config["SETTINGS"], twilio_auth_token="", sms_backend="console", public_base_url=PUBLIC
    )
    north = factories.agency("north")
    advocate = factories.user(north, Role.ADVOCATE)
    case = factories.case(advocate, "Maple", phone=VICTIM, safe_to_text=True, consent_sms=True)
    sign_in(client, advocate)
    return {"agency": north, "advocate": advocate, "case": case}


def send_due(app: Any) -> ConsoleSender:
    outbox = ConsoleSender()
    Worker(app, lambda: outbox).run_until_idle()
    return outbox


def the_phone(client: Any, sub: Subscription) -> str:
    page = client.get(f"/notify/simulate/?phone={sub.id}")
    assert page.status_code == 200
    return html.unescape(text_of(page))


def text_from_the_phone(client: Any, sub: Subscription, words: str) -> str:
    done = client.post(f"/notify/simulate/{sub.id}/text", data={"body": words})
    assert done.status_code == 302
    return the_phone(client, sub)


def subscription() -> Subscription:
    db.session.expire_all()
    return db.session.scalars(select(Subscription)).one()


def test_the_whole_conversation_works_without_a_twilio_account(
    world: dict[str, Any], app: Any, client: Any
) -> None:
    case = world["case"]
    assert "Simulate a phone" in text_of(client.get("/notify/outbox"))
    client.post(f"/notify/cases/{case.id}/enrol", data={"source": "contact", "locale": "en"})
    send_due(app)
    sub = subscription()
    # The phone shows the code the app texted; the victim reads it to the advocate.
    phone = the_phone(client, sub)
    code = re.search(r"your code is (\d{6})", phone).group(1)  # type: ignore[union-attr]
    client.post(f"/notify/cases/{case.id}/confirm", data={"code": code})
    assert subscription().state == "confirmed"

    phone = text_from_the_phone(client, sub, "HELP")
    assert "The app answered:" in phone and "appointment reminders by text. Questions:" in phone
    phone = text_from_the_phone(client, sub, "C")
    assert "The app answered: Thank you, we got your reply." in phone
    phone = text_from_the_phone(client, sub, "STOP")
    assert "you will get no more texts from us" in phone
    assert not subscription().live
    phone = text_from_the_phone(client, sub, "START")
    assert "your reminders are back on" in phone
    assert subscription().state == "confirmed"
    phone = text_from_the_phone(client, sub, "Can I bring my sister?")
    assert "The app received the text and did not answer it." in phone
    assert "Can I bring my sister?" in phone  # the conversation shows what the phone sent
    kinds = [m.kind for m in db.session.scalars(select(InboundMessage).order_by(InboundMessage.id))]
    assert kinds == [ReplyKind.HELP, ReplyKind.CONFIRM, ReplyKind.OPT_OUT, ReplyKind.OPT_IN, ReplyKind.OTHER]


def test_a_status_report_reaches_the_status_webhook(world: dict[str, Any], app: Any, client: Any) -> None:
    client.post(f"/notify/cases/{world['case'].id}/enrol", data={"source": "contact", "locale": "en"})
    send_due(app)
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.state == MessageState.SENT
    client.post(f"/notify/simulate/messages/{message.id}/status", data={"status": "delivered"})
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).state == MessageState.DELIVERED
    assert "The phone company reported: delivered." in the_phone(client, subscription())


def test_the_simulator_signs_like_twilio_and_a_forgery_is_still_refused(
    world: dict[str, Any], app: Any, client: Any
) -> None:
    from twilio.request_validator import RequestValidator

    settings = app.config["SETTINGS"]
    assert webhook_tokens(settings) == [development_token(settings.secret_key)]
    params = {"MessageSid": "SM" + "1" * 32, "From": VICTIM, "Body": "STOP"}
    url = PUBLIC + "/notify/twilio/inbound"
    forged = RequestValidator(twilio_fake.AUTH_TOKEN).compute_signature(url, params)
    refused = client.post(
        "/notify/twilio/inbound", data=params, headers={"X-Twilio-Signature": forged}, csrf=False
    )
    assert refused.status_code == 403
    genuine = RequestValidator(development_token(settings.secret_key)).compute_signature(url, params)
    accepted = client.post(
        "/notify/twilio/inbound", data=params, headers={"X-Twilio-Signature": genuine}, csrf=False
    )
    assert accepted.status_code == 200
    # With a Twilio account configured, the simulator signs with its auth token, as Twilio does.
    real = dataclasses.replace(settings, twilio_auth_token=twilio_fake.AUTH_TOKEN)
    assert webhook_tokens(real)[0] == twilio_fake.AUTH_TOKEN


def test_another_agencys_phone_cannot_be_simulated(world: dict[str, Any], app: Any, client: Any) -> None:
    client.post(f"/notify/cases/{world['case'].id}/enrol", data={"source": "contact", "locale": "en"})
    sub = subscription()
    south = factories.agency("south")
    sign_in(client, factories.user(south, Role.ADVOCATE))
    assert "Maple" not in text_of(client.get("/notify/simulate/"))
    assert client.post(f"/notify/simulate/{sub.id}/text", data={"body": "STOP"}).status_code == 404
    assert db.session.scalars(select(InboundMessage)).all() == []


@pytest.fixture
def production_app(app: Flask) -> Iterator[Flask]:
    settings = dataclasses.replace(
        app.config["SETTINGS"], env="production", public_base_url="https://advocacy.example"
    )
    prod = create_app(settings)
    yield prod
    with prod.app_context():
        db.session.remove()
        db.engine.dispose()


def test_in_production_the_simulator_does_not_exist(production_app: Flask) -> None:
    assert not [r for r in production_app.url_map.iter_rules() if r.endpoint.startswith("notify_sim.")]
    assert "notify.twilio_inbound" in production_app.view_functions
    response = production_app.test_client().get("/notify/simulate/", base_url="https://advocacy.example")
    assert response.status_code == 404
    # Nor does its development signing token: without a Twilio token every webhook is refused.
    assert webhook_tokens(production_app.config["SETTINGS"]) == []
