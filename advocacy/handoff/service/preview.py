"""What a hand-off would send, built from an allowlist and nothing else.

A hand-off record is assembled field by field from values that are safe to
leave the agency: for a risk screen, only
:class:`~advocacy.intake.service.ScreeningResult` (screened in or not,
instrument, level, date).  Nothing is copied from the case as a whole, so a
field added to a case later cannot leak by accident; :func:`check_record`
refuses any key outside the event type's allowlist, so a mistake in a new
builder fails loudly instead of sending.

The hand-off itself (partners, release consents, the pull API and push) comes
later and adds its own fields (record id, partner's case reference,
pseudonymous victim reference) to :data:`ALLOWED_FIELDS` there.
"""

from __future__ import annotations

import json
from typing import Any

from advocacy.intake import service as intake
from advocacy.intake.models import Case

#: The version of the hand-off record schema; a partner reads it to know the fields.
SCHEMA_VERSION = 1

RISK_SCREEN_RESULT = "risk_screen_result"

#: Fields every record carries, whatever its event type.
ENVELOPE_FIELDS = ("schema_version", "event_type")

#: The only fields a record of each event type may have.
ALLOWED_FIELDS: dict[str, tuple[str, ...]] = {
    RISK_SCREEN_RESULT: (*ENVELOPE_FIELDS, "screened_in", "instrument", "level", "date"),
}


class NotAllowed(ValueError):
    """A record with a field its event type does not allow: it must never leave."""


def check_record(record: dict[str, Any]) -> dict[str, Any]:
    event_type = record.get("event_type")
    allowed = ALLOWED_FIELDS.get(str(event_type))
    if allowed is None:
        raise NotAllowed(f"unknown event type: {event_type!r}")
    extra = sorted(set(record) - set(allowed))
    if extra:
        raise NotAllowed(f"fields not allowed for {event_type}: {extra}")
    return record


def risk_result_record(case: Case) -> dict[str, Any] | None:
    """The record "risk screen result" for the case's latest screening; None if never screened.

    Built only from the screening's shareable result: no case id, name, answers,
    judgment reason, contact details, language, shelter or anything else.
    """
    screening = intake.latest_screening(case)
    if screening is None:
        return None
    result = intake.screening_result(screening).to_dict()
    record = {"schema_version": SCHEMA_VERSION, "event_type": RISK_SCREEN_RESULT}
    for name in ALLOWED_FIELDS[RISK_SCREEN_RESULT]:
        if name not in ENVELOPE_FIELDS:
            record[name] = result[name]
    return check_record(record)


def preview_bytes(record: dict[str, Any]) -> bytes:
    """The record exactly as it would leave: canonical JSON (sorted keys, no spaces), UTF-8.

    The preview shows these bytes and the sender sends them, so what the
    advocate sees is what goes.
    """
    check_record(record)
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
