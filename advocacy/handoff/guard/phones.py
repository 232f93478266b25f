"""Phone numbers in any region, without the slow matcher where no run of digits asks for it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import phonenumbers

from advocacy.handoff.guard.hits import Hit, HitKind

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
