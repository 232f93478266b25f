"""Texts whose sending is not known: what the advocates' page lists.

A row is ``unknown`` when its worker died after claiming it or Twilio's
answer timed out: the text may or may not be on the victim's phone.  The
reconciler (:func:`advocacy.notify.service.reconcile.reconcile_unknown`) asks
Twilio and settles it (sent, or queued again when Twilio does not have it);
what it could not settle stays here, with what the check found and what a
person should do meanwhile, because nothing is ever resent blindly and a
reminder that may not have arrived can mean a hearing missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from advocacy import clock
from advocacy.access import scoped
from advocacy.actor import Actor
from advocacy.extensions import db
from advocacy.intake.models import Case
from advocacy.intake.service import CASE_ROLES
from advocacy.notify.models import MessageKind, MessageState, OutboxMessage
from advocacy.notify.service.outcomes import EVENT_KINDS
from advocacy.vocab import LabelledEnum

#: The page lists this many, oldest first (what has waited longest).
LIMIT = 200


class Finding(LabelledEnum):
    """What the reconciler found about an unknown row so far."""

    WAITING = "waiting", _l("Not checked yet. A running worker asks Twilio within a few minutes.")
    NOTHING_TO_ASK = (
        "nothing_to_ask",
        _l("Cannot be checked: texts go through the development console, which has no phone company to ask."),
    )
    UNREACHABLE = "unreachable", _l("Twilio could not be reached at the last check. It will be asked again.")


class Advice(LabelledEnum):
    """What an advocate should do meanwhile, by what the text was."""

    CALL = "call", _l("Call the victim and make sure they know about the court date.")
    CODE = (
        "code",
        _l("Ask the victim whether the code arrived. If it did not, text a new code from the case page."),
    )
    PLAN = "plan", _l("Ask the victim whether the text arrived before sending it again.")
    NONE = "none", _l("An automatic reply: nothing to do unless the victim asks.")


@dataclass(frozen=True)
class UnknownText:
    message: OutboxMessage
    case: Case | None
    finding: Finding
    advice: Advice
    #: Its deadline has passed: it will not be sent again in any case.
    too_late: bool
    checked_at: datetime | None


def _finding(message: OutboxMessage, can_ask: bool) -> Finding:
    if message.checked_at is None:
        return Finding.WAITING
    return Finding.UNREACHABLE if can_ask else Finding.NOTHING_TO_ASK


def _advice(kind: MessageKind) -> Advice:
    if kind in EVENT_KINDS:
        return Advice.CALL
    if kind is MessageKind.CODE:
        return Advice.CODE
    if kind is MessageKind.PLAN_TEXT:
        return Advice.PLAN
    return Advice.NONE


def unknown_texts(actor: Actor, *, can_ask: bool) -> list[UnknownText]:
    """The acting person's agencies' unknown rows, oldest first, each with its
    case, the finding and the advice.  ``can_ask``: whether the backend is one
    the reconciler can ask (Twilio), which tells a failed check from one that
    cannot be made."""
    stmt = scoped(
        actor,
        select(OutboxMessage).where(OutboxMessage.state == MessageState.UNKNOWN),
        OutboxMessage.agency_id,
        *CASE_ROLES,
    )
    messages = list(db.session.scalars(stmt.order_by(OutboxMessage.id).limit(LIMIT)))
    case_ids = {m.subscription.case_id for m in messages}
    cases = (
        {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_(case_ids)))} if case_ids else {}
    )
    now = clock.now()
    return [
        UnknownText(
            message=m,
            case=cases.get(m.subscription.case_id),
            finding=_finding(m, can_ask),
            advice=_advice(MessageKind(m.kind)),
            too_late=m.valid_until <= now,
            checked_at=m.checked_at,
        )
        for m in messages
    ]


def unknown_count(actor: Actor) -> int:
    """How many of the acting person's agencies' texts are unknown (one indexed count)."""
    stmt = scoped(
        actor,
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == MessageState.UNKNOWN),
        OutboxMessage.agency_id,
        *CASE_ROLES,
    )
    return int(db.session.scalar(stmt) or 0)
