"""Development only: "Simulate a phone", a staff page that plays the
victim's phone and Twilio, so the whole conversation (the code, STOP,
START, HELP, C) can be tried without a Twilio account.

It shows the texts the app sent to one enrolled number (the console
backend's words), and sends, *as Twilio would*, an inbound message from
that number or a status callback for one of its texts to the app's own
webhook: form-encoded, signed with ``twilio.request_validator`` over the
configured public base URL, through the app's whole WSGI stack (security
guards, signature check, unit of work).  Nothing here bypasses the
webhook's check; the request is made from a thread of its own, so it gets
its own app context and database session, as a request from outside does.

Signing needs the auth token.  With ``TWILIO_AUTH_TOKEN`` set, that one
(exactly what Twilio does); without it, a development token derived from
the secret key, which the webhooks accept only outside production
(:func:`webhook_tokens`).  The blueprint is registered only outside
production (:func:`register`): in production these URLs do not exist.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator
from werkzeug.test import Client

from advocacy.access import current_actor, get_scoped, roles_required, scoped
from advocacy.extensions import db
from advocacy.intake.models import Case
from advocacy.intake.service import CASE_ROLES
from advocacy.notify.models import InboundMessage, OutboxMessage, Subscription
from advocacy.notify.service import enrol
from advocacy.notify.service.render import render_message
from advocacy.notify.signatures import FORM, webhook_url
from advocacy.notify.transport import fake_sid

sim = Blueprint("notify_sim", __name__, url_prefix="/notify/simulate")

#: The statuses a staff member can make Twilio report, with the error code each carries.
CALLBACKS = {
    "delivered": ("delivered", None),
    "undelivered-30003": ("undelivered", "30003"),
    "undelivered-30005": ("undelivered", "30005"),
    "undelivered-30007": ("undelivered", "30007"),
    "failed-21610": ("failed", "21610"),
}
#: The replies offered as one-click buttons (the victim may also type anything).
QUICK_REPLIES = ("C", "HELP", "STOP", "START")
#: A development account's Account SID, for the form field Twilio always sends.
ACCOUNT_SID = "AC" + "0" * 32


def register(app: Flask) -> None:
    """Add the simulator to ``app`` unless it runs in production."""
    if not app.config["SETTINGS"].is_production:
        app.register_blueprint(sim)


def development_token(secret_key: str) -> str:
    """The auth token the simulator signs with when there is no Twilio account."""
    return hmac.new(secret_key.encode(), b"advocacy.notify.simulator", hashlib.sha256).hexdigest()


def webhook_tokens(settings: Any) -> list[str]:
    """The auth tokens a webhook signature may be made with: Twilio's, and
    outside production the simulator's development token."""
    tokens = [settings.twilio_auth_token] if settings.twilio_auth_token else []
    if not settings.is_production:
        tokens.append(development_token(settings.secret_key))
    return tokens


@dataclass(frozen=True)
class Delivery:
    status: int
    #: The text of the TwiML ``<Message>`` the app answered with, if any.
    reply: str | None


def _twiml_reply(body: bytes) -> str | None:
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - our own app's answer
    except ElementTree.ParseError:
        return None
    message = root.find("Message")
    return message.text if message is not None else None


def deliver(app: Flask, endpoint: str, params: dict[str, str]) -> Delivery:
    """POST ``params`` to the app's webhook ``endpoint``, signed as Twilio signs."""
    settings = app.config["SETTINGS"]
    base = settings.public_base_url.rstrip("/")
    with app.test_request_context(base_url=base + "/"):
        path = url_for(endpoint)
        script_root = request.script_root
    relative = path[len(script_root) :] if script_root and path.startswith(script_root) else path
    signature = RequestValidator(webhook_tokens(settings)[0]).compute_signature(
        webhook_url(base, relative), params
    )
    outcome: list[Delivery] = []

    def post() -> None:
        response = Client(app).post(
            relative,
            base_url=base + "/",
            data=params,
            content_type=FORM,
            headers={SIGNATURE_HEADER: signature, "User-Agent": "TwilioProxy/1.1"},
        )
        outcome.append(Delivery(response.status_code, _twiml_reply(response.get_data())))

    # A thread of its own: a fresh app context and session, as for a request from outside.
    thread = threading.Thread(target=post, name="sms-simulator")
    thread.start()
    thread.join()
    return outcome[0] if outcome else Delivery(500, None)


@dataclass(frozen=True)
class Line:
    at: datetime
    incoming: bool
    words: str
    message: OutboxMessage | None = None


