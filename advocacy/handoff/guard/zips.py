"""ZIP codes next to place words, and e-mail addresses."""

from __future__ import annotations

import re
from collections.abc import Iterator

from advocacy.handoff.guard.hits import Hit, HitKind
from advocacy.handoff.guard.streets import _Text

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
