"""The one serializer of anything that leaves the agency: an explicit field list per audience.

Nothing here reads model columns by reflection.  Each audience names every
field it emits, and each field is computed by a named function from a
:class:`Draft` (the values of a record, before or after release).  Integer
database ids never appear: a record is its UUID, a victim is the
pseudonymous reference, a correction names the corrected record's UUID.

Every free-text field of an audience (:data:`FREE_TEXT`) goes through the
location guard at serialization: a hit raises :class:`LocationRefused` with
the spans, so the same check runs when the advocate previews, when the
record is released, and before every push.

Audiences:

* ``partner``: the record as the tracking system receives it, pulled or pushed
  (the same bytes; :func:`to_bytes` is canonical JSON);
* ``partner_page``: the envelope of one page of the pull API.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _

from advocacy.errors import Refused
from advocacy.handoff.guard import Hit, KnownPlaces, hits_in_record
from advocacy.handoff.vocabulary import SCHEMA_VERSION, EventType


@dataclass(frozen=True)
class Draft:
    """The values of one record, exactly those an audience may draw from."""

    record_id: str
    event_type: EventType
    event_date: date
    partner_case_reference: str
    victim_reference: str
    choices: Mapping[str, Any] = field(default_factory=dict)
    summary: str | None = None
    corrects: str | None = None
    schema_version: int = SCHEMA_VERSION


class LocationRefused(Refused):
    """A free-text field says where someone is or how to reach them: nothing leaves.

    ``hits`` maps each field to its spans, for the advocate to edit; nothing is rewritten.
    """

    def __init__(self, hits: dict[str, list[Hit]], texts: Mapping[str, str]) -> None:
        super().__init__(
            _("This would reveal where someone is or how to reach them. Edit the highlighted text."),
            field=next(iter(hits)),
        )
        self.hits = hits
        self.texts = dict(texts)


_Getter = Callable[[Draft], Any]

#: Every field each audience emits, in order, and how it is computed.  Add a field here or nowhere.
AUDIENCES: Mapping[str, tuple[tuple[str, _Getter], ...]] = {
    "partner": (
        ("record_id", lambda d: d.record_id),
        ("schema_version", lambda d: d.schema_version),
        ("event_type", lambda d: d.event_type.value),
        ("event_date", lambda d: d.event_date.isoformat()),
        ("partner_case_reference", lambda d: d.partner_case_reference),
        ("victim_reference", lambda d: d.victim_reference),
        ("choices", lambda d: dict(d.choices)),
        ("summary", lambda d: d.summary),
        ("corrects", lambda d: d.corrects),
    ),
}

#: The free-text fields of each audience: each is scanned by the location guard.
FREE_TEXT: Mapping[str, tuple[str, ...]] = {"partner": ("partner_case_reference", "summary")}


def serialize(draft: Draft, audience: str, known_places: KnownPlaces) -> dict[str, Any]:
    """The audience's fields of ``draft``; LocationRefused when a free-text field has a hit."""
    out = {name: getter(draft) for name, getter in AUDIENCES[audience]}
    found = hits_in_record(out, FREE_TEXT.get(audience, ()), known_places)
    if found:
        raise LocationRefused(found, {name: out[name] for name in found})
    return out


def to_bytes(document: Any) -> bytes:
    """Canonical JSON, sorted keys, indented for people, UTF-8.

    Indented because the advocate reads these very bytes in the preview:
    what the preview shows is byte for byte what is sent.
    """
    return json.dumps(document, sort_keys=True, ensure_ascii=False, indent=2).encode("utf-8")


#: The fields of the ``partner_page`` audience, in the order :func:`page_bytes` writes them.
PAGE_FIELDS = ("next_cursor", "records")


def page_bytes(bodies: Sequence[str], next_cursor: str | None) -> bytes:
    """The ``partner_page`` audience: the cursor, and the records as their stored bytes.

    The records are embedded as they were frozen at release, not serialized
    again: a pulled record is byte for byte the pushed one and the previewed one.
    """
    cursor = json.dumps(next_cursor)
    return f'{{"next_cursor":{cursor},"records":[{",".join(bodies)}]}}'.encode()
