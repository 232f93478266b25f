"""Enrolment: a number becomes a subscription only when the victim reads the
code back.

1. :func:`start_enrolment`: the advocate gives a number (typed, or the case's
   safe contact where "safe to text" is yes), a language and a style; the
   number is validated and normalized to E.164 (mobile only where the
   library can tell), a pending subscription is written and a six-digit
   code is queued to it in the victim's language.  The code itself is
   never stored: only its keyed hash, valid for :data:`CODE_TTL`.
2. :func:`confirm_code`: the advocate types what the victim reads back.
   :data:`MAX_ATTEMPTS` wrong codes, or an expired one, end the
   subscription; the advocate starts again.  Only a confirmed subscription
   receives reminders, so a mistyped number never does.

A locale whose texts are a draft (no native reader reviewed them) needs the
advocate's confirmation that they read the text with the victim or an
interpreter (``acknowledge_draft``).  A victim whose language has no texts
at all gets the agency's fallback language (:func:`fallback_locale`, English
unless the admin chose another) or another the advocate picks, and only
once the advocate confirms the victim reads it (``confirm_fallback``): the
subscription records the victim's own language in ``fallback_for`` and the
confirmation is audited, so nobody later mistakes the texts' language for
the victim's.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _

from advocacy import clock
from advocacy.actor import Actor
from advocacy.audit.service import record
from advocacy.errors import Refused
from advocacy.extensions import db
from advocacy.i18n import registry
from advocacy.intake.models import Case
from advocacy.notify import texts
from advocacy.notify.models import (
    EndReason,
    MessageKind,
    SmsSender,
    Style,
    Subscription,
    SubscriptionState,
)
from advocacy.notify.phones import normalize_phone, phone_lookup_hash
from advocacy.notify.service.outbox import cancel_queued, enqueue
from advocacy.types import lookup_hash

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 3
CODE_DIGITS = 6
CODE_PURPOSE = "sms.code"


def hash_key() -> bytes:
    return current_app.config["SETTINGS"].hash_key.encode("utf-8")


def phone_hash(e164: str) -> str:
    """The lookup hash of a number (E.164), as inbound messages compute it."""
    return phone_lookup_hash(e164, hash_key())


def sender_for(agency_id: int) -> SmsSender:
    """The agency's sending set-up; defaults (not stored) when none was set."""
    sender = db.session.get(SmsSender, agency_id)
    if sender is None:
        sender = SmsSender(
            agency_id=agency_id,
            program_name="Reminders",
            help_contact="",
            rate_per_second=1.0,
            quiet_start=21 * 60,
            quiet_end=8 * 60,
        )
    return sender


def _code_hash(subscription_id: int, code: str) -> str:
    return lookup_hash(f"{subscription_id}:{code}", CODE_PURPOSE)


def live_subscription(case_id: int) -> Subscription | None:
    """The case's pending or confirmed subscription, if any."""
    return db.session.scalar(
        db.select(Subscription).where(
            Subscription.case_id == case_id,
            Subscription.state.in_([SubscriptionState.PENDING, SubscriptionState.CONFIRMED]),
        )
    )


def fallback_locale(agency_id: int) -> str:
    """The locale the agency texts a victim in when their language has no
    texts: the admin's choice, else English (the source, always complete)."""
    chosen = sender_for(agency_id).fallback_locale
    return chosen if chosen and chosen in texts.catalog() else texts.SOURCE_LOCALE


def language_without_texts(case: Case) -> str | None:
    """The case's language when the SMS catalog has no texts for it, else None."""
    language = (case.language or "").strip()
    return language if language and texts.resolve_locale(language) is None else None


def locale_needs_acknowledgement(locale: str) -> bool:
    """Whether texting in ``locale`` needs the advocate's confirmation (a draft)."""
    used = texts.resolve_locale(locale)
    return used is None or texts.catalog()[used].review.draft


