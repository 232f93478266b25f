"""Preparing and releasing hand-off records.

:func:`prepare` checks everything (the partner, the consent, the choices,
the summary's length and the location guard) and returns the exact bytes
that would leave, without writing anything: the advocate's preview.
:func:`release` runs :func:`prepare` again, on the server, at the moment of
sending, and writes the record, its audit entry and its push outbox row in
the caller's one transaction.  The record keeps the bytes; they never change.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from advocacy import clock
from advocacy.access import get_scoped
from advocacy.actor import Actor
from advocacy.audit.service import record as audit
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db
from advocacy.handoff import serialize
from advocacy.handoff.guard import KnownPlaces
from advocacy.handoff.models import Delivery, DeliveryState, HandoffRecord, Partner, RecordState
from advocacy.handoff.service.consents import gate
from advocacy.handoff.vocabulary import EventType, check_choices, check_summary
from advocacy.intake.models import Case
from advocacy.intake.service import CASE_ROLES
from advocacy.shelters.models import Shelter

#: A partner's case reference: a court or tracking case number, no longer than this.
REFERENCE_MAX_LENGTH = 64


@dataclass(frozen=True)
class Prepared:
    """A record ready to leave: its values, the consent that allows it, and its exact bytes."""

    draft: serialize.Draft
    consent_id: int
    body: bytes


def victim_reference(partner: Partner, case_id: int) -> str:
    """HMAC-SHA256 of the case id with the partner's own key: stable for it, useless to anyone else."""
    key = base64.b64decode(partner.pseudonym_key)
    return hmac.new(key, f"case:{case_id}".encode("ascii"), hashlib.sha256).hexdigest()[:32]


def known_places(agency_id: int) -> KnownPlaces:
    """The agency's own shelters (names, labels, addresses), for the location guard."""
    rows = db.session.execute(
        select(Shelter.name, Shelter.public_label, Shelter.address).where(Shelter.agency_id == agency_id)
    ).all()
    return KnownPlaces.build((r.name, r.public_label, r.address) for r in rows)


def partner_for_case(actor: Actor, case: Case, partner_id: int) -> Partner:
    partner = get_scoped(actor, Partner, partner_id)
    if partner.agency_id != case.agency_id:
        raise NotFound()
    return partner


def _reference(value: str | None) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise Refused(
            _("Enter the partner's case number (court or tracking number)."), "partner_case_reference"
        )
    if len(text) > REFERENCE_MAX_LENGTH:
        raise Refused(
            _("Keep the case number to %(max)d characters or fewer.", max=REFERENCE_MAX_LENGTH),
            "partner_case_reference",
        )
    return text


def _risk_choices(case: Case) -> dict[str, Any]:
    from advocacy.handoff.service.preview import risk_result_record

    result = risk_result_record(case)
    if result is None:
        raise Refused(_("This case has not been screened yet, so there is no result to share."), "event_type")
    return {
        "screened_in": result["screened_in"],
        "instrument": result["instrument"],
        "level": result["level"],
    }


def prepare(
    actor: Actor,
    case: Case,
    partner: Partner,
    event_type: EventType | str,
    *,
    event_date: date,
    partner_case_reference: str,
    choices: Mapping[str, object],
    summary: str | None,
    record_id: str | None = None,
    corrects: HandoffRecord | None = None,
) -> Prepared:
    """Everything checked, nothing written: the bytes a release would send (Refused if none)."""
    get_scoped(actor, Case, case.id, *CASE_ROLES)
    if partner.agency_id != case.agency_id:
        raise NotFound()
    try:
        event = EventType(event_type)
    except ValueError as error:
        raise Refused(_("Choose an event type from the list."), "event_type") from error
    consent = gate(case, partner, event)
    if event_date > clock.now().date():
        raise Refused(_("The event date cannot be in the future."), "event_date")
    values = _risk_choices(case) if event is EventType.RISK_SCREEN_RESULT else choices
    checked = check_choices(event, values)
    text = check_summary(event, summary)
    try:
        record_uuid = str(uuid.UUID(record_id)) if record_id else str(uuid.uuid4())
    except ValueError as error:
        raise Refused(_("Prepare the hand-off again."), "record_id") from error
    if corrects is not None and (corrects.case_id != case.id or corrects.partner_id != partner.id):
        raise NotFound()
    draft = serialize.Draft(
        record_id=record_uuid,
        event_type=event,
        event_date=event_date,
        partner_case_reference=_reference(partner_case_reference),
        victim_reference=victim_reference(partner, case.id),
        choices=checked,
        summary=text,
        corrects=corrects.uuid if corrects is not None else None,
    )
    document = serialize.serialize(draft, "partner", known_places(case.agency_id))
    return Prepared(draft, consent.id, serialize.to_bytes(document))


def release(actor: Actor, case: Case, partner: Partner, prepared_again: Prepared) -> HandoffRecord:
    """Write the record (its bytes frozen), its audit entry and its push, in the caller's transaction.

    ``prepared_again`` must come from :func:`prepare` called in this request,
    so the consent and the guard are checked at the moment of sending.
    """
    draft = prepared_again.draft
    if db.session.scalar(select(HandoffRecord.id).where(HandoffRecord.uuid == draft.record_id)) is not None:
        raise Refused(_("This hand-off was already sent."), "record_id")
    corrects_id = None
    if draft.corrects is not None:
        corrects_id = db.session.scalar(select(HandoffRecord.id).where(HandoffRecord.uuid == draft.corrects))
    record = HandoffRecord(
        uuid=draft.record_id,
        schema_version=draft.schema_version,
        agency_id=case.agency_id,
        case_id=case.id,
        partner_id=partner.id,
        consent_id=prepared_again.consent_id,
        partner_case_reference=draft.partner_case_reference,
        victim_reference=draft.victim_reference,
        event_type=draft.event_type,
        event_date=draft.event_date,
        choices=dict(draft.choices),
        summary=draft.summary,
        corrects_id=corrects_id,
        body=prepared_again.body.decode("utf-8"),
        state=RecordState.RELEASED,
        released_by=actor.user_id,
        released_at=clock.now(),
    )
    db.session.add(record)
    db.session.flush()
    if partner.push_url and partner.push_disabled_at is None:
        db.session.add(
            Delivery(
                message_id=f"msg_{uuid.uuid4().hex}",
                record_id=record.id,
                partner_id=partner.id,
                agency_id=partner.agency_id,
                state=DeliveryState.PENDING,
                next_attempt_at=record.released_at,
            )
        )
        db.session.flush()
    audit(actor, "handoff.release", "handoff_record", record.id, agency_id=case.agency_id)
    return record


def records_of(case: Case) -> list[HandoffRecord]:
    stmt = (
        select(HandoffRecord)
        .where(HandoffRecord.case_id == case.id, HandoffRecord.agency_id == case.agency_id)
        .options(joinedload(HandoffRecord.partner))
    )
    return list(db.session.scalars(stmt.order_by(HandoffRecord.released_at.desc(), HandoffRecord.id.desc())))


def deliveries_of(records: list[HandoffRecord]) -> dict[int, Delivery]:
    if not records:
        return {}
    stmt = select(Delivery).where(Delivery.record_id.in_([r.id for r in records]))
    return {d.record_id: d for d in db.session.scalars(stmt)}


def get_record(actor: Actor, case: Case, record_id: int) -> HandoffRecord:
    get_scoped(actor, Case, case.id, *CASE_ROLES)
    record = db.session.get(HandoffRecord, record_id)
    if record is None or record.case_id != case.id:
        raise NotFound()
    return record
