"""What the guard reports: a span of text and the kind of place it gives away."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from advocacy.vocab import LabelledEnum


class HitKind(LabelledEnum):
    PHONE = "phone", _l("A phone number")
    STREET_ADDRESS = "street_address", _l("A street address or street name")
    PO_BOX = "po_box", _l("A post office box")
    RURAL_ROUTE = "rural_route", _l("A rural route or highway contract box")
    COORDINATES = "coordinates", _l("Map coordinates")
    GEO_LINK = "geo_link", _l("A map link or location code")
    ZIP_NEAR_PLACE = "zip_near_place", _l("A ZIP or postal code")
    EMAIL = "email", _l("An e-mail address")
    KNOWN_PLACE = "known_place", _l("One of the agency's shelters")


#: What a known-place hit matched, so the advocate reads why (never the shelter itself).
_PLACE_PART_LABELS = {
    "name": _l("The name of one of the agency's shelters"),
    "label": _l("The public label of one of the agency's shelters"),
    "address": _l("The address of one of the agency's shelters"),
}


@dataclass(frozen=True, order=True)
class Hit:
    """A span of the scanned text that must not leave: ``text[start:end]``.

    ``label`` is the translated explanation shown next to the highlight; it
    takes no part in comparisons.
    """

    start: int
    end: int
    kind: HitKind
    label: object = field(default=None, compare=False)

    def excerpt(self, text: str) -> str:
        return text[self.start : self.end]
