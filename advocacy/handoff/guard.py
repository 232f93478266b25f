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
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import phonenumbers
from flask_babel import lazy_gettext as _l

from advocacy.vocab import LabelledEnum

__all__ = [
    "ALWAYS_REGIONS",
    "NO_PLACES",
    "Hit",
    "HitKind",
    "KnownPlaces",
    "hits_in_record",
    "scan",
]


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


# --------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------

#: Regions always tried besides the agency's own: the Mexican and Somali
#: communities Duluth-area programs serve write local numbers without ``+``.
#: Numbers of any other country are caught by the generic pass when written
#: in international form (``+44 20 7946 0958``).
ALWAYS_REGIONS = ("US", "MX", "SO")

#: STRICT_GROUPING: the number must be valid for the region and its digit
#: groups must not split a group of the national format.  POSSIBLE and VALID
#: accept "2026-000123" (a file number) as a Washington DC phone and
#: "27-CV-26-12345" as a Somali one; EXACT_GROUPING drops "061 5123456".
_LENIENCY = phonenumbers.Leniency.STRICT_GROUPING

# Runs with at least seven digits, allowing the separators people put in numbers.
# (No "/": dates are written with it and phone numbers almost never are.)
_DIGIT_RUN = re.compile(r"\+?\(?\d[\d().\-\s]{5,28}\d")
_WINDOW_MARGIN = 16

# A North American number shaped as one, valid or not (555 numbers, a typo).
_NANP_SHAPE = re.compile(
    r"(?<![\w\-/.])(?:\+?1[\s.\-]?)?(?:\(\s*\d{3}\s*\)|\d{3})[\s.\-/]?\d{3}[\s.\-]\d{4}(?![\w\-/]|\.\d)"
)
# Any number written with a country code, valid or not ("+52 1 55 1234 5678", the old Mexican
# mobile form): eight to fifteen digits after a "+" are a phone number in a summary.
_PLUS_NUMBER = re.compile(r"(?<![\w+])\+\d{1,3}(?:[\s.\-]?\(?\d{1,5}\)?){1,6}(?![\w\-/])")
# Seven digits "555-0143" right after a word that says it is a number.
_LOCAL_NUMBER = re.compile(
    r"(?i)\b(?:phone|cell(?:phone)?|mobile|call(?:ed|s)?|text(?:ed)?|tel|number|reach(?:ed)?|"
    r"whats\s?app|signal|tel[eé]fono|celular|cel|m[oó]vil|llam(?:ar|[oó]|a)|n[uú]mero|n[uú]m\.?|"
    r"mensaje|taleefan|lambar)"
    r"\b(?:\.(?=\s*\d))?[^\n.!?]{0,30}?(?<![\w\-])(\d{3}[\s.\-]\d{4})(?![\w\-/]|\.\d)"
    # "called between 930-1030 am" is a time range.
    r"(?!\s*(?:am|pm|a\.m\.|p\.m\.|hrs?\b|hours|horas))"
)


# An unbroken run of digits after these words is a record number, not a phone number.
_IDENTIFIER_BEFORE = re.compile(
    r"(?i)\b(?:booking|case|file|docket|citation|ticket|inmate|account|confirmation|report|record|receipt|"
    r"warrant|permit|license|licence|icr|ccn|dob|expediente|caso|folio|boleta|reporte|acta|causa)\b"
    r"(?:\s+(?:no|num|number|n[uú]mero|id|#))?\.?\s*[:#]?\s*$"
)


def _is_identifier(text: str, start: int, end: int) -> bool:
    return text[start:end].isdigit() and bool(_IDENTIFIER_BEFORE.search(text[max(0, start - 32) : start]))


#: How many digits a valid number of these regions has as people write it (national
#: number, trunk prefix or country code included).  STRICT_GROUPING accepts valid numbers
#: only, so a window whose runs are all outside a region's range cannot hold one of its
#: numbers and is not parsed for it: that skips most of the work on case numbers.
_REGION_DIGITS = {"US": range(10, 12), "MX": range(10, 14), "SO": range(7, 13)}
_SEVEN_DIGITS = re.compile(r"\d{3}[\s.\-]\d{4}")


@dataclass
class _Window:
    start: int
    end: int
    digit_counts: set[int]
    plus: bool
    runs: list[tuple[int, int]]


def _phone_windows(text: str) -> Iterator[_Window]:
    """Windows around digit runs long enough to be a phone number, merged when they touch."""
    current: _Window | None = None
    for match in _DIGIT_RUN.finditer(text):
        digits = sum(c.isdigit() for c in match.group())
        if digits < 7:
            continue
        start = max(0, match.start() - _WINDOW_MARGIN)
        end = min(len(text), match.end() + _WINDOW_MARGIN)
        plus = match.group().startswith("+")
        if current and start <= current.end:
            current.end = end
            current.digit_counts.add(digits)
            current.plus = current.plus or plus
            current.runs.append(match.span())
        else:
            if current:
                yield current
            current = _Window(start, end, {digits}, plus, [match.span()])
    if current:
        yield current


def _worth_parsing(window: _Window, region: str | None) -> bool:
    if region is None:
        return window.plus  # the generic pass finds only numbers written with a country code
    expected = _REGION_DIGITS.get(region)
    if expected is None or window.plus:
        return True
    return any(n in expected or n > 13 for n in window.digit_counts)


