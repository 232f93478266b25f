"""Twilio's webhooks: signed or refused, idempotent, and the victim's side of
the conversation as scripts (send "STOP", expect the reply and the opt-out)."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from twilio.request_validator import RequestValidator

from advocacy.clock import FrozenClock
from advocacy.extensions import db
from advocacy.notify import texts
from advocacy.notify.models import (
    Attention,
    InboundMessage,
    MessageKind,
    MessageState,
    OutboxMessage,
    ReplyKind,
    SmsCallback,
    Subscription,
    SubscriptionState,
)
from advocacy.notify.service import enqueue
from advocacy.notify.service.worker import Worker
from advocacy.notify.transport import TwilioSender, fake_sid
from advocacy.roles import Role
from tests import factories, twilio_fake

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
VICTIM = "+12185550101"
PUBLIC = "https://advocacy.example.org"
STATUS = "/notify/twilio/status"
INBOUND = "/notify/twilio/inbound"


@pytest.fixture
def world(app: Any, clock: FrozenClock) -> dict[str, Any]:
    clock.set(NOW)
    app.config["SETTINGS"] = dataclasses.replace(
        app.config["SETTINGS"], twilio_auth_token=twilio_fake.AUTH_TOKEN, public_base_url=PUBLIC
    )
    north = factories.agency("north")
    advocate = factories.user(north, Role.ADVOCATE)
    case = factories.case(advocate, "Maple", phone=VICTIM, safe_to_text=True, consent_sms=True)
    factories.sms_sender(north)
    factories.commit()
    return {"agency": north, "advocate": advocate, "case": case, "actor": factories.actor(advocate)}


def subscribe(world: dict[str, Any], locale: str = "en") -> Subscription:
    return factories.confirmed_subscription(world["actor"], world["case"], locale)


def signed_post(
    client: Any, path: str, params: dict[str, str], *, token: str = twilio_fake.AUTH_TOKEN
) -> Any:
    signature = RequestValidator(token).compute_signature(PUBLIC + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature}, csrf=False)


def text_in(client: Any, body: str, *, sender: str = VICTIM, sid: str | None = None, **extra: str) -> Any:
    params = {
        "MessageSid": sid or fake_sid(),
        "From": sender,
        "To": twilio_fake.FROM_NUMBER,
        "Body": body,
        "MessagingServiceSid": twilio_fake.SERVICE_SID,
        **extra,
    }
    return signed_post(client, INBOUND, params)


def reply_of(response: Any) -> str:
    text = response.get_data(as_text=True)
    if "<Message>" not in text:
        return ""
    return text.split("<Message>", 1)[1].split("</Message>", 1)[0]


def expected(template: str, locale: str) -> str:
    rendered = texts.render(template, locale, program="North Reminders", contact="218-555-0199")
    assert rendered is not None
    return rendered.text.replace("&", "&amp;")


def sent_reminder(world: dict[str, Any], app: Any, clock: FrozenClock, sub: Subscription) -> OutboxMessage:
    enqueue(
        world["actor"],
        sub,
        MessageKind.REMINDER,
        {"starts_at": NOW + timedelta(days=1)},
        NOW + timedelta(hours=1),
        NOW + timedelta(hours=23),
        ("court_event", 7),
    )
    factories.commit()
    clock.advance(hours=1)
    http = twilio_fake.RecordingHttpClient(responder=lambda r: twilio_fake.created(sid=fake_sid()))
    Worker(
        app, lambda: TwilioSender(twilio_fake.ACCOUNT_SID, twilio_fake.AUTH_TOKEN, http_client=http)
    ).run_until_idle()
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MessageKind.REMINDER)).one()


# --- Signatures ----------------------------------------------------------------------------


def test_an_unsigned_or_badly_signed_webhook_is_refused_and_changes_nothing(
    world: dict[str, Any], client: Any
) -> None:
    sub = subscribe(world)
    params = {"MessageSid": fake_sid(), "From": VICTIM, "Body": "STOP"}
    assert client.post(INBOUND, data=params, csrf=False).status_code == 403
    assert signed_post(client, INBOUND, params, token="another-token-0123456789abcdef").status_code == 403
    assert (
        client.post(
            INBOUND, data=params, headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, csrf=False
        ).status_code
        == 403
    )
    assert (
        client.post(
            STATUS, data={"MessageSid": fake_sid(), "MessageStatus": "delivered"}, csrf=False
        ).status_code
        == 403
    )
    db.session.refresh(sub)
    assert sub.state == SubscriptionState.CONFIRMED
    assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 0
    assert db.session.scalar(select(func.count()).select_from(SmsCallback)) == 0


def test_a_signature_is_checked_against_the_public_url_not_the_host_header(
    world: dict[str, Any], client: Any
) -> None:
    params = {"MessageSid": fake_sid(), "From": VICTIM, "Body": "HELP"}
    local = RequestValidator(twilio_fake.AUTH_TOKEN).compute_signature("http://localhost" + INBOUND, params)
    assert (
        client.post(INBOUND, data=params, headers={"X-Twilio-Signature": local}, csrf=False).status_code
        == 403
    )


# --- Status callbacks -------------------------------------------------------------------------


def test_a_delivered_callback_marks_the_reminder_delivered(
    world: dict[str, Any], app: Any, client: Any, clock: FrozenClock
) -> None:
    reminder = sent_reminder(world, app, clock, subscribe(world))
    response = signed_post(
        client, STATUS, {"MessageSid": reminder.provider_sid, "MessageStatus": "delivered"}
    )
    assert response.status_code == 204
    db.session.refresh(reminder)
    assert reminder.state == MessageState.DELIVERED and reminder.provider_status == "delivered"


def test_a_replayed_callback_changes_nothing(
    world: dict[str, Any], app: Any, client: Any, clock: FrozenClock
) -> None:
    reminder = sent_reminder(world, app, clock, subscribe(world))
    params = {"MessageSid": reminder.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30007"}
    signed_post(client, STATUS, params)
    db.session.refresh(reminder)
    assert (reminder.state, reminder.attention) == (MessageState.FAILED, Attention.FILTERED)
    reminder.attention = None
    factories.commit()
    signed_post(client, STATUS, params)
    db.session.refresh(reminder)
    assert reminder.attention is None
    assert db.session.scalar(select(func.count()).select_from(SmsCallback)) == 1


def test_out_of_order_callbacks_keep_the_furthest_status(
    world: dict[str, Any], app: Any, client: Any, clock: FrozenClock
) -> None:
    reminder = sent_reminder(world, app, clock, subscribe(world))
    for status in ("delivered", "sent", "queued"):
        signed_post(client, STATUS, {"MessageSid": reminder.provider_sid, "MessageStatus": status})
    db.session.refresh(reminder)
    assert reminder.state == MessageState.DELIVERED and reminder.provider_status == "delivered"


CALLBACK_PATHS = [
    ("30003", MessageState.QUEUED, None, SubscriptionState.CONFIRMED),
    ("30005", MessageState.FAILED, Attention.INVALID_NUMBER, SubscriptionState.ENDED),
    ("30006", MessageState.FAILED, Attention.INVALID_NUMBER, SubscriptionState.ENDED),
    ("30007", MessageState.FAILED, Attention.FILTERED, SubscriptionState.CONFIRMED),
    ("21610", MessageState.FAILED, Attention.OPTED_OUT, SubscriptionState.OPTED_OUT),
    ("30008", MessageState.FAILED, Attention.UNDELIVERABLE, SubscriptionState.CONFIRMED),
]


@pytest.mark.parametrize(("code", "state", "attention", "sub_state"), CALLBACK_PATHS)
def test_each_undelivered_code_path(
    world: dict[str, Any],
    app: Any,
    client: Any,
    clock: FrozenClock,
    code: str,
    state: Any,
    attention: Any,
    sub_state: Any,
) -> None:
    sub = subscribe(world)
    reminder = sent_reminder(world, app, clock, sub)
    signed_post(
        client,
        STATUS,
        {"MessageSid": reminder.provider_sid, "MessageStatus": "undelivered", "ErrorCode": code},
    )
    db.session.refresh(reminder)
    db.session.refresh(sub)
    assert (reminder.state, reminder.attention, sub.state) == (state, attention, sub_state)


def test_30003_is_retried_once_only(world: dict[str, Any], app: Any, client: Any, clock: FrozenClock) -> None:
    sub = subscribe(world)
    reminder = sent_reminder(world, app, clock, sub)
    signed_post(
        client,
        STATUS,
        {"MessageSid": reminder.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30003"},
    )
    clock.advance(minutes=31)
    http = twilio_fake.RecordingHttpClient(responder=lambda r: twilio_fake.created(sid=fake_sid()))
    Worker(
        app, lambda: TwilioSender(twilio_fake.ACCOUNT_SID, twilio_fake.AUTH_TOKEN, http_client=http)
    ).run_until_idle()
    assert len(http.requests) == 1
    db.session.refresh(reminder)
    signed_post(
        client,
        STATUS,
        {"MessageSid": reminder.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30003"},
    )
    db.session.refresh(reminder)
    assert (reminder.state, reminder.attention) == (MessageState.FAILED, Attention.UNDELIVERABLE)


# --- Conversations ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "es", "so", "ar"])
def test_victim_replies_stop_then_start(world: dict[str, Any], client: Any, locale: str) -> None:
    sub = subscribe(world, locale)
    assert reply_of(text_in(client, "STOP")) == expected("opt_out", locale)
    db.session.refresh(sub)
    assert sub.state == SubscriptionState.OPTED_OUT
    assert reply_of(text_in(client, "start")) == expected("opt_in", locale)
    db.session.refresh(sub)
    assert sub.state == SubscriptionState.CONFIRMED


@pytest.mark.parametrize("locale", ["en", "es", "so", "ar"])
def test_victim_asks_for_help(world: dict[str, Any], client: Any, locale: str) -> None:
    subscribe(world, locale)
    assert reply_of(text_in(client, "Help")) == expected("help", locale)


@pytest.mark.parametrize(
    ("locale", "word"), [("en", "C"), ("es", "confirmo"), ("so", "Xaqiiji"), ("ar", "تأكيد")]
)
def test_victim_confirms_attendance(world: dict[str, Any], client: Any, locale: str, word: str) -> None:
    subscribe(world, locale)
    assert reply_of(text_in(client, word)) == expected("attendance_confirmed", locale)
    reply = db.session.scalars(select(InboundMessage)).one()
    assert reply.kind == ReplyKind.CONFIRM and reply.body == word


def test_anything_else_reaches_the_advocate_without_a_reply(world: dict[str, Any], client: Any) -> None:
    subscribe(world)
    assert reply_of(text_in(client, "Can I bring my sister?")) == ""
    reply = db.session.scalars(select(InboundMessage)).one()
    assert reply.kind == ReplyKind.OTHER and reply.handled_at is None
    stored = db.session.execute(text("SELECT body FROM sms_inbound")).scalar_one()
    assert "sister" not in stored  # encrypted at rest


def test_a_stranger_gets_no_reply(world: dict[str, Any], client: Any) -> None:
    subscribe(world)
    assert reply_of(text_in(client, "HELP", sender="+12185550177")) == ""
    assert reply_of(text_in(client, "STOP", sender="+12185550177")) == ""


def test_advanced_opt_out_is_honoured_without_a_second_reply(world: dict[str, Any], client: Any) -> None:
    sub = subscribe(world)
    assert reply_of(text_in(client, "arrete", OptOutType="STOP")) == ""
    db.session.refresh(sub)
    assert sub.state == SubscriptionState.OPTED_OUT


def test_twilio_retrying_an_inbound_message_changes_nothing(world: dict[str, Any], client: Any) -> None:
    sub = subscribe(world)
    sid = fake_sid()
    text_in(client, "STOP", sid=sid)
    text_in(client, "START", sid=secrets.token_hex(1) + sid[2:])
    db.session.refresh(sub)
    assert sub.state == SubscriptionState.CONFIRMED
    assert reply_of(text_in(client, "STOP", sid=sid)) == ""
    db.session.refresh(sub)
    assert sub.state == SubscriptionState.CONFIRMED