def end_subscription(actor: Actor, subscription: Subscription, reason: EndReason) -> None:
    """Stop a subscription for good (a new enrolment is a new row) and cancel
    what it had queued.  Flushes."""
    if not subscription.live:
        return
    now = clock.now()
    subscription.state = (
        SubscriptionState.OPTED_OUT if reason is EndReason.OPTED_OUT else SubscriptionState.ENDED
    )
    subscription.end_reason = reason
    subscription.ended_at = now
    subscription.code_hash = None
    db.session.flush()
    from advocacy.notify.models import MessageState, OutboxMessage

    db.session.execute(
        db.update(OutboxMessage)
        .where(OutboxMessage.subscription_id == subscription.id, OutboxMessage.state == MessageState.QUEUED)
        .values(state=MessageState.CANCELLED, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    record(
        actor,
        f"sms.subscription.{reason.value}",
        "sms_subscription",
        subscription.id,
        agency_id=subscription.agency_id,
    )
    db.session.flush()


def start_enrolment(
    actor: Actor,
    case: Case,
    *,
    phone: str | None,
    locale: str,
    style: Style | str = Style.DISCREET,
    time_zone: str | None = None,
    acknowledge_draft: bool = False,
    confirm_fallback: bool = False,
    default_region: str = "US",
) -> tuple[Subscription, str]:
    """Write a pending subscription and queue its code; returns it and the
    code (the caller shows nothing of it: the code reaches the victim only by
    text; tests and the console backend read it from the outbox).

    ``phone`` None means the case's safe contact, allowed only where the
    case says it is safe to text.  ``locale`` is a key of the SMS catalog.
    Raises :class:`Refused` (nothing changed) for a number that cannot be
    texted, a case without consent, an unacknowledged draft locale, or,
    when the victim's language has no texts, a fallback not confirmed
    (``confirm_fallback``; a ``locale`` without texts means the agency's
    fallback).
    """
    if not case.consent_sms:
        raise Refused(
            _("The victim has not agreed to text reminders. Record their consent on the case first.")
        )
    if phone is None or not phone.strip():
        if not case.phone:
            raise Refused(_("Enter the number to text."), field="phone")
        if not case.safe_to_text:
            raise Refused(
                _(
                    "The case's contact number is not marked safe to text. Enter a number the victim says is safe."
                ),
                field="phone",
            )
        phone = case.phone
    number = normalize_phone(phone, default_region)
    victims_own = language_without_texts(case)
    used = texts.resolve_locale(locale)
    if used is None and victims_own is None:
        raise Refused(
            _("There are no text messages in this language yet. Choose another language."), field="locale"
        )
    if victims_own is not None:
        used = used or fallback_locale(case.agency_id)
        if not confirm_fallback:
            raise Refused(
                _(
                    "There are no text messages in the victim's language. Confirm with them, or through an "
                    "interpreter, that they read %(language)s, or choose another language.",
                    language=registry()[used].native,
                ),
                field="confirm_fallback",
            )
    if locale_needs_acknowledgement(used) and not acknowledge_draft:
        raise Refused(
            _(
                "The texts in this language have not been reviewed by a native reader. Read them with the "
                "victim or an interpreter, then confirm that you did."
            ),
            field="acknowledge_draft",
        )
    previous = live_subscription(case.id)
    if previous is not None:
        end_subscription(actor, previous, EndReason.REPLACED)
    sender = sender_for(case.agency_id)
    now = clock.now()
    subscription = Subscription(
        agency_id=case.agency_id,
        case_id=case.id,
        phone=number.e164,
        phone_hash=phone_hash(number.e164),
        locale=used,
        style=Style(style),
        time_zone=time_zone or current_app.config["SETTINGS"].default_timezone,
        quiet_start=sender.quiet_start,
        quiet_end=sender.quiet_end,
        state=SubscriptionState.PENDING,
        draft_acknowledged=bool(acknowledge_draft),
        fallback_for=victims_own,
        code_attempts=0,
        code_expires_at=now + CODE_TTL,
        created_by_id=actor.user_id,
        created_at=now,
    )
    db.session.add(subscription)
    db.session.flush()
    code = "".join(str(secrets.randbelow(10)) for _i in range(CODE_DIGITS))
    subscription.code_hash = _code_hash(subscription.id, code)
    enqueue(
        actor,
        subscription,
        MessageKind.CODE,
        {"code": code},
        send_after=now,
        valid_until=now + CODE_TTL,
        source=("sms_subscription", subscription.id),
    )
    record(actor, "sms.subscription.started", "sms_subscription", subscription.id, agency_id=case.agency_id)
    if victims_own is not None:
        record(
            actor,
            "sms.subscription.fallback_confirmed",
            "sms_subscription",
            subscription.id,
            agency_id=case.agency_id,
        )
    db.session.flush()
    return subscription, code


def resend_code(actor: Actor, subscription: Subscription) -> str:
    """A new code (the old one stops working), with a fresh ten minutes."""
    if subscription.state is not SubscriptionState.PENDING:
        raise Refused(_("This number is not waiting for a code."))
    cancel_queued(actor, ("sms_subscription", subscription.id))
    now = clock.now()
    code = "".join(str(secrets.randbelow(10)) for _i in range(CODE_DIGITS))
    subscription.code_hash = _code_hash(subscription.id, code)
    subscription.code_expires_at = now + CODE_TTL
    subscription.code_attempts = 0
    enqueue(
        actor,
        subscription,
        MessageKind.CODE,
        {"code": code},
        send_after=now,
        valid_until=now + CODE_TTL,
        source=("sms_subscription", subscription.id),
    )
    db.session.flush()
    return code


def confirm_code(actor: Actor, subscription: Subscription, code: str) -> None:
    """Confirm the number with the code the victim read back, or
    :class:`Refused` saying how many tries are left.  The third wrong code,
    or any code after ten minutes, ends the enrolment (the refusal says so);
    that ending is part of the caller's transaction like any other change."""
    if subscription.state is not SubscriptionState.PENDING or subscription.code_hash is None:
        raise Refused(_("This number is not waiting for a code."))
    now = clock.now()
    if subscription.code_expires_at is None or now >= subscription.code_expires_at:
        end_subscription(actor, subscription, EndReason.CODE_EXPIRED)
        raise Refused(_("The code has expired. Start again to send a new code."), field="code")
    typed = "".join((code or "").split())
    if not hmac.compare_digest(_code_hash(subscription.id, typed), subscription.code_hash):
        subscription.code_attempts += 1
        left = MAX_ATTEMPTS - subscription.code_attempts
        if left <= 0:
            end_subscription(actor, subscription, EndReason.CODE_FAILED)
            raise Refused(
                _(
                    "That code was wrong three times, so the number was not confirmed. Check the number and start again."
                ),
                field="code",
            )
        db.session.flush()
        raise Refused(_("That code is not right. Tries left: %(left)d.", left=left), field="code")
    subscription.state = SubscriptionState.CONFIRMED
    subscription.confirmed_at = now
    subscription.code_hash = None
    subscription.code_expires_at = None
    record(
        actor,
        "sms.subscription.confirmed",
        "sms_subscription",
        subscription.id,
        agency_id=subscription.agency_id,
    )
    db.session.flush()


def stop_subscription(actor: Actor, subscription: Subscription) -> None:
    """The advocate stops reminders (the victim asked in person, say)."""
    end_subscription(actor, subscription, EndReason.ADVOCATE)