def _phones(text: str, regions: Sequence[str]) -> Iterator[Hit]:
    label = HitKind.PHONE.lazy_label
    all_regions: list[str | None] = [*dict.fromkeys((*regions, *ALWAYS_REGIONS)), None]
    for window in _phone_windows(text):
        chunk = text[window.start : window.end]
        found: list[tuple[int, int]] = []
        for region in all_regions:
            if not _worth_parsing(window, region):
                continue
            for match in phonenumbers.PhoneNumberMatcher(chunk, region, leniency=_LENIENCY):
                start, end = window.start + match.start, window.start + match.end
                if not _is_identifier(text, start, end):
                    found.append((start, end))
                    yield Hit(start, end, HitKind.PHONE, label)
            if all(any(s <= a and b <= e for s, e in found) for a, b in window.runs):
                break  # every run is already a number: the other regions can add nothing
    if "+" in text:
        for match in _PLUS_NUMBER.finditer(text):
            if 8 <= sum(c.isdigit() for c in match.group()) <= 15:
                yield Hit(match.start(), match.end(), HitKind.PHONE, label)
    if _SEVEN_DIGITS.search(text):
        for match in _NANP_SHAPE.finditer(text):
            yield Hit(match.start(), match.end(), HitKind.PHONE, label)
        for match in _LOCAL_NUMBER.finditer(text):
            yield Hit(match.start(1), match.end(1), HitKind.PHONE, label)


# --------------------------------------------------------------------------
# Street addresses (US and Spanish forms), PO boxes, rural routes
# --------------------------------------------------------------------------

_DIR = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West|Northeast|Northwest|Southeast|Southwest)\.?"
_ORDINAL = r"\d{1,3}(?:st|nd|rd|th)"
_ORDINAL_WORD = (
    r"(?:First|Second|Third|Fourth|Fifth|Sixth|Seventh|Eighth|Ninth|Tenth|Eleventh|Twelfth|"
    r"Thirteenth|Fourteenth|Fifteenth|Sixteenth|Seventeenth|Eighteenth|Nineteenth|Twentieth)"
)
# Suffixes that name a street wherever they follow a name.
_STRONG_SUFFIX = (
    r"(?:Street|St|Str|Avenue|Ave|Av|Boulevard|Blvd|Road|Rd|Lane|Ln|Drive|Dr|Parkway|Pkwy|Terrace|Trail|Trl)"
)
# Suffixes that are also ordinary words ("Family Court", "took place"): only after a house number.
_WEAK_SUFFIX = (
    r"(?:Court|Ct|Place|Pl|Way|Circle|Cir|Ter|Square|Sq|Plaza|Plz|Alley|Aly|Crescent|Cres|Loop|Row|"
    r"Run|Path|Walk|Pike|Point|Pt|Ridge|Heights|Hts|Crossing|Xing|Cove|Bend|Landing|Commons|Highway|Hwy|"
    r"Expressway|Expy|Freeway|Fwy)"
)
_STOPWORDS = (
    r"(?:the|a|an|of|on|in|at|to|from|by|for|with|and|or|but|down|up|across|along|near|her|his|my|"
    r"their|our|your|its|this|that|these|those|is|was|were|are|be|been|has|had|have|times?|days?|"
    r"weeks?|months?|years?|hours?|minutes?|blocks?|miles?|kids|children|counts?|violations?|calls?|"
    r"texts?|people|officers?|cars?|houses?|doors?|more|other|same|different|new|old|next|last|"
    r"el|la|los|las|de|del|y|en|que|por|con|su|sus)"
)
_SAINTS = (
    r"(?:Paul|Louis|Cloud|Luke|Lukes|Luke's|Mary|Marys|Mary's|John|Johns|John's|Joseph|Croix|Francis|Anthony|"
    r"Peter|James|Clair|Michael|Vincent|Jude|Augustine|Charles|Thomas|Patrick|Gabriel|Elizabeth|"
    r"Catherine|Scholastica|Cloud's|Ann|Anne|Andrew|George|Mark|Matthew|Jerome|Benedict)"
)
# A word of a street's name.  Only a few abbreviations end in a dot, so that a name never
# runs on into the next sentence ("at 9 AM. Judge Lane granted...").
_NAME_WORD = (
    rf"(?:{_ORDINAL}|{_ORDINAL_WORD}|(?:Jr|Sr|Mt|Ft|St|Dr|Rev)\.|(?!(?:AM|PM)\b)[A-Z][\w'’\-]*"
    rf"|(?!{_STOPWORDS}\b)[a-z][\w'’\-]*)"
)
# Words that begin a sentence or a title before a surname ("Judge Lane", "Officer Street"):
# never the name of a street by themselves.
_NOT_STREET_NAMES = (
    r"(?:The|A|An|Her|His|My|Their|Our|This|That|On|In|At|Off|Across|Down|Up|Same|Every|Each|Around|Along|"
    r"Judge|Officer|Deputy|Detective|Det|Sgt|Sergeant|Lt|Lieutenant|Captain|Capt|Chief|Trooper|Agent|Attorney|"
    r"Prosecutor|Advocate|Nurse|Doctor|Dr|Mr|Mrs|Ms|Miss|Mx|Hon|Honorable|Justice|Magistrate|Referee|"
    r"Commissioner|Juez|Jueza|Oficial|Agente|Licenciado|Licenciada|Lic|Sr|Sra|Srta|Don|Do[nñ]a|Practitioner|"
    r"NP|PA|RN|LPN|Therapist|Counselor|Caseworker|Worker|Manager|Supervisor|Clerk|Bailiff|Coordinator|"
    r"Interpreter|Director|Pastor|Father|Sister|Reverend|Rev|Teacher|Principal)"
)
_CAP_WORD = rf"(?:{_ORDINAL}|{_ORDINAL_WORD}|(?!{_NOT_STREET_NAMES}\b)[A-Z][\w'’\-]*)"
_UNIT = (
    r"(?:,?\s*(?:(?:Apt|Apartment|Unit|Suite|Ste|Lot|Trailer|Space|Spc|Fl|Floor|Bldg|Building|Rm|No|Apto|Depto|Dpto|"
    r"Interior|Int)\b\.?\s*#?\s*|#\s*)[\w\-]{1,6}\b)"
)
_HOUSE_NUMBER = r"(?<![\w$#.,/\-:])\d{1,6}[A-Za-z]?(?:\s*-\s*\d{1,5}[A-Za-z]?)?(?:\s+1/2|½)?"
_SAINT_GUARD = rf"(?!\.?\s+{_SAINTS}\b)"

