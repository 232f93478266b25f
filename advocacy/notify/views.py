"""SMS pages and webhooks: thin views over :mod:`advocacy.notify.service`.

* The case page's "Text reminders" section (``notify/_case_section.html``):
  enrol a number, type the code the victim reads back, stop reminders, see
  the texts and the replies.
* ``/notify/outbox``: every text of the agency, with its state (and, on the
  console backend in development, its words, since nothing is really sent).
* ``/notify/alerts/<id>/handled``: the home page's "Call the victim" panel.
* ``/notify/unknown``: texts not known to have been sent, with what the
  check with Twilio found and what to do (linked from that panel and the
  outbox).
* ``/notify/twilio/status`` and ``/notify/twilio/inbound``: Twilio's
  webhooks, public (Twilio has no session) and without CSRF token (Twilio
  cannot send one): the ``X-Twilio-Signature`` check against the
  configured public base URL is their guard, and a bad one is a 403 that
  changes nothing.  They answer at once and never call Twilio.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy import case as sql_case

from advocacy import clock
from advocacy.access import current_actor, get_scoped, roles_required, scoped
from advocacy.audit.service import record
from advocacy.core.panels import Panel, home_panel
from advocacy.errors import Refused
from advocacy.extensions import csrf, db
from advocacy.i18n import registry
from advocacy.intake.models import Case
from advocacy.intake.service import CASE_ROLES, get_case
from advocacy.notify import bp, texts
from advocacy.notify.models import (
    Attention,
    InboundMessage,
    MessageKind,
    MessageState,
    OutboxMessage,
    ReplyKind,
    SmsSender,
    Style,
    Subscription,
    SubscriptionState,
)
from advocacy.notify.service import enrol
from advocacy.notify.service import unknown as unknown_texts
from advocacy.notify.service.inbound import Inbound, handle_inbound
from advocacy.notify.service.outcomes import record_callback
from advocacy.notify.service.render import render_message
from advocacy.notify.signatures import request_is_from_twilio
from advocacy.notify.simulator import webhook_tokens
from advocacy.roles import Role
from advocacy.security import safe_next
from advocacy.templating import menu_item

#: How many texts and replies the case section lists.
RECENT = 10


def _to_case(case_id: int) -> Response:
    return redirect(url_for("intake.detail", case_id=case_id, _anchor="reminders"))


def _replan(case: Case) -> None:
    """Once a number is confirmed, the case's coming court dates plan their reminders."""
    from advocacy.court.service.reminders import replan_case

    replan_case(current_actor(), case)


@bp.route("/cases/<id:case_id>/enrol", methods=["POST"])
@roles_required(*CASE_ROLES)
def enrol_start(case_id: int) -> Any:
    case = get_case(current_actor(), case_id)
    use_contact = request.form.get("source") == "contact"
    try:
        enrol.start_enrolment(
            current_actor(),
            case,
            phone=None if use_contact else request.form.get("phone", ""),
            locale=request.form.get("locale", "") or "en",
            style=Style.DETAILED if request.form.get("style") == Style.DETAILED.value else Style.DISCREET,
            acknowledge_draft=request.form.get("acknowledge_draft") == "y",
            confirm_fallback=request.form.get("confirm_fallback") == "y",
        )
    except Refused as refused:
        flash(refused.message, "error")
        return _to_case(case_id)
    flash(_("A code was texted to the number. Ask the victim to read it to you, then type it below."), "info")
    return _to_case(case_id)


def _live(case: Case) -> Subscription:
    subscription = enrol.live_subscription(case.id)
    if subscription is None:
        abort(404)
    return subscription


@bp.route("/cases/<id:case_id>/confirm", methods=["POST"])
@roles_required(*CASE_ROLES)
def enrol_confirm(case_id: int) -> Any:
    case = get_case(current_actor(), case_id)
    subscription = _live(case)
    try:
        enrol.confirm_code(current_actor(), subscription, request.form.get("code", ""))
    except Refused as refused:
        flash(refused.message, "error")
        return _to_case(case_id)
    _replan(case)
    flash(_("The number is confirmed. Reminders for coming court dates will be texted to it."), "success")
    return _to_case(case_id)


@bp.route("/cases/<id:case_id>/resend", methods=["POST"])
@roles_required(*CASE_ROLES)
def enrol_resend(case_id: int) -> Any:
    case = get_case(current_actor(), case_id)
    try:
        enrol.resend_code(current_actor(), _live(case))
    except Refused as refused:
        flash(refused.message, "error")
        return _to_case(case_id)
    flash(_("A new code was texted. The old one no longer works."), "info")
    return _to_case(case_id)


