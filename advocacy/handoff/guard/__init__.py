"""The location guard: every free-text field that can leave the agency is scanned first.

VAWA (34 U.S.C. 12291(b)(2)) and FVPSA forbid releasing anything likely to
reveal where a victim is.  A hand-off's summary is written by a person in a
hurry, so the guard looks for what a person writes when they mean a place or
a way to reach someone: phone numbers, street addresses, PO boxes and rural
routes, coordinates, map links and plus codes, ZIP codes next to place words,
e-mail addresses, and the names, labels and addresses of the agency's own
shelters.

A hit *blocks*; it never rewrites.  :func:`scan` returns the spans so the
advocate can be shown exactly what to edit, and the same scan runs again on
the server at the moment of sending and on every push retry.  Silently
redacting would send text nobody has read.

The guard leans towards blocking: a summary that is refused costs the
advocate one edit, a summary that leaks can cost a life.  It still lets
through what summaries are full of (times, dates, money, case and docket
numbers, statute citations, counts, courtroom numbers), because a guard that
cries wolf is a guard people learn to work around.  The corpus in
``tests/data/location_guard_corpus.json`` holds both sides and the test
fails if recall drops below 0.98 or false positives rise above 0.05.

Speed (``bench/guard.py``; the benchmark scans 10,000 summaries): every
pattern is compiled once at import; each runs only on short windows around
the words it needs ("St", "calle", "Box", "@"...), found with plain substring
search in the folded text; and the slow, pure-Python ``phonenumbers``
matcher runs only on windows around runs of seven digits or more, only for
the regions whose numbers have that many digits, and stops as soon as every
run is explained.  A 500-character summary takes well under a millisecond.

The scanners live in the modules beside this one (phones, streets, geo,
zips; the agency's own places in ``places``); this module runs them and
joins what they find.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from advocacy.handoff.guard.geo import _geo
from advocacy.handoff.guard.hits import Hit, HitKind
from advocacy.handoff.guard.phones import ALWAYS_REGIONS, _phones
from advocacy.handoff.guard.places import NO_PLACES, KnownPlaces, _fold
from advocacy.handoff.guard.streets import _streets, _Text
from advocacy.handoff.guard.zips import _zips_and_emails

__all__ = [
    "ALWAYS_REGIONS",
    "NO_PLACES",
    "Hit",
    "HitKind",
    "KnownPlaces",
    "hits_in_record",
    "scan",
]


# --------------------------------------------------------------------------
# The scan
# --------------------------------------------------------------------------

_Finder = Callable[[_Text], Iterator[Hit]]
_FINDERS: tuple[_Finder, ...] = (_streets, _geo, _zips_and_emails)


def _join(hits: list[Hit]) -> list[Hit]:
    """Overlapping hits of one kind as one span ("Calle Hidalgo y Avenida Reforma")."""
    joined: list[Hit] = []
    for hit in sorted(hits):
        last = joined[-1] if joined else None
        if last and last.kind == hit.kind and hit.start < last.end:
            joined[-1] = Hit(last.start, max(last.end, hit.end), last.kind, last.label)
        else:
            joined.append(hit)
    return joined


def _merge(hits: Iterable[Hit]) -> list[Hit]:
    """Hits in text order, one per thing to edit.

    A known-place hit wins over whatever it overlaps and takes in its span
    (the advocate should learn that "44 Sample St." is one of the agency's
    own shelters, not merely an address); among the other hits, one inside
    another is dropped and overlapping hits of one kind are joined.
    """
    places = [h for h in set(hits) if h.kind == HitKind.KNOWN_PLACE and h.end > h.start]
    others = [h for h in set(hits) if h.kind != HitKind.KNOWN_PLACE and h.end > h.start]
    changed = True
    while changed:
        changed = False
        places = _join(places)
        for i, place in enumerate(places):
            touching = [h for h in others if h.start < place.end and place.start < h.end]
            if touching:
                start = min(place.start, *(h.start for h in touching))
                end = max(place.end, *(h.end for h in touching))
                places[i] = Hit(start, end, place.kind, place.label)
                others = [h for h in others if h not in touching]
                changed = True
    others.sort(key=lambda h: (h.start, -h.end))
    outermost: list[Hit] = []
    for hit in others:
        if not any(k.start <= hit.start and hit.end <= k.end for k in outermost):
            outermost.append(hit)
    return sorted(places + _join(outermost))


def scan(text: str, *, known_places: KnownPlaces, regions: Sequence[str] = ("US",)) -> list[Hit]:
    """Every span of ``text`` that could say where someone is or how to reach them.

    ``regions`` are the agency's own phone regions (ISO 3166 codes); the
    guard also tries :data:`ALWAYS_REGIONS` and any number written with a
    country code.  An empty list means the text may leave.
    """
    if not text:
        return []
    folded, offsets = _fold(text)
    hits: list[Hit] = list(known_places.find_folded(folded, offsets))
    hits.extend(_phones(text, regions))
    scanned = _Text(text, folded, offsets, frozenset(folded.split()))
    for finder in _FINDERS:
        hits.extend(finder(scanned))
    return _merge(hits)


def hits_in_record(
    record: Mapping[str, object],
    fields: Iterable[str],
    known_places: KnownPlaces,
    *,
    regions: Sequence[str] = ("US",),
) -> dict[str, list[Hit]]:
    """The hits in each named free-text field of ``record``; only fields with hits appear.

    An empty result means every field may leave.  A field that is absent or
    None has nothing to scan; a field that holds something other than text is
    a programming error and raises :class:`TypeError`, because a free-text
    field that is not text was not meant to be free text.
    """
    found: dict[str, list[Hit]] = {}
    for name in fields:
        value = record.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise TypeError(f"free-text field {name!r} holds {type(value).__name__}, not text")
        hits = scan(value, known_places=known_places, regions=regions)
        if hits:
            found[name] = hits
    return found