_STREET_NUMBERED = re.compile(
    rf"{_HOUSE_NUMBER}\s+(?:{_DIR}\s+)?(?:{_NAME_WORD}\s+){{0,3}}{_NAME_WORD}\s+"
    rf"(?P<suffix>(?i:{_STRONG_SUFFIX}|{_WEAK_SUFFIX}))\b\.?(?:\s+{_DIR}(?![\w']))?{_UNIT}?"
)
_STREET_NAMED = re.compile(
    rf"(?<![\w'’])(?:{_DIR}\s+)?(?:{_CAP_WORD}\s+){{0,3}}{_CAP_WORD}\s+"
    rf"(?:(?i:street|avenue|ave|boulevard|blvd|road|rd|lane|ln)|(?:St|ST|st){_SAINT_GUARD}"
    r"|Drive|Dr(?!\.?\s+[A-Z])|Parkway|Pkwy|Terrace|Trail)\b\.?"
    rf"(?:\s+{_DIR}(?![\w']))?{_UNIT}?"
)
_HIGHWAY = re.compile(
    r"\b(?i:(?:(?:county|co\.?|cty\.?|state|us|u\.s\.|township|twp\.?|forest|old|"
    r"farm\s+to\s+market)\s+(?:road|rd|highway|hwy|route|rte)|highway|hwy|route|rte|trunk\s+highway|interstate))\.?"
    r"\s*#?\s*\d{1,4}[A-Za-z]?\b|\b(?:I|US|MN|WI|SR|CSAH|TH)-\d{1,3}\b|"
    r"\b(?i:carretera(?:\s+(?:federal|estatal|libre|de\s+cuota))?|autopista|km|kil[oó]metro)\.?\s*(?:no\.?\s*|n[uú]m\.?\s*|#\s*)?\d{1,4}(?:\+\d{1,3})?\b"
)
_ADDRESS_WORDS_BEFORE = re.compile(
    r"(?i)\b(?:address(?:\s+is)?|lives\s+at|living\s+at|staying\s+at|stays\s+at|moved\s+to|resides\s+at|"
    r"located\s+at|direcci[oó]n(?:\s+es)?|domicilio(?:\s+en)?|vive\s+en|reside\s+en)\s*:?\s*$"
)
_WEAK_FULL_WORDS = _wordset(
    "court place way circle square plaza alley crescent loop row run path walk pike point ridge heights "
    "crossing cove bend landing commons highway expressway freeway"
)
_COURT_WORDS = _wordset(
    "district family supreme juvenile municipal tribal circuit superior county probate housing drug "
    "appeals federal state criminal civil traffic small claims domestic magistrate bankruptcy "
    "immigration treatment veterans mental health dv"
)
_STANDALONE_UNIT = re.compile(
    r"(?i)\b(?:apt|apartment|apto|apartamento|depto|dpto|departamento)\b\.?\s*#?\s*\d{1,5}[a-z]?\b|"
    r"\b(?:unit|suite|ste|lot|trailer|space)\s*#\s*\d{1,5}[a-z]?\b"
)
# Words that name a street on their own, and words that do only with a number after the name.
_ES_KEYWORD = (
    r"(?:calle|avenida|av|avda|bulevar|calzada|callej[oó]n|prolongaci[oó]n|perif[eé]rico|colonia|col|"
    r"fraccionamiento|fracc)"
)
_ES_WEAK_KEYWORD = (
    r"(?:camino|privada|paseo|circuito|andador|cerrada|retorno|eje|boulevard|blvd|carrera|diagonal)"
)
_ES_CONNECTORS = frozenset(("de", "del", "la", "las", "los", "el", "y"))
_ES_NAME_WORD = r"(?:(?!(?i:no|n[uú]m|n[uú]mero)\b)[A-ZÁÉÍÓÚÑ][\wÁÉÍÓÚÑáéíóúñü'’\-]*|\d{1,3}(?:a|o|ta|va|ra|da|er|º|ª)?|de|del|la|las|los|el|y)"
_ES_NUMBER = (
    r"(?:(?:\s*,?\s*(?i:#|no\.|no|n[uú]m\.?|n[uú]mero|n°|nº)?\s*\d{1,5}[A-Za-z]?\b|\s+s/n\b)"
    r"(?:\s*,?\s*(?i:int\.?|interior|depto\.?|dpto\.?|departamento|apto\.?|apartamento|piso)\s*\w{1,5}\b)?)"
)
_ES_FIRST_WORD = r"(?:[A-ZÁÉÍÓÚÑ][\wÁÉÍÓÚÑáéíóúñü'’\-]*|\d{1,3}(?:a|o|ta|va|ra|da|er|º|ª)?\b)"
_STREET_SPANISH = re.compile(
    rf"\b(?i:{_ES_KEYWORD})\b\.?\s+(?:(?:de|del)\s+(?:(?:la|las|los|el)\s+)?)?{_ES_FIRST_WORD}"
    rf"(?:\s+{_ES_NAME_WORD}){{0,4}}{_ES_NUMBER}?(?![\w])"
    rf"|\b(?i:{_ES_WEAK_KEYWORD})\b\.?\s+(?:(?:de|del)\s+(?:(?:la|las|los|el)\s+)?)?{_ES_FIRST_WORD}(?:\s+{_ES_NAME_WORD}){{0,4}}{_ES_NUMBER}(?![\w])"
)
# "700 W Central Entrance": a house number and a compass letter before a name is an
# address whatever the suffix (or none) that follows.
_STREET_DIRECTIONAL = re.compile(
    rf"{_HOUSE_NUMBER}\s+(?:N|S|E|W|NE|NW|SE|SW)\.?\s+(?:{_ORDINAL}|[A-Z][\w'’\-]+)(?:\s+[A-Z][\w'’\-]+){{0,2}}"
)
# "lives at 1412 Jefferson", "vive en 1412 Jefferson": a number and a name after words that say address.
_ADDRESS_CONTEXT = re.compile(
    r"(?i:\b(?:address(?:\s+is)?|lives\s+at|living\s+at|staying\s+at|stays\s+at|moved\s+to|resides\s+at|"
    r"located\s+at|house\s+at|home\s+at|apartment\s+at|direcci[oó]n(?:\s+es)?|domicilio(?:\s+en)?|"
    r"vive\s+en|se\s+mud[oó]\s+a|reside\s+en|queda\s+en|ciwaan(?:keedu)?)\b:?\s+)"
    rf"({_HOUSE_NUMBER}\s+(?:{_DIR}\s+)?[A-Z][\w'’\-]+(?:\s+[A-Z][\w'’\-]+){{0,2}})"
)