@bp.route("/cases/<id:case_id>/stop", methods=["POST"])
@roles_required(*CASE_ROLES)
def enrol_stop(case_id: int) -> Any:
    case = get_case(current_actor(), case_id)
    enrol.stop_subscription(current_actor(), _live(case))
    flash(_("Text reminders are stopped for this case. Nothing more will be texted."), "success")
    return _to_case(case_id)


# --- What the case page shows ----------------------------------------------------------


LIVE = (SubscriptionState.PENDING, SubscriptionState.CONFIRMED)


@cache
def _latest_statement() -> Any:
    """Built once (every case page asks): the live subscription, else the newest."""
    return (
        select(Subscription)
        .where(Subscription.case_id == bindparam("case_id"))
        .order_by(sql_case((Subscription.state.in_(LIVE), 0), else_=1), Subscription.id.desc())
        .limit(1)
    )


def case_sms(case: Case) -> dict[str, Any]:
    """The section's data: the live subscription, recent texts and replies.

    The live subscription (pending or confirmed) and, without one, the newest
    past one come from one statement: live first, then newest first.
    """
    latest = db.session.scalar(_latest_statement(), {"case_id": case.id})
    subscription = latest if latest is not None and latest.state in LIVE else None
    if latest is None:
        # Texts and replies belong to a subscription: a case never enrolled has none
        # (most cases: two statements fewer on every case page).
        return {"subscription": None, "latest": None, "messages": [], "replies": []}
    subs = select(Subscription.id).where(Subscription.case_id == case.id)
    messages = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.subscription_id.in_(subs))
            .order_by(OutboxMessage.send_after.desc(), OutboxMessage.id.desc())
            .limit(RECENT)
        )
    )
    replies = list(
        db.session.scalars(
            select(InboundMessage)
            .where(InboundMessage.subscription_id.in_(subs))
            .order_by(InboundMessage.id.desc())
            .limit(RECENT)
        )
    )
    return {"subscription": subscription, "latest": latest, "messages": messages, "replies": replies}


def sms_locales() -> list[tuple[str, str, bool]]:
    """(tag, name, draft) of every language with texts."""
    catalog = texts.catalog()
    return [(tag, registry()[tag].native, catalog[tag].review.draft) for tag in catalog]


@bp.app_context_processor
def _notify_context() -> dict[str, Any]:
    return {
        "case_sms": case_sms,
        "sms_locales": sms_locales,
        "sms_state_label": lambda v: MessageState(v).label,
        "sms_kind_label": lambda v: MessageKind(v).label,
        "sms_subscription_label": lambda v: SubscriptionState(v).label,
        "sms_reply_label": lambda v: ReplyKind(v).label,
        "sms_attention_label": lambda v: Attention(v).label,
        "sms_style_choices": Style.choices(),
        "sms_suggested_locale": lambda case: (
            texts.resolve_locale(case.language) or enrol.fallback_locale(case.agency_id)
        ),
        "sms_language_without_texts": enrol.language_without_texts,
    }


# --- The outbox page ----------------------------------------------------------------------


@bp.route("/outbox")
@roles_required(*CASE_ROLES)
def outbox() -> Any:
    actor = current_actor()
    stmt = scoped(actor, select(OutboxMessage), OutboxMessage.agency_id, *CASE_ROLES)
    messages = list(db.session.scalars(stmt.order_by(OutboxMessage.id.desc()).limit(100)))
    console = current_app.config["SETTINGS"].sms_backend == "console"
    bodies: dict[int, str] = {}
    if console:
        for message in messages:
            try:
                bodies[message.id] = render_message(message, enrol.sender_for(message.agency_id)).text
            except (ValueError, KeyError):
                bodies[message.id] = ""
    counts = dict(
        db.session.execute(
            scoped(
                actor,
                select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state),
                OutboxMessage.agency_id,
                *CASE_ROLES,
            )
        ).all()
    )
    return render_template(
        "notify/outbox.html",
        messages=messages,
        bodies=bodies,
        console=console,
        counts=counts,
        simulator="notify_sim.phone" in current_app.view_functions,
    )


menu_item("notify.outbox", _l("Texts"), order=45)


# --- "Call the victim" ----------------------------------------------------------------------


def open_alerts(actor: Any, limit: int = 20) -> list[OutboxMessage]:
    stmt = scoped(
        actor,
        select(OutboxMessage).where(OutboxMessage.attention.is_not(None), OutboxMessage.handled_at.is_(None)),
        OutboxMessage.agency_id,
        *CASE_ROLES,
    )
    return list(db.session.scalars(stmt.order_by(OutboxMessage.id).limit(limit)))


