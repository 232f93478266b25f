"""What a partner reads through the pull API: its own records, from a cursor, and its acknowledgements.

A partner actor (:meth:`advocacy.actor.Actor.partner`) sees the records of
its own partner id and agency only; anything else is NotFound, so a partner
cannot learn that another's record exists.  Withheld records are gone for
it.  The cursor is opaque to the partner (the last record's UUID, encoded),
and the query behind a page reads the ``(partner_id, id)`` index from the
cursor's position, so a page costs the same at the start and at the end.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select

from advocacy import clock
from advocacy.actor import Actor, ActorKind
from advocacy.audit.service import record as audit
from advocacy.errors import Forbidden, NotFound, Refused
from advocacy.extensions import db
from advocacy.handoff.models import HandoffRecord, RecordState

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
VISIBLE = (RecordState.RELEASED, RecordState.DELIVERED)


@dataclass(frozen=True)
class Page:
    bodies: list[str]
    next_cursor: str | None


def _partner(actor: Actor, scope: str) -> tuple[int, int]:
    if actor.kind is not ActorKind.PARTNER or actor.partner_id is None or actor.agency_id is None:
        raise Forbidden()
    if not actor.may(scope):
        raise Forbidden()
    return actor.partner_id, actor.agency_id


def encode_cursor(record_uuid: str) -> str:
    return base64.urlsafe_b64encode(uuid.UUID(record_uuid).bytes).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return str(uuid.UUID(bytes=raw))
    except (binascii.Error, ValueError) as error:
        raise Refused(_("The cursor is not one this API gave out."), "cursor") from error


def page_statement(partner_id: int, agency_id: int, after: int | None, limit: int) -> Select[Any]:
    """The query behind a page (its own function so that ``bench/handoff.py`` can EXPLAIN this one).

    ``id > after ORDER BY id LIMIT n`` on the ``(partner_id, id)`` index:
    the database starts reading at the cursor instead of counting past the
    rows before it, as an OFFSET would.
    """
    stmt = select(HandoffRecord.id, HandoffRecord.uuid, HandoffRecord.body).where(
        HandoffRecord.partner_id == partner_id,
        HandoffRecord.agency_id == agency_id,
        HandoffRecord.state.in_(VISIBLE),
    )
    if after is not None:
        stmt = stmt.where(HandoffRecord.id > after)
    return stmt.order_by(HandoffRecord.id).limit(limit)


def list_records(actor: Actor, cursor: str | None = None, limit: int = PAGE_SIZE) -> Page:
    partner_id, agency_id = _partner(actor, "handoff:read")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise Refused(_("The limit must be from 1 to %(max)d.", max=MAX_PAGE_SIZE), "limit")
    after = None
    if cursor:
        after = db.session.scalar(
            select(HandoffRecord.id).where(
                HandoffRecord.uuid == _decode_cursor(cursor),
                HandoffRecord.partner_id == partner_id,
                HandoffRecord.agency_id == agency_id,
            )
        )
        if after is None:
            raise Refused(_("The cursor is not one this API gave out."), "cursor")
    rows = db.session.execute(page_statement(partner_id, agency_id, after, limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    audit(actor, "handoff.fetch", "handoff_partner", partner_id, agency_id=agency_id)
    return Page([r.body for r in rows], encode_cursor(rows[-1].uuid) if more and rows else None)


def _own(actor: Actor, record_uuid: str, scope: str) -> HandoffRecord:
    partner_id, agency_id = _partner(actor, scope)
    try:
        key = str(uuid.UUID(record_uuid))
    except ValueError as error:
        raise NotFound() from error
    found = db.session.scalar(
        select(HandoffRecord).where(
            HandoffRecord.uuid == key,
            HandoffRecord.partner_id == partner_id,
            HandoffRecord.agency_id == agency_id,
            HandoffRecord.state.in_(VISIBLE),
        )
    )
    if found is None:
        raise NotFound()
    return found


def fetch_record(actor: Actor, record_uuid: str) -> str:
    """One record's frozen body."""
    found = _own(actor, record_uuid, "handoff:read")
    audit(actor, "handoff.fetch", "handoff_record", found.id, agency_id=found.agency_id)
    return found.body


def acknowledge(actor: Actor, record_uuid: str) -> HandoffRecord:
    """The partner has the record: it is delivered (and revoking consent can no longer withhold it)."""
    found = _own(actor, record_uuid, "handoff:ack")
    if found.acknowledged_at is None:
        found.acknowledged_at = clock.now()
        found.state = RecordState.DELIVERED
        db.session.flush()
        audit(actor, "handoff.acknowledge", "handoff_record", found.id, agency_id=found.agency_id)
    return found