_PO_BOX = re.compile(
    r"(?i)\b(?:p\.?\s?o\.?\s?box|post\s+office\s+box|p\.?\s?o\.?\s?b\.?|postal\s+box|pmb|private\s+mailbox|"
    r"apartado(?:\s+postal|\s+a[eé]reo)?|apdo\.?|a\.\s?p\.|casilla(?:\s+postal|\s+de\s+correo)?|"
    r"sanduuqa(?:\s+boostada)?)\s*(?:no\.?|#|n[uú]m\.?)?\s*\d{1,6}\b|"
    r"(?i:\bgeneral\s+delivery\b|\blista\s+de\s+correos\b)"
)
_RURAL_ROUTE = re.compile(
    r"(?i)\b(?:r\.?\s?r\.?|rural\s+route|rural\s+rte|star\s+route|h\.?\s?c\.?|highway\s+contract(?:\s+route)?|"
    r"psc|cmr|ruta\s+rural)\s*#?\s*\d{1,4}\b(?:\s*,?\s*box\s*#?\s*\d{1,6}\b)?"
)


# Words (folded: lowercase, no accents, no punctuation) without which a pattern cannot
# match: a summary that has none of them never runs it.  This is what keeps the guard
# fast; each set must hold every word its pattern starts from or ends on.
_SUFFIX_WORDS = _wordset(
    "street st str avenue ave av boulevard blvd road rd lane ln drive dr parkway pkwy terrace trail trl "
    "court ct place pl way circle cir ter square sq plaza plz alley aly crescent cres loop row run path walk "
    "pike point pt ridge heights hts crossing xing cove bend landing commons highway hwy expressway expy "
    "freeway fwy"
)
_HIGHWAY_WORDS = _wordset("road rd highway hwy route rte interstate carretera autopista km kilometro")
_ROUTE_CODE = re.compile(r"[A-Z]-\d")
_UNIT_WORDS = _wordset(
    "apt apartment apto apartamento depto dpto departamento unit suite ste lot trailer space"
)
_ES_WORDS = _wordset(
    "calle avenida av avda bulevar calzada callejon prolongacion periferico colonia col fraccionamiento fracc "
    "camino privada paseo circuito andador cerrada retorno eje boulevard blvd carrera diagonal"
)
_CONTEXT_WORDS = _wordset(
    "address lives living staying stays moved resides located house home apartment direccion domicilio vive "
    "mudo reside queda ciwaan ciwaankeedu"
)
_PO_WORDS = _wordset("box pob pmb mailbox apartado apdo casilla delivery correos sanduuqa p")
_RR_WORDS = _wordset("rr r rural star hc h highway psc cmr ruta")
_DIRECTIONAL_NUMBER = re.compile(r"\d\s+[NSEW]{1,2}\.?\s")
_HOUSE_BEFORE = re.compile(rf"{_HOUSE_NUMBER}\s+$")


