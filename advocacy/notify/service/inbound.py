"""A victim's reply: keywords handled in their language, the rest to the inbox.

Called by the inbound webhook after its signature was checked; answers with
the reply text to put in the TwiML response (or None: no reply).  A reply
costs no call to Twilio inside the webhook: Twilio sends the TwiML message
itself.

* STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT (and REVOKE, OPTOUT): the
  subscription is opted out and its queued texts cancelled.
* START, UNSTOP, YES: an opted-out subscription is confirmed again.
* HELP, INFO: the help text in the subscription's language.
* "C" or the language's word for "I confirm": recorded as an attendance
  confirmation for the advocate, with a short thanks.
* Anything else: the advocate's inbox, no reply.

When the Messaging Service has Advanced Opt-Out on, Twilio has already
answered STOP, START and HELP and says so with ``OptOutType``: the keyword
is honoured and no second reply is sent.

A number no subscription knows gets no reply at all (a reply would confirm
to whoever holds the phone that the number means something here).  Bodies
are stored encrypted and never logged.  Idempotent by MessageSid: Twilio's
retry of the same message changes nothing and gets the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from advocacy import clock
from advocacy.actor import Actor
from advocacy.audit.service import record
from advocacy.extensions import db
from advocacy.notify import texts
from advocacy.notify.models import (
    EndReason,
    InboundMessage,
    ReplyKind,
    SmsSender,
    Subscription,
    SubscriptionState,
)
from advocacy.notify.phones import phone_lookup_hash
from advocacy.notify.service.enrol import end_subscription, hash_key, sender_for

SYSTEM = Actor.system("sms-inbound")
MAX_BODY = 1600


@dataclass(frozen=True)
class Inbound:
    message_sid: str
    from_number: str
    body: str
    messaging_service_sid: str | None = None
    opt_out_type: str | None = None


def find_subscription(from_number: str, messaging_service_sid: str | None) -> Subscription | None:
    """The subscription this number texts from: the live one first, then the
    most recent; within the agency whose Messaging Service received it when
    several agencies know the number."""
    try:
        digest = phone_lookup_hash(from_number, hash_key())
    except ValueError:
        return None
    stmt = select(Subscription).where(Subscription.phone_hash == digest)
    if messaging_service_sid:
        agencies = select(SmsSender.agency_id).where(SmsSender.messaging_service_sid == messaging_service_sid)
        stmt = stmt.where(Subscription.agency_id.in_(agencies))
    candidates = list(db.session.scalars(stmt.order_by(Subscription.id.desc())))
    live = [s for s in candidates if s.live]
    return (live or candidates or [None])[0]


def _reply(template: str, subscription: Subscription) -> str | None:
    sender = sender_for(subscription.agency_id)
    rendered = texts.render(
        template, subscription.locale, program=sender.program_name, contact=sender.help_contact or "-"
    )
    return rendered.text if rendered is not None else None


def handle_inbound(message: Inbound) -> str | None:
    """Record and act on one inbound text; the reply to send, or None."""
    if db.session.scalar(select(InboundMessage.id).where(InboundMessage.message_sid == message.message_sid)):
        return None  # a retry: already handled (and answered the first time)
    subscription = find_subscription(message.from_number, message.messaging_service_sid)
    locale = subscription.locale if subscription is not None else texts.SOURCE_LOCALE
    kind_name = texts.classify_reply(message.body, locale)
    kind = ReplyKind(kind_name) if kind_name else ReplyKind.OTHER
    advanced = (message.opt_out_type or "").upper()
    if advanced == "STOP":
        kind = ReplyKind.OPT_OUT
    elif advanced == "START":
        kind = ReplyKind.OPT_IN
    elif advanced == "HELP":
        kind = ReplyKind.HELP
    db.session.add(
        InboundMessage(
            message_sid=message.message_sid,
            agency_id=subscription.agency_id if subscription else None,
            subscription_id=subscription.id if subscription else None,
            body=message.body[:MAX_BODY],
            kind=kind,
            received_at=clock.now(),
        )
    )
    db.session.flush()
    if subscription is None:
        return None
    reply: str | None = None
    if kind is ReplyKind.OPT_OUT:
        if subscription.live:
            end_subscription(SYSTEM, subscription, EndReason.OPTED_OUT)
        reply = _reply("opt_out", subscription)
    elif kind is ReplyKind.OPT_IN:
        if subscription.state == SubscriptionState.OPTED_OUT and subscription.confirmed_at is not None:
            subscription.state = SubscriptionState.CONFIRMED
            subscription.end_reason = None
            subscription.ended_at = None
            record(
                SYSTEM,
                "sms.subscription.opted_in",
                "sms_subscription",
                subscription.id,
                agency_id=subscription.agency_id,
            )
            db.session.flush()
            _replan(subscription)
            reply = _reply("opt_in", subscription)
        elif subscription.state == SubscriptionState.CONFIRMED:
            reply = _reply("opt_in", subscription)
    elif kind is ReplyKind.HELP:
        reply = _reply("help", subscription)
    elif kind is ReplyKind.CONFIRM and subscription.state == SubscriptionState.CONFIRMED:
        reply = _reply("attendance_confirmed", subscription)
    if advanced in ("STOP", "START", "HELP"):
        return None  # Twilio has answered already
    return reply


def _replan(subscription: Subscription) -> None:
    """A number back on gets its coming reminders planned again."""
    try:
        from advocacy.court.service.reminders import replan_case
    except ImportError:  # pragma: no cover - the court domain is optional here
        return
    from advocacy.intake.models import Case

    case = db.session.get(Case, subscription.case_id)
    if case is not None:
        replan_case(Actor.system("sms-inbound", subscription.agency_id), case)
