"""The words of an outbox row, rendered when it is sent (or previewed).

A row holds only the template values it needs (``starts_at``, and the court
and room for the detailed style); the text is made at send time in the
subscription's language, style and time zone, so a victim who changes
language gets the next reminder in the new one.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time

from advocacy.i18n import registry
from advocacy.notify import texts
from advocacy.notify.models import MessageKind, OutboxMessage, SmsSender, Style, Subscription
from advocacy.notify.segments import measure

#: Which template a kind uses; the styled kinds add ``_discreet``/``_detailed``.
_STYLED = {
    MessageKind.REMINDER: "reminder",
    MessageKind.CHANGED: "changed",
    MessageKind.CANCELLED: "cancelled",
}
_PLAIN = {
    MessageKind.CODE: "code",
    MessageKind.HELP: "help",
    MessageKind.OPT_OUT: "opt_out",
    MessageKind.OPT_IN: "opt_in",
    MessageKind.ATTENDANCE: "attendance_confirmed",
}


def template_for(kind: MessageKind, style: Style) -> str:
    if kind in _STYLED:
        return f"{_STYLED[kind]}_{Style(style).value}"
    return _PLAIN[kind]


def format_when(at: datetime, locale: str, time_zone: str) -> str:
    """The date and time as the victim reads them: the locale's full date and
    short time, on their clock (through the language's CLDR fallback)."""
    try:
        tz = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    local = at.astimezone(tz)
    language = registry().get(locale)
    babel_locale = language.babel if language is not None else "en"
    return f"{format_date(local, 'full', locale=babel_locale)} {format_time(local, 'short', locale=babel_locale)}"


def render_values(
    kind: MessageKind,
    params: dict[str, object],
    subscription: Subscription,
    sender: SmsSender,
) -> texts.RenderedText:
    """The text for ``kind`` with these values, or ``ValueError`` when the
    subscription's locale has no texts (enrolment prevents it).

    A safety plan piece carries its own words, composed in the plan's
    language when the advocate sent it (see :mod:`advocacy.safety.sending`).
    """
    if kind is MessageKind.PLAN_TEXT:
        words = str(params.get("text", ""))
        return texts.RenderedText(
            template=kind.value, text=words, locale_used=subscription.locale, draft=False, info=measure(words)
        )
    values: dict[str, object] = {
        "program": sender.program_name,
        "contact": sender.help_contact or "-",
        "court": params.get("court", ""),
        "room": params.get("room", "-"),
        "code": params.get("code", ""),
    }
    if "when" in params:
        values["when"] = params["when"]
    elif "starts_at" in params:
        starts = datetime.fromisoformat(str(params["starts_at"]))
        values["when"] = format_when(starts, subscription.locale, subscription.time_zone)
    else:
        values["when"] = ""
    style = Style(subscription.style)
    if style is Style.DETAILED and kind in _STYLED and not values["court"]:
        style = Style.DISCREET
    rendered = texts.render(template_for(kind, style), subscription.locale, **values)
    if rendered is None:
        raise ValueError("no texts for this subscription's language")
    return rendered


def render_message(message: OutboxMessage, sender: SmsSender) -> texts.RenderedText:
    params = json.loads(message.params or "{}")
    return render_values(MessageKind(message.kind), params, message.subscription, sender)