def _with_house_number(text: str, start: int) -> int:
    """Where a street that starts at ``start`` really starts, if a house number comes before it."""
    before = _HOUSE_BEFORE.search(text, max(0, start - 16), start)
    return before.start() if before else start


@dataclass
class _Text:
    """The text being scanned, folded once, with where its trigger words are.

    A pattern is run only on windows around the words it needs (a street
    pattern around "St", "Avenue", "calle"...), which is much cheaper than
    running each of them over the whole summary.
    """

    text: str
    folded: str
    offsets: list[int] | None
    words: frozenset[str]

    def around(self, triggers: frozenset[str], before: int, after: int) -> list[tuple[int, int]]:
        """Windows of the text around each trigger word present, merged; [] if none is."""
        present = self.words & triggers
        if not present:
            return []
        if self.offsets is not None:
            return [(0, len(self.text))]  # rare (combining marks): the whole text
        folded, spans = self.folded, []
        for word in present:
            at = folded.find(word)
            while at >= 0:
                end = at + len(word)
                if (at == 0 or folded[at - 1] == " ") and (end == len(folded) or folded[end] == " "):
                    spans.append((at, end))
                at = folded.find(word, end)
        return self.windows(spans, before, after)

    def windows(self, spans: Iterable[tuple[int, int]], before: int, after: int) -> list[tuple[int, int]]:
        size = len(self.text)
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted((max(0, a - before), min(size, b + after)) for a, b in spans):
            while hi < size and self.text[hi].isalnum():
                hi += 1  # never cut a word: a window's end reads as the text's end
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
            else:
                merged.append((lo, hi))
        return merged

    def finditer(self, rx: re.Pattern[str], windows: list[tuple[int, int]]) -> Iterator[re.Match[str]]:
        for lo, hi in windows:
            yield from rx.finditer(self.text, lo, hi)


_STRONG_WORDS = _wordset(
    "street st str avenue ave av boulevard blvd road rd lane ln drive dr parkway pkwy terrace trail trl"
)


def _streets(scan: _Text) -> Iterator[Hit]:
    text = scan.text
    label = HitKind.STREET_ADDRESS.lazy_label
    has_digit = any(c.isdigit() for c in text)
    if has_digit:
        for match in scan.finditer(_STREET_NUMBERED, scan.around(_SUFFIX_WORDS, 80, 30)):
            suffix = match.group("suffix").lower()
            before = text[match.start() : match.start("suffix")].split()[1:]
            if suffix in ("court", "ct") and before and before[-1].lower().strip(".,") in _COURT_WORDS:
                continue  # "2 District Court judges"
            if (
                suffix in _WEAK_FULL_WORDS
                and any(w[:1].islower() for w in before)
                and not _ADDRESS_WORDS_BEFORE.search(text, max(0, match.start() - 30), match.start())
            ):
                continue  # "3 chances point blank": a weak suffix needs a capitalized name
            yield Hit(match.start(), match.end(), HitKind.STREET_ADDRESS, label)
    for match in scan.finditer(_STREET_NAMED, scan.around(_STRONG_WORDS, 80, 30)):
        yield Hit(match.start(), match.end(), HitKind.STREET_ADDRESS, label)
    if has_digit and _DIRECTIONAL_NUMBER.search(text):
        for match in _STREET_DIRECTIONAL.finditer(text):
            yield Hit(match.start(), match.end(), HitKind.STREET_ADDRESS, label)
    if has_digit:
        windows = scan.around(_HIGHWAY_WORDS, 40, 30)
        if _ROUTE_CODE.search(text):
            windows = [(0, len(text))]
        for match in scan.finditer(_HIGHWAY, windows):
            yield Hit(_with_house_number(text, match.start()), match.end(), HitKind.STREET_ADDRESS, label)
        for match in scan.finditer(_STANDALONE_UNIT, scan.around(_UNIT_WORDS, 2, 16)):
            yield Hit(match.start(), match.end(), HitKind.STREET_ADDRESS, label)
    for match in scan.finditer(_STREET_SPANISH, scan.around(_ES_WORDS, 2, 90)):
        found = match.group().split()
        while len(found) > 2 and found[-1].lower() in _ES_CONNECTORS:
            found.pop()
        end = match.start() + match.group().rindex(found[-1]) + len(found[-1])
        yield Hit(_with_house_number(text, match.start()), end, HitKind.STREET_ADDRESS, label)
    if has_digit:
        for match in scan.finditer(_ADDRESS_CONTEXT, scan.around(_CONTEXT_WORDS, 12, 70)):
            yield Hit(match.start(1), match.end(1), HitKind.STREET_ADDRESS, label)
    po_windows = scan.around(_PO_WORDS, 30, 20)
    if "a.p." in text.lower():
        po_windows = [(0, len(text))]
    po_label = HitKind.PO_BOX.lazy_label
    for match in scan.finditer(_PO_BOX, po_windows):
        yield Hit(match.start(), match.end(), HitKind.PO_BOX, po_label)
    if has_digit:
        rr_label = HitKind.RURAL_ROUTE.lazy_label
        for match in scan.finditer(_RURAL_ROUTE, scan.around(_RR_WORDS, 8, 40)):
            yield Hit(match.start(), match.end(), HitKind.RURAL_ROUTE, rr_label)


