"""Recording what Twilio answered, for many sends in one transaction.

An answer is written only while the row is still the claim of the batch
that sent it (or became ``unknown`` when that claim's lease ran out): a
late answer for a row another worker has since taken changes nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from advocacy.extensions import db
from advocacy.notify.models import MessageState, OutboxMessage, SmsCallback
from advocacy.notify.service.outcomes import apply_send_result, apply_status
from advocacy.notify.transport import Outcome, SendResult
from advocacy.uow import unit_of_work

if TYPE_CHECKING:
    from advocacy.notify.service.claim import Prepared

log = logging.getLogger(__name__)


def _mine(message: OutboxMessage | None, token: str) -> bool:
    return (
        message is not None
        and message.claimed_by == token
        and message.state in (MessageState.CLAIMED, MessageState.UNKNOWN)
    )


def _record_in_session(done: Sequence[tuple[Prepared, SendResult]], simulate_delivery: bool) -> None:
    session = db.session
    ids = sorted(p.id for p, _r in done)
    # Locked in id order, so two recorders never wait on each other in a cycle.
    rows = {
        m.id: m
        for m in session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.id)
            .with_for_update()
        ).unique()
    }
    sids = [r.sid for _p, r in done if r.outcome is Outcome.SENT and r.sid]
    early: dict[str, list[SmsCallback]] = defaultdict(list)
    if sids:
        for callback in session.scalars(
            select(SmsCallback).where(SmsCallback.message_sid.in_(sids)).order_by(SmsCallback.id)
        ):
            early[callback.message_sid].append(callback)
    for prepared, result in done:
        message = rows.get(prepared.id)
        if message is None or not _mine(message, prepared.token):
            log.warning("sms send result for a row no longer claimed", extra={"action": "sms.late_result"})
            continue
        apply_send_result(message, result, prepared.segments, callbacks=early.get(result.sid or "", []))
        if simulate_delivery and result.outcome is Outcome.SENT:
            apply_status(message, "delivered", None)


def record_results(done: Sequence[tuple[Prepared, SendResult]], *, simulate_delivery: bool) -> None:
    """Record the answers of several sends in ONE transaction: each row only
    if it is still this batch's claim (or became ``unknown`` when the lease
    ran out).  Should that transaction fail, each answer is recorded on its
    own, so one bad row costs only itself; an answer not recorded leaves its
    row claimed, then unknown, then reconciled: never sent twice."""
    if not done:
        return
    try:
        with unit_of_work():
            _record_in_session(done, simulate_delivery)
        return
    except Exception:
        if len(done) == 1:
            raise
        log.exception("sms batch record failed; recording one by one", extra={"action": "sms.record_error"})
    for one in done:
        try:
            with unit_of_work():
                _record_in_session([one], simulate_delivery)
        except Exception:
            log.exception("sms record failed", extra={"action": "sms.record_error"})
