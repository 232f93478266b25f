"""Reconciliation: what became of a text whose worker died between the
claim and recording Twilio's answer (state ``unknown``).

Twilio is asked, never sent to again: only a row Twilio provably lacks is
queued again, so no text goes out twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from advocacy import clock
from advocacy.extensions import is_postgresql
from advocacy.notify.models import Attention, MessageState, OutboxMessage
from advocacy.notify.service.claim import expire_leases
from advocacy.notify.service.enrol import sender_for
from advocacy.notify.service.outcomes import EVENT_KINDS, apply_status, requeue_or_fail
from advocacy.notify.service.render import render_message
from advocacy.uow import unit_of_work

log = logging.getLogger(__name__)

#: Rows whose claim is older than this are reconciled (the clocks' skew, and
#: time for Twilio's list to show a message just created).
RECONCILE_AFTER = timedelta(seconds=60)


def reconcile_unknown(client: Any | None, limit: int = 100) -> int:
    """Resolve ``unknown`` rows by asking Twilio, never by sending again.

    For each row whose claim is older than :data:`RECONCILE_AFTER`: a message
    to that number with the same words since the claim means it was sent
    (the SID is kept); none means Twilio does not have it, so it is queued
    again if still in time.  Without a Twilio client (the console backend)
    nothing can be asked: the row stays unknown and, for a reminder, the
    advocate is asked to call.  Returns how many rows were resolved.
    """
    from advocacy.notify.transport import reconcile

    resolved = 0
    with unit_of_work() as session:
        now = clock.now()
        expire_leases(now)
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.state == MessageState.UNKNOWN)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if is_postgresql():
            stmt = stmt.with_for_update(skip_locked=True, of=OutboxMessage)
        for message in session.scalars(stmt):
            if message.claimed_at is None or now - message.claimed_at < RECONCILE_AFTER:
                continue
            if client is None:
                if message.kind in EVENT_KINDS and message.attention is None:
                    message.attention = Attention.UNKNOWN
                message.checked_at = now
                continue
            sender = sender_for(message.agency_id)
            try:
                body = render_message(message, sender).text
                found = reconcile(
                    client,
                    message.subscription.phone,
                    message.claimed_at,
                    messaging_service_sid=sender.messaging_service_sid or None,
                    from_number=None if sender.messaging_service_sid else sender.from_number or None,
                )
            except Exception:  # noqa: BLE001 - Twilio unreachable: try again next time
                log.warning("sms reconcile failed", extra={"action": "sms.reconcile_failed"})
                message.checked_at = now
                continue
            match = next((m for m in found if m.body == body), None)
            if match is not None:
                message.state = MessageState.SENT
                message.provider_sid = match.sid
                message.provider_status = match.status
                message.sent_at = match.date_created or now
                message.updated_at = now
                session.flush()
                if match.status:
                    apply_status(message, match.status, match.error_code)
            else:
                requeue_or_fail(message, now, None, now)
            resolved += 1
    return resolved