# --------------------------------------------------------------------------
# Coordinates, map links, plus codes, what3words
# --------------------------------------------------------------------------

_SIGN = r"[-+−–]?"
_LAT_DEC = rf"{_SIGN}\d{{1,2}}\.\d{{3,}}"
_LNG_DEC = rf"{_SIGN}\d{{1,3}}\.\d{{3,}}"
_COORD_PAIR = re.compile(
    rf"(?<![\w.$€£\-])({_LAT_DEC})\s*°?\s*([NS])?\s*[,;/ ]\s*({_LNG_DEC})(?:\s*°)?(?:\s*([EWO])\b)?(?![\w]|\.\d)"
)
_DEG_NUM = r"\d{1,3}(?:\.\d+)?"
# A latitude and a longitude each with a hemisphere letter, and each a decimal or in degrees
# ("46.78 N, 92.10 W", "46°N 92°W"): whole numbers with letters ("12 N, 4 E") are wings and floors.
_DEG_MARKED = r"(?:\d{1,3}\.\d+\s*°?|\d{1,3}\s*°)"
_COORD_HEMI = re.compile(
    rf"(?<![\w.$])(?:[NS]\s*{_DEG_MARKED}|{_DEG_MARKED}\s*[NS])\s*,?\s*(?:[EWO]\s*{_DEG_MARKED}|{_DEG_MARKED}\s*[EWO])\b"
    rf"|(?<![\w.$]){_DEG_NUM}\s*°\s*[NSEWO]\b"
)
_MINUTES = r"['′’]|min(?:utes?|utos?)?\b\.?"
_SECONDS = r"(?:\"|″|''|”|′′|seg(?:undos?)?\b\.?|sec(?:onds?)?\b\.?)"
_DMS_ONE = (
    rf"(?:[NSEWO]\s*)?\d{{1,3}}(?:\.\d+)?\s*(?:°|º|deg(?:rees?)?\b\.?|grados?\b)\s*"
    rf"\d{{1,2}}(?:[.,]\d+)?\s*(?:{_MINUTES})\s*(?:\d{{1,2}}(?:[.,]\d+)?\s*{_SECONDS})?\s*"
    r"(?:[NSEWO]\b|north|south|east|west|norte|sur|este|oeste)?"
)
_DMS = re.compile(rf"(?i)(?<![\w.]){_DMS_ONE}(?:\s*,?\s*(?:and\s+|y\s+)?{_DMS_ONE})?")
_DEG_WORDS = re.compile(
    r"(?i)(?<![\w.])\d{1,3}(?:\.\d+)?\s*(?:°|º|degrees?|deg\.?|grados?)\s*(?:north|south|east|west|norte|sur|este|oeste|latitude|longitude|latitud|longitud)\b"
)
_LAT_LNG_WORDS = re.compile(
    r"(?i)\b(?:lat(?:itude|itud)?|lng|lon(?:g(?:itude|itud)?)?|coordinates|coords|coordenadas|gps)\b\.?\s*(?:is|es|de|:|=)?\s*"
    rf"{_SIGN}\d{{1,3}}\.\d+(?:\s*°?\s*[NSEWO]\b)?(?:\s*[,;/ ]\s*(?:(?:lng|lon(?:g(?:itude|itud)?)?)\b\.?\s*[:=]?\s*)?{_SIGN}\d{{1,3}}\.\d+(?:\s*°?\s*[EWO]\b)?)?"
)

_URL = re.compile(
    r"(?i)\b(?:https?://|www\.)[^\s<>\"']+|\b(?:[a-z0-9\-]+\.)+(?:com|org|net|gl|co|ly|app|me)/[^\s<>\"']*"
)
_MAP_HOSTS = re.compile(
    r"(?i)(?:^|\.)(?:maps\.google\.[a-z.]+|google\.[a-z.]+|goo\.gl|maps\.app\.goo\.gl|g\.co|maps\.apple\.com|"
    r"apple\.co|bing\.com|openstreetmap\.org|osm\.org|what3words\.com|w3w\.co|waze\.com|mapquest\.com|"
    r"here\.com|maps\.me|mapy\.cz|yandex\.[a-z]+|2gis\.[a-z]+|geohack\.toolforge\.org|plus\.codes|"
    r"findmespot\.com|life360\.com|glympse\.com)$"
)
_MAP_PATHS = re.compile(r"(?i)^/(?:maps|place|dir|search/.*@|@|kgs|geo)")
_ALWAYS_MAP_HOSTS = re.compile(
    r"(?i)(?:^|\.)(?:maps\.google\.[a-z.]+|maps\.app\.goo\.gl|maps\.apple\.com|openstreetmap\.org|osm\.org|"
    r"what3words\.com|w3w\.co|waze\.com|mapquest\.com|maps\.me|plus\.codes|life360\.com|glympse\.com|findmespot\.com)$"
)
_GEO_PARAMS = _wordset(
    "lat lng lon long latitude longitude ll sll cp center centre coords coord coordinates "
    "daddr saddr destination origin location loc position pos mlat mlon map"
)
_NUMBER_IN = re.compile(r"-?\d{1,3}\.\d{2,}")
_COORD_IN_URL = re.compile(r"-?\d{1,3}\.\d{2,}\s*(?:,|%2C|/|;|_|\+)\s*-?\d{1,3}\.\d{2,}", re.I)
_GEO_URI = re.compile(r"(?i)\bgeo:\s*[-+]?\d[^\s]*")
_PLUS_CODE = re.compile(
    r"(?i)(?<![\w+])(?:[23456789CFGHJMPQRVWX]{8}|[23456789CFGHJMPQRVWX]{4,6}|[23456789CFGHJMPQRVWX]{2,6}0{2,6})"
    r"\+[23456789CFGHJMPQRVWX]{0,3}(?![\w+])"
)
_W3W = re.compile(r"(?:///|\bw3w:?\s*|\bwhat3words:?\s*)[^\W\d_]{2,}\.[^\W\d_]{2,}\.[^\W\d_]{2,}\b", re.I)