def conversation(subscription: Subscription) -> list[Line]:
    """What the phone shows: texts the app sent it and texts it sent, oldest first."""
    sender = enrol.sender_for(subscription.agency_id)
    lines: list[Line] = []
    for message in db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.subscription_id == subscription.id, OutboxMessage.provider_sid.is_not(None)
        )
    ):
        try:
            words = render_message(message, sender).text
        except (ValueError, KeyError):
            words = ""
        lines.append(Line(message.sent_at or message.updated_at or message.created_at, False, words, message))
    for inbound in db.session.scalars(
        select(InboundMessage).where(InboundMessage.subscription_id == subscription.id)
    ):
        lines.append(Line(inbound.received_at, True, inbound.body))
    return sorted(lines, key=lambda line: line.at)


def _phones(actor: Any) -> list[Subscription]:
    """The agency's enrolled numbers, newest first; ended ones too (a phone
    that replied STOP can still reply START)."""
    stmt = scoped(actor, select(Subscription), Subscription.agency_id, *CASE_ROLES)
    return list(db.session.scalars(stmt.order_by(Subscription.id.desc()).limit(50)))


@sim.route("/")
@roles_required(*CASE_ROLES)
def phone() -> Any:
    actor = current_actor()
    phones = _phones(actor)
    chosen = request.args.get("phone", type=int)
    current = next((s for s in phones if s.id == chosen), phones[0] if phones else None)
    return render_template(
        "notify/simulate.html",
        phones=phones,
        aliases={s.case_id: case.alias for s in phones if (case := db.session.get(Case, s.case_id))},
        current=current,
        lines=conversation(current) if current else [],
        quick=QUICK_REPLIES,
    )


def _back(subscription: Subscription) -> Any:
    return redirect(url_for("notify_sim.phone", phone=subscription.id))


def _commit_first() -> None:
    """End this request's own transaction before the webhook runs: on SQLite
    a write this request made (the session's last-seen time) would hold the
    one write lock the webhook needs."""
    db.session.commit()


@sim.route("/<id:subscription_id>/text", methods=["POST"])
@roles_required(*CASE_ROLES)
def text(subscription_id: int) -> Any:
    subscription = get_scoped(current_actor(), Subscription, subscription_id, *CASE_ROLES)
    body = (request.form.get("body") or "").strip()[:320]
    if not body:
        flash(_("Type the text the phone sends."), "error")
        return _back(subscription)
    sender = enrol.sender_for(subscription.agency_id)
    settings = current_app.config["SETTINGS"]
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "Body": body,
        "From": subscription.phone,
        "MessageSid": fake_sid(),
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "To": sender.from_number or settings.twilio_from_number or "+15005550006",
    }
    params["SmsSid"] = params["MessageSid"]
    if sender.messaging_service_sid:
        params["MessagingServiceSid"] = sender.messaging_service_sid
    _commit_first()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    answer = deliver(app, "notify.twilio_inbound", params)
    db.session.expire_all()
    if answer.status != 200:
        flash(_("The app refused the text (HTTP %(status)s).", status=answer.status), "error")
    elif answer.reply:
        flash(_("The app answered: %(reply)s", reply=answer.reply), "info")
    else:
        flash(_("The app received the text and did not answer it."), "info")
    return _back(subscription)


@sim.route("/messages/<id:message_id>/status", methods=["POST"])
@roles_required(*CASE_ROLES)
def status(message_id: int) -> Any:
    message = get_scoped(current_actor(), OutboxMessage, message_id, *CASE_ROLES)
    choice = CALLBACKS.get(request.form.get("status", ""))
    if (
        choice is None
        or not message.provider_sid
        or not re.fullmatch(r"SM[0-9a-f]{32}", message.provider_sid)
    ):
        flash(_("Choose what the phone company reports."), "error")
        return _back(message.subscription)
    state, code = choice
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "MessageSid": message.provider_sid,
        "SmsSid": message.provider_sid,
        "MessageStatus": state,
        "SmsStatus": state,
        "To": message.subscription.phone,
    }
    if code:
        params["ErrorCode"] = code
    _commit_first()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    answer = deliver(app, "notify.twilio_status", params)
    db.session.expire_all()
    if answer.status >= 300:
        flash(_("The app refused the status report (HTTP %(status)s).", status=answer.status), "error")
    else:
        flash(_("The phone company reported: %(status)s.", status=state), "info")
    return _back(message.subscription)