@home_panel
def call_the_victim(actor: Any) -> Panel | None:
    """Every reminder that could not reach the victim in time, until handled,
    and how many texts are not known to have been sent (they may need a call)."""
    if not actor.has_role(*CASE_ROLES):
        return None
    alerts = open_alerts(actor)
    unknown = unknown_texts.unknown_count(actor)
    if not alerts and not unknown:
        return None
    cases = {
        c.id: c
        for c in db.session.scalars(select(Case).where(Case.id.in_({a.subscription.case_id for a in alerts})))
    }
    return Panel(
        key="call_the_victim",
        title=_l("Call the victim"),
        template="notify/_panel.html",
        context={"alerts": alerts, "cases": cases, "unknown": unknown},
        order=10,
    )


@bp.route("/unknown")
@roles_required(*CASE_ROLES)
def unknown() -> Any:
    """Texts whose sending is not known (a crash or a timeout), what the check
    with Twilio found and what to do meanwhile: nothing is resent blindly, so
    a person may have to call."""
    can_ask = current_app.config["SETTINGS"].sms_backend == "twilio"
    return render_template(
        "notify/unknown.html", rows=unknown_texts.unknown_texts(current_actor(), can_ask=can_ask)
    )


@bp.route("/alerts/<id:message_id>/handled", methods=["POST"])
@roles_required(*CASE_ROLES)
def alert_handled(message_id: int) -> Any:
    actor = current_actor()
    message = get_scoped(actor, OutboxMessage, message_id, *CASE_ROLES)
    if message.handled_at is None:
        message.handled_at = clock.now()
        message.handled_by_id = actor.user_id
        record(actor, "sms.alert.handled", "sms_outbox", message.id, agency_id=message.agency_id)
    flash(_("Marked as handled."), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("core.home"))


@bp.route("/replies/<id:reply_id>/handled", methods=["POST"])
@roles_required(*CASE_ROLES)
def reply_handled(reply_id: int) -> Any:
    actor = current_actor()
    reply = db.session.scalar(
        scoped(
            actor,
            select(InboundMessage).where(InboundMessage.id == reply_id),
            InboundMessage.agency_id,
            *CASE_ROLES,
        )
    )
    if reply is None:
        abort(404)
    if reply.handled_at is None:
        reply.handled_at = clock.now()
        reply.handled_by_id = actor.user_id
        record(actor, "sms.reply.handled", "sms_inbound", reply.id, agency_id=reply.agency_id)
    case_id = reply.subscription.case_id if reply.subscription else None
    return _to_case(case_id) if case_id else redirect(url_for("core.home"))


# --- Twilio webhooks ----------------------------------------------------------------------------


def _from_twilio() -> bool:
    settings = current_app.config["SETTINGS"]
    tokens = webhook_tokens(settings)
    return bool(tokens) and request_is_from_twilio(
        request, auth_tokens=tokens, public_base_url=settings.public_base_url
    )