def _is_geo_url(url: str) -> bool:
    candidate = url if "://" in url else "http://" + url
    try:
        parts = urlsplit(candidate)
        host = (parts.hostname or "").lower()
    except ValueError:
        return bool(_COORD_IN_URL.search(url))
    if _ALWAYS_MAP_HOSTS.search(host):
        return True
    if _MAP_HOSTS.search(host) and _MAP_PATHS.search(parts.path or "/"):
        return True
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in _GEO_PARAMS and _NUMBER_IN.search(value):
            return True
    return bool(_COORD_IN_URL.search(url))


_COORD_WORDS = _wordset(
    "lat latitude latitud lng lon long longitude longitud coordinates coords coordenadas gps degrees degree "
    "deg grados grado"
)
_DECIMALS = re.compile(r"\.\d{2}")


def _geo(scan: _Text) -> Iterator[Hit]:
    text, words = scan.text, scan.words
    label = HitKind.COORDINATES.lazy_label
    degrees = "°" in text or "º" in text
    named = not words.isdisjoint(_COORD_WORDS)
    decimals = _DECIMALS.search(text) is not None
    if decimals:
        for match in _COORD_PAIR.finditer(text):
            lat = float(match.group(1).replace("−", "-").replace("–", "-"))
            lng = float(match.group(3).replace("−", "-").replace("–", "-"))
            if abs(lat) <= 90 and abs(lng) <= 180:
                yield Hit(match.start(), match.end(), HitKind.COORDINATES, label)
    finders = []
    if degrees or decimals:
        finders.append(_COORD_HEMI)
    if degrees or named:
        finders += [_DMS, _DEG_WORDS]
    if named:
        finders.append(_LAT_LNG_WORDS)
    for rx in finders:
        for match in rx.finditer(text):
            yield Hit(match.start(), match.end(), HitKind.COORDINATES, label)
    link = HitKind.GEO_LINK.lazy_label
    if "/" in text or "www." in text.lower():
        for match in _URL.finditer(text):
            url = match.group().rstrip(".,;:!?)]}")
            if _is_geo_url(url):
                yield Hit(match.start(), match.start() + len(url), HitKind.GEO_LINK, link)
    lower = text.lower()
    finders = []
    if "geo:" in lower:
        finders.append(_GEO_URI)
    if "+" in text:
        finders.append(_PLUS_CODE)
    if "///" in text or "w3w" in lower or "what3words" in lower:
        finders.append(_W3W)
    for rx in finders:
        for match in rx.finditer(text):
            code = match.group()
            if rx is _PLUS_CODE and not (any(c.isdigit() for c in code) and any(c.isalpha() for c in code)):
                continue
            yield Hit(match.start(), match.end(), HitKind.GEO_LINK, link)


# --------------------------------------------------------------------------
# ZIP codes next to place words, e-mail
# --------------------------------------------------------------------------

