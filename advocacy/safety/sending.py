"""Texting chosen parts of a plan to the victim's confirmed safe number, through the SMS outbox.

The pieces are composed here, at the moment the advocate sends, by the same
:func:`advocacy.safety.texts.version_texts` that made the preview, and each
outbox row carries its piece's words (``params["text"]``, in the outbox's
encrypted ``params`` column).  Why the words and not the plan version's id
to re-render at send time: what goes out is exactly what the advocate read
with the person (the agency's local numbers or a pack file may change
before a worker sends, and the pieces could then split differently), and
the SMS worker stays independent of the safety domain.  The row keeps
nothing beyond those words: no name, no case number, no phone; the words
are what the text needs, and nothing the plan holds beyond the chosen
parts.

Only a subscription that is confirmed (the code read back, not opted out,
not ended) is texted: :func:`advocacy.notify.service.confirmed_subscriptions`.
Quiet hours apply as for reminders: a piece sent at night waits for the
morning, since a phone that lights up at night can be a danger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _

from advocacy import clock
from advocacy.actor import Actor
from advocacy.audit.service import record
from advocacy.errors import Refused
from advocacy.notify.models import MessageKind, OutboxMessage, Subscription
from advocacy.notify.service import confirmed_subscriptions, enqueue
from advocacy.safety import service, texts
from advocacy.safety.guidance import plan_view

#: The outbox's ``source`` type of a plan's texts; the id is the plan's.
SOURCE = "safety_plan"
#: A plan text not sent within this time is dropped (the worker was down for
#: days): the advocate sends it again rather than the victim getting it late.
VALID_FOR = timedelta(days=2)


@dataclass(frozen=True)
class Sending:
    """What the advocate is told after sending."""

    messages: list[OutboxMessage]
    #: When the first piece may go out (later than now inside quiet hours).
    first_at: datetime | None

    @property
    def waits_for_quiet_hours(self) -> bool:
        return self.first_at is not None and self.first_at > clock.now()


def safe_numbers(case_id: int) -> list[Subscription]:
    """The case's confirmed safe numbers (the preview page says when there is none)."""
    return confirmed_subscriptions(case_id)


def _shelter_words(agency_id: int) -> list[str]:
    return [w.casefold() for w in service._shelter_names(agency_id) if w]


def send_plan_texts(
    actor: Actor,
    case_id: int,
    parts: Iterable[str],
    *,
    discreet: bool = True,
    version_number: int | None = None,
) -> Sending:
    """Queue the chosen ``parts`` of the case's newest plan version, in the plan's
    language, to each confirmed safe number; :class:`Refused` without one.

    ``version_number`` is the version the advocate previewed: when a colleague
    saved a newer one meanwhile, nothing is sent and the advocate looks again.
    Flushes; the caller's unit of work commits (and only then can a worker
    send)."""
    state = service.plan_state(actor, case_id, audit=False)
    if state.plan is None or state.latest is None:
        raise Refused(_("Save the plan first."))
    version = state.latest
    if version_number is not None and version_number != version.number:
        raise Refused(_("The plan changed since this preview. Look at the texts again before sending."))
    subscriptions = safe_numbers(state.case.id)
    if not subscriptions:
        raise Refused(_("There is no confirmed safe number for this case, so nothing can be texted."))
    view = plan_view(state.case.agency_id, version.pack_keys, version.locale)
    pieces = texts.version_texts(version, view, parts, version.locale, discreet=discreet)
    shelters = _shelter_words(state.case.agency_id)
    if any(word in piece.casefold() for piece in pieces for word in shelters):
        # Saving a plan already refuses a shelter's name or address: this is the last guard.
        raise Refused(_("A shelter's name or address is in these texts. Remove it from the plan first."))
    now = clock.now()
    messages: list[OutboxMessage] = []
    for subscription in subscriptions:
        for index, piece in enumerate(pieces):
            # Each piece is its own row (the outbox is unique per planned
            # time), so each is planned a millisecond apart, just before now:
            # all are due at once and go out in the order they were queued.
            message = enqueue(
                actor,
                subscription,
                MessageKind.PLAN_TEXT,
                {"text": piece},
                now - timedelta(milliseconds=len(pieces) - index),
                now + VALID_FOR,
                (SOURCE, state.plan.id),
            )
            if message is not None:
                messages.append(message)
    record(actor, "safety_plan.texted", "safety_plan", state.plan.id, agency_id=state.plan.agency_id)
    first = min((m.send_after for m in messages), default=None)
    return Sending(messages, first)