def _twiml(reply: str | None) -> Response:
    body = f"<Message>{escape(reply)}</Message>" if reply else ""
    return Response(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>', mimetype="application/xml"
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@bp.route("/twilio/status", methods=["POST"])
@csrf.exempt
def twilio_status() -> Any:
    if not _from_twilio():
        abort(403)
    sid = request.form.get("MessageSid", "")
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").lower()
    if not sid or not status or len(sid) > 34 or len(status) > 16:
        return Response(status=204)
    record_callback(sid, status, _int(request.form.get("ErrorCode")))
    return Response(status=204)


@bp.route("/twilio/inbound", methods=["POST"])
@csrf.exempt
def twilio_inbound() -> Any:
    if not _from_twilio():
        abort(403)
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    sender = request.form.get("From", "")
    if not sid or len(sid) > 34 or not sender:
        return _twiml(None)
    reply = handle_inbound(
        Inbound(
            message_sid=sid,
            from_number=sender,
            body=request.form.get("Body", ""),
            messaging_service_sid=request.form.get("MessagingServiceSid") or None,
            opt_out_type=request.form.get("OptOutType") or None,
        )
    )
    return _twiml(reply)


def json_params(message: OutboxMessage) -> dict[str, Any]:
    return json.loads(message.params or "{}")


# --- Template previews -----------------------------------------------------------------------


@bp.route("/templates")
@roles_required(*CASE_ROLES)
def templates_preview() -> Any:
    """Every text in every language, with its encoding and segment count: what a
    victim would receive, and what it costs (a budget test holds the same)."""
    from datetime import timedelta

    from advocacy.notify.service.render import format_when

    actor = current_actor()
    agency_id = actor.agency_for(*CASE_ROLES)
    sender = enrol.sender_for(agency_id)
    catalog = texts.catalog()
    chosen = request.args.get("locale") if request.args.get("locale") in catalog else None
    sample_at = clock.now().replace(hour=15, minute=0, second=0, microsecond=0) + timedelta(days=7)
    rows = []
    for tag in [chosen] if chosen else list(catalog):
        when = format_when(sample_at, tag, current_app.config["SETTINGS"].default_timezone)
        for name, spec in texts.TEMPLATES.items():
            rendered = texts.render(
                name,
                tag,
                program=sender.program_name,
                code="123456",
                when=when,
                court="District Court",
                room="3B",
                contact=sender.help_contact or "218-555-0199",
            )
            if rendered is not None:
                rows.append({"locale": tag, "name": name, "budget": spec.budget, "rendered": rendered})
    return render_template(
        "notify/templates.html", rows=rows, locales=sms_locales(), chosen=chosen, review=texts.review
    )


# --- The agency's sender (admin) ---------------------------------------------------------------


def _minutes(value: str) -> int | None:
    try:
        hours, minutes = value.strip().split(":")
        h, m = int(hours), int(minutes)
    except ValueError:
        return None
    return h * 60 + m if 0 <= h < 24 and 0 <= m < 60 else None


@bp.route("/sender", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def sender_settings() -> Any:
    """The agency admin sets how the agency texts: the Messaging Service its
    registration (A2P 10DLC, toll-free) is on, the name and help contact the
    texts carry, the send rate, the default quiet hours, and the fallback
    language for a victim whose language has no texts (English by default)."""
    actor = current_actor()
    agency_id = actor.agency_for(Role.ADMIN)
    sender = db.session.get(SmsSender, agency_id) or enrol.sender_for(agency_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        program = form.get("program_name", "").strip()
        contact = form.get("help_contact", "").strip()
        service = form.get("messaging_service_sid", "").strip()
        rate_text = form.get("rate_per_second", "").strip()
        start, end = _minutes(form.get("quiet_start", "")), _minutes(form.get("quiet_end", ""))
        fallback = form.get("fallback_locale", "").strip() or enrol.fallback_locale(agency_id)
        if not program or len(program) > texts.FIELD_LIMITS["program"]:
            errors["program_name"] = _(
                "Enter the program name, at most %(n)d characters.", n=texts.FIELD_LIMITS["program"]
            )
        if len(contact) > texts.FIELD_LIMITS["contact"]:
            errors["help_contact"] = _(
                "Keep the contact to %(n)d characters.", n=texts.FIELD_LIMITS["contact"]
            )
        if service and not re.fullmatch(r"MG[0-9a-f]{32}", service):
            errors["messaging_service_sid"] = _(
                "A Messaging Service SID is MG followed by 32 hexadecimal digits."
            )
        try:
            rate = float(rate_text)
            if not 0.1 <= rate <= 1000:
                raise ValueError
        except ValueError:
            errors["rate_per_second"] = _("Enter the segments per second, from 0.1 to 1000.")
            rate = sender.rate_per_second
        if start is None or end is None:
            errors["quiet"] = _("Enter the quiet hours as HH:MM, for example 21:00 and 08:00.")
        if fallback not in texts.catalog():
            errors["fallback_locale"] = _("Choose one of the languages the texts are written in.")
        if not errors:
            if db.session.get(SmsSender, agency_id) is None:
                db.session.add(sender)
            sender.program_name = program
            sender.help_contact = contact
            sender.messaging_service_sid = service or None
            sender.rate_per_second = rate
            sender.quiet_start, sender.quiet_end = start, end  # type: ignore[assignment]
            sender.fallback_locale = fallback
            sender.updated_at = clock.now()
            record(actor, "sms.sender.updated", "agency", agency_id, agency_id=agency_id)
            flash(_("The text message settings are saved."), "success")
            return redirect(url_for("notify.sender_settings"))
    return render_template(
        "notify/sender.html",
        sender=sender,
        errors=errors,
        locales=sms_locales(),
        fallback=request.form.get("fallback_locale") or enrol.fallback_locale(agency_id),
    ), 400 if errors else 200


menu_item("notify.sender_settings", _l("Text settings"), order=92)
