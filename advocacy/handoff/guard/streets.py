"""Street addresses (English and Spanish forms), PO boxes and rural routes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from advocacy.handoff.guard.hits import Hit, HitKind
from advocacy.handoff.guard.places import _wordset

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