_STATE_ABBR = (
    r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|"
    r"NM|NY|NC|ND|OH|OK|OR|PA|PR|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|Minn|Wis|Mich|Iowa|Ill)\.?"
)
_STATE_NAME = (
    r"(?:Minnesota|Wisconsin|Michigan|Iowa|Illinois|North\s+Dakota|South\s+Dakota|Texas|California|Arizona|"
    r"Florida|New\s+York|Ohio|Indiana|Montana|Colorado|Washington|Oregon|Nebraska|Kansas|Missouri|"
    r"Jalisco|Michoac[aá]n|Oaxaca|Puebla|Guerrero|Chiapas|Veracruz|Sonora|Chihuahua|Zacatecas|"
    r"Guanajuato|Nuevo\s+Le[oó]n|CDMX|Ciudad\s+de\s+M[eé]xico|Estado\s+de\s+M[eé]xico|Edomex)"
)
_ZIP = r"\d{5}(?:[-\s]\d{4})?"
# Two-letter states that are also common words or abbreviations ("ID 55123",
# "IN 2026") count only after "City,"; those of the agency's region need no comma.
_REGION_ABBR = r"(?:MN|WI|ND|SD|IA|MI|Minn|Wis|Mich)\.?"
_CITY = r"(?:[A-Z][\w'’\-]+\s+){0,2}[A-Z][\w'’\-]+"
_NOT_AFTER_ZIP = r"(?![\w\-/%]|\.\d|,\d)"
# "the 55806 area", "55808 zip code"
_ZIP_BEFORE_WORD = re.compile(
    rf"(?<![\w$#/.\-]){_ZIP}(?=\s+(?i:area|zip|zone|zona|neighbou?rhood|barrio|postal|code|c[oó]digo)\b)"
)
# "Duluth MN 55802", "Superior, WI 54880-1234", "Morelia, Michoacán 58000"
_ZIP_AFTER_STATE = re.compile(
    rf"(?<!\w)(?:{_CITY},\s+{_STATE_ABBR}|(?:{_CITY}\s+)?{_REGION_ABBR}|(?:{_CITY},?\s+)?{_STATE_NAME}),?\s+{_ZIP}{_NOT_AFTER_ZIP}"
)
# "zip 55811", "código postal 55802": words that say postal code.
_ZIP_AFTER_POSTAL_WORD = re.compile(
    r"(?i:(?:\b(?:zip(?:\s*code)?|zipcode|zip\s*\+\s*4|postal(?:\s+code)?|post\s*code|c[oó]digo\s+postal|cp)\b"
    r"|\bc\.\s?p\.)(?:\s+(?:is|was|es|era|waa))?\s*[:#]?\s*)"
    rf"(?<![\w$#/.\-]){_ZIP}{_NOT_AFTER_ZIP}"
)
# "in 55802", "cerca de 55802": prepositions, which also come before money and counts.
_ZIP_AFTER_PREPOSITION = re.compile(
    r"(?i:\b(?:in|near|around|outside|inside|within|en\s+el|en|cerca\s+de|alrededor\s+de|zona|area|área|"
    r"ku\s+nool|magaalada)\s+)"
    rf"(?<![\w$#/.\-]){_ZIP}{_NOT_AFTER_ZIP}"
    r"(?!\s+(?i:dollars|d[oó]lares|pesos|usd|people|personas|hours|horas|days|d[ií]as|miles|millas|km)\b)"
)
# Money said around "in"/"en" ("la fianza quedó en 25000"): not a ZIP.
_MONEY_BEFORE = re.compile(
    r"(?i)\b(?:bail|bond|fine|fines|restitution|rent|paid|pays|owes|owed|support|damages|fianza|multa|"
    r"restituci[oó]n|renta|pag[oó]|paga|debe|dinero|money|cash|efectivo)\b|\$"
)
_EMAIL = re.compile(
    r"(?i)[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+"
    r"|[\w.%+\-]+\s*[\[({<]\s*(?:at|arroba)\s*[\])}>]\s*[\w\-]+(?:\s*(?:[\[({<]\s*(?:dot|punto)\s*[\])}>]|\.)\s*[\w\-]+)+"
    r"|\b[\w.%+\-]+\s+(?:at|arroba)\s+[\w\-]+\s+(?:dot|punto)\s+(?:com|net|org|edu|gov|us|mx|so|info|me)\b"
)


_FIVE_DIGITS = re.compile(r"(?<!\d)\d{5}(?!\d)")
_BRACKETED_AT = re.compile(r"(?i)[\[({<]\s*at\s*[\])}>]")


_SENTENCE_END = re.compile(r"[.!?;]\s|\n")


def _sentence_start(text: str, position: int, reach: int) -> int:
    """Where the sentence holding ``position`` starts, looking back at most ``reach`` characters."""
    start = max(0, position - reach)
    ends = list(_SENTENCE_END.finditer(text, start, position))
    return ends[-1].end() if ends else start


def _zips_and_emails(scan: _Text) -> Iterator[Hit]:
    text, words = scan.text, scan.words
    mail = HitKind.EMAIL.lazy_label
    ats = [(i, i + 1) for i, c in enumerate(text) if c == "@"] if "@" in text else []
    windows = scan.windows(ats, 80, 80)
    if not words.isdisjoint(("dot", "punto", "arroba")) or ("at" in words and _BRACKETED_AT.search(text)):
        windows = [(0, len(text))]
    for match in scan.finditer(_EMAIL, windows):
        yield Hit(match.start(), match.end(), HitKind.EMAIL, mail)
    label = HitKind.ZIP_NEAR_PLACE.lazy_label
    # Only the neighbourhood of each five-digit number can hold a ZIP next to place words.
    for five in _FIVE_DIGITS.finditer(text):
        lo, hi = max(0, five.start() - 64), min(len(text), five.end() + 24)
        for rx in (_ZIP_BEFORE_WORD, _ZIP_AFTER_STATE, _ZIP_AFTER_POSTAL_WORD, _ZIP_AFTER_PREPOSITION):
            for match in rx.finditer(text, lo, hi):
                if not match.start() <= five.start() < match.end():
                    continue
                if rx is _ZIP_AFTER_PREPOSITION and (
                    # A round number ("in 25000") or one near money words is an amount.
                    five.group().endswith("000")
                    or _MONEY_BEFORE.search(text, _sentence_start(text, match.start(), 40), match.start())
                ):
                    continue
                yield Hit(match.start(), match.end(), HitKind.ZIP_NEAR_PLACE, label)


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
