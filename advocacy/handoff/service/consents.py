"""Release consents: the victim's written, time-limited permission, per case and partner.

Without a valid consent that covers the event type, nothing leaves, and the
advocate is told why and what would allow it (:class:`NoConsent`).  Consent
is never a condition of service, so nothing else in the app looks at it.
Revoking it withholds every record that has not reached the partner yet and
cancels its push: :func:`revoke_consent` does both in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from advocacy import clock
from advocacy.access import get_scoped
from advocacy.actor import Actor
from advocacy.audit.service import record as audit
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db
from advocacy.handoff.models import (
    Consent,
    ConsentMeans,
    Delivery,
    DeliveryState,
    HandoffRecord,
    Partner,
    RecordState,
)
from advocacy.handoff.vocabulary import EventType
from advocacy.intake.models import Case
from advocacy.intake.service import CASE_ROLES

#: The longest a release may run: "reasonably time-limited" (VAWA); agencies often use a year.
MAX_CONSENT_DAYS = 366


class NoConsent(Refused):
    """No valid consent covers this hand-off: ``message`` says why, ``remedy`` what would allow it."""

    def __init__(self, message: str, remedy: str) -> None:
        super().__init__(message, field="consent")
        self.remedy = remedy


@cache
def _consents_statement() -> Any:
    """Built once (every case page asks), the case bound per call."""
    return (
        select(Consent)
        .where(Consent.case_id == bindparam("case_id"), Consent.agency_id == bindparam("agency_id"))
        .options(joinedload(Consent.partner))
        .order_by(Consent.given_at.desc(), Consent.id.desc())
    )


def consents_of(case: Case) -> list[Consent]:
    return list(db.session.scalars(_consents_statement(), {"case_id": case.id, "agency_id": case.agency_id}))


def record_consent(
    actor: Actor,
    case: Case,
    partner: Partner,
    event_types: Iterable[str],
    *,
    given_at: datetime,
    means: ConsentMeans | str,
    form_reference: str,
    expires_at: datetime,
) -> Consent:
    """Record a signed release of information for ``case`` and ``partner``."""
    get_scoped(actor, Case, case.id, *CASE_ROLES)
    if partner.agency_id != case.agency_id:
        raise NotFound()
    chosen = set(event_types)
    allowed = [e.value for e in EventType if e.value in chosen]
    if not allowed or len(allowed) != len(chosen):
        raise Refused(_("Choose at least one kind of information the person agreed to share."), "event_types")
    not_for_partner = [v for v in allowed if not partner.allows(v)]
    if not_for_partner:
        raise Refused(
            _("This partner does not receive some of the chosen kinds of information."), "event_types"
        )
    reference = (form_reference or "").strip()
    if not reference or len(reference) > 120:
        raise Refused(_("Enter where the signed form is kept (up to 120 characters)."), "form_reference")
    now = clock.now()
    if given_at > now:
        raise Refused(_("The consent cannot be given in the future."), "given_at")
    if expires_at <= max(given_at, now):
        raise Refused(_("The consent must expire after today."), "expires_at")
    if (expires_at - given_at).days > MAX_CONSENT_DAYS:
        raise Refused(
            _("A consent runs for at most %(days)d days: ask for a new one later.", days=MAX_CONSENT_DAYS),
            "expires_at",
        )
    consent = Consent(
        agency_id=case.agency_id,
        case_id=case.id,
        partner_id=partner.id,
        event_types=allowed,
        given_at=given_at,
        means=ConsentMeans(means),
        form_reference=reference,
        expires_at=expires_at,
        recorded_by=actor.user_id,
        recorded_at=now,
    )
    db.session.add(consent)
    db.session.flush()
    audit(actor, "handoff.consent_recorded", "handoff_consent", consent.id, agency_id=case.agency_id)
    return consent


def get_consent(actor: Actor, consent_id: int) -> Consent:
    return get_scoped(actor, Consent, consent_id, *CASE_ROLES)


def revoke_consent(actor: Actor, consent: Consent) -> int:
    """Revoke the consent now; every record under it not yet delivered is withheld.

    Returns how many records were withheld.  Their pushes are cancelled in
    the same transaction, so a worker that picks a delivery up afterwards
    finds it cancelled (and the worker checks the consent again anyway).  A
    push already out is waited for: it was sent, so its record is delivered.
    """
    get_consent(actor, consent.id)
    if consent.revoked_at is not None:
        return 0
    now = clock.now()
    consent.revoked_at = now
    consent.revoked_by = actor.user_id
    # The push worker locks a delivery, sends, then marks its record: take the locks in the same
    # order, deliveries first.  A push in flight then makes the revocation wait until it is
    # committed (and its record is seen delivered, not withheld) instead of deadlocking with it.
    # (SQLite has no row locks and writes one transaction at a time: there the SELECT locks nothing.)
    db.session.execute(
        select(Delivery.id)
        .join(HandoffRecord, Delivery.record_id == HandoffRecord.id)
        .where(HandoffRecord.consent_id == consent.id, Delivery.state == DeliveryState.PENDING)
        .order_by(Delivery.id)
        .with_for_update(of=Delivery)
    ).all()
    # The records still not received, as they are now (an acknowledgement may just have come).
    pending = list(
        db.session.scalars(
            update(HandoffRecord)
            .where(HandoffRecord.consent_id == consent.id, HandoffRecord.state == RecordState.RELEASED)
            .values(state=RecordState.WITHHELD, withheld_at=now)
            .returning(HandoffRecord.id)
            .execution_options(synchronize_session=False)
        )
    )
    if pending:
        db.session.execute(
            update(Delivery)
            .where(Delivery.record_id.in_(pending), Delivery.state == DeliveryState.PENDING)
            .values(state=DeliveryState.CANCELLED, next_attempt_at=None, last_error="consent_revoked")
        )
    db.session.flush()
    db.session.expire_all()
    audit(actor, "handoff.consent_revoked", "handoff_consent", consent.id, agency_id=consent.agency_id)
    return len(pending)


def gate(case: Case, partner: Partner, event_type: EventType, now: datetime | None = None) -> Consent:
    """The consent that allows this hand-off now; NoConsent, saying why and what would allow it."""
    now = now or clock.now()
    label = str(event_type.label)
    if not partner.allows(event_type):
        raise NoConsent(
            _("%(partner)s does not receive “%(event)s”.", partner=partner.name, event=label),
            _("An agency admin can add this event type to the partner's settings."),
        )
    consents = [c for c in consents_of(case) if c.partner_id == partner.id]
    valid = [c for c in consents if c.valid_at(now) and c.covers(event_type)]
    if valid:
        return max(valid, key=lambda c: c.expires_at)
    remedy = _(
        "Ask the person whether they agree; if they do, record their signed release of information "
        "for %(partner)s that includes “%(event)s”.",
        partner=partner.name,
        event=label,
    )
    if not consents:
        message = _("There is no release of information for %(partner)s on this case.", partner=partner.name)
    elif any(c.valid_at(now) for c in consents):
        message = _(
            "The person's consent for %(partner)s does not include “%(event)s”.",
            partner=partner.name,
            event=label,
        )
    else:
        latest = consents[0]
        if latest.revoked_at is not None:
            message = _(
                "The person revoked their consent for %(partner)s on %(date)s.",
                partner=partner.name,
                date=format_date(latest.revoked_at),
            )
        else:
            message = _(
                "The person's consent for %(partner)s expired on %(date)s.",
                partner=partner.name,
                date=format_date(latest.expires_at),
            )
    raise NoConsent(message, remedy)
