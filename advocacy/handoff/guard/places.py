"""The agency's own shelters, matched on folded text (case, punctuation, spacing, diacritics)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from advocacy.handoff.guard.hits import _PLACE_PART_LABELS, Hit, HitKind

# --------------------------------------------------------------------------
# Text folding for known places: case, diacritics and punctuation, length kept
# --------------------------------------------------------------------------


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


def _fold_char(ch: str) -> str:
    """One character folded to one character: a lowercase base letter, a digit or a space."""
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    low = base.lower()
    if len(low) != 1:
        low = ch.lower() if len(ch.lower()) == 1 else ch
    return low if low.isalnum() else " "


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x3000):
        ch = chr(code)
        folded = _fold_char(ch)
        if folded != ch:
            table[code] = folded
    return table


_FOLD_TABLE = _build_fold_table()
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _fold(text: str) -> tuple[str, list[int] | None]:
    """``text`` folded for matching, and the map back to the original offsets.

    Precomposed text (what keyboards produce) folds character for character,
    so offsets are the same and the map is None.  Text with separate
    combining marks has them dropped, and the map gives each folded
    character's original offset.
    """
    if not _COMBINING.search(text):
        return text.translate(_FOLD_TABLE), None
    chars: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        if unicodedata.combining(ch):
            continue
        chars.append(ch.translate(_FOLD_TABLE))
        offsets.append(i)
    offsets.append(len(text))
    return "".join(chars), offsets


# Spelling variants that mean the same thing in an address ("Street" and "St.").
_EQUIVALENT_WORDS = [
    ("street", "st", "str"),
    ("avenue", "ave", "av", "avenida", "avda"),
    ("road", "rd"),
    ("boulevard", "blvd", "bulevar"),
    ("drive", "dr"),
    ("lane", "ln"),
    ("court", "ct"),
    ("place", "pl"),
    ("parkway", "pkwy"),
    ("highway", "hwy"),
    ("circle", "cir"),
    ("terrace", "ter"),
    ("trail", "trl"),
    ("square", "sq"),
    ("county", "co", "cty"),
    ("north", "n"),
    ("south", "s"),
    ("east", "e"),
    ("west", "w"),
    ("northeast", "ne"),
    ("northwest", "nw"),
    ("southeast", "se"),
    ("southwest", "sw"),
    ("apartment", "apt", "apto", "unit", "suite", "ste"),
    ("calle", "c"),
    ("number", "no", "num", "numero"),
]
_VARIANTS = {word: group for group in _EQUIVALENT_WORDS for word in group}
_STREET_SUFFIX_WORDS = frozenset(
    w for g in _EQUIVALENT_WORDS[:14] for w in g if w not in ("county", "co", "cty", "avenida", "calle")
)


def _words(folded: str) -> list[str]:
    return folded.split()


def _part_pattern(words: Sequence[str]) -> str:
    """A regex for a run of folded words, with spelling variants and optional spaces between."""
    pieces = []
    for word in words:
        variants = _VARIANTS.get(word, (word,))
        pieces.append("(?:" + "|".join(sorted(map(re.escape, variants), key=len, reverse=True)) + ")")
    return r"\s*".join(pieces)


_STREET_PREFIX_WORDS = frozenset(
    ("calle", "c", "avenida", "av", "avda", "calzada", "bulevar", "privada", "camino")
)
_DIRECTIONS = frozenset(
    ("north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest")
)


def _address_parts(address: str) -> list[tuple[str, ...]]:
    """The parts of an address a person would write: the whole, the street line,
    the number and street name ("44 Sample"), the street name ("Sample St").

    The city, state and ZIP alone are not parts: they name a town, not a
    house (a ZIP next to place words is caught on its own).
    """
    parts: list[tuple[str, ...]] = []
    whole = tuple(_words(_fold(address)[0]))
    if whole:
        parts.append(whole)
    street = tuple(_words(_fold(address.split(",")[0])[0]))
    if street and street != whole:
        parts.append(street)
    if len(street) >= 2 and street[0][0].isdigit():
        rest = list(street[1:])
        # Drop a unit ("Apt 4B") and the suffix to get the bare name.
        for i, word in enumerate(rest):
            if _VARIANTS.get(word, ())[:1] == ("apartment",) or word == "#":
                rest = rest[:i]
                break
        name = [w for w in rest if w not in _STREET_SUFFIX_WORDS]
        if name:
            parts.append((street[0], *name))  # "44 sample", "1200 w lake"
        if len(name) >= 2 and name[0] in _STREET_PREFIX_WORDS:
            parts.append((street[0], *name[1:]))  # "910 calle hidalgo" is also "910 hidalgo"
        named = [w for w in rest if not (len(w) <= 2 and _VARIANTS.get(w, ("",))[0] in _DIRECTIONS)]
        if len(named) >= 2 and named[-1] in _STREET_SUFFIX_WORDS:
            parts.append(tuple(named))  # "sample st", "lake street"
    return parts


@dataclass(frozen=True)
class KnownPlaces:
    """The agency's own shelters as the guard matches them: built once from the database.

    ``entries`` are ``(part, words)`` pairs, ``part`` being "name", "label" or
    "address".  Build it with :meth:`build`; the caller loads the triples.
    """

    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    _parts: tuple[tuple[re.Pattern[str], str], ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def build(cls, places: Iterable[tuple[str | None, str | None, str | None]]) -> KnownPlaces:
        """From ``(name, label, address)`` triples; any of the three may be empty."""
        entries: list[tuple[str, tuple[str, ...]]] = []
        for name, label, address in places:
            for part, value in (("name", name), ("label", label)):
                words = tuple(_words(_fold(value or "")[0]))
                if words:
                    entries.append((part, words))
            if address:
                entries.extend(("address", words) for words in _address_parts(address))
        unique = tuple(dict.fromkeys(entries))
        if not unique:
            return cls()
        ordered = sorted(unique, key=lambda e: len(" ".join(e[1])), reverse=True)
        alternatives = "|".join(_part_pattern(words) for _, words in ordered)
        pattern = re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])")
        parts = tuple((re.compile(_part_pattern(words)), part) for part, words in ordered)
        return cls(unique, pattern, parts)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def find(self, text: str) -> Iterator[Hit]:
        """The known-place hits in ``text`` alone (:func:`scan` finds them with everything else)."""
        return self.find_folded(*_fold(text))

    def find_folded(self, folded: str, offsets: list[int] | None) -> Iterator[Hit]:
        if self._pattern is None:
            return
        for match in self._pattern.finditer(folded):
            part = next((p for rx, p in self._parts if rx.fullmatch(match.group())), "name")
            start, end = match.span()
            if offsets is not None:
                start, end = offsets[start], offsets[end]
            yield Hit(start, end, HitKind.KNOWN_PLACE, _PLACE_PART_LABELS[part])


#: No shelters to look for (a test, or an agency that has none yet).
NO_PLACES = KnownPlaces()
