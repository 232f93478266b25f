"""Coordinates, map and geo links, plus codes, what3words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

from advocacy.handoff.guard.hits import Hit, HitKind
from advocacy.handoff.guard.places import _wordset
from advocacy.handoff.guard.streets import _Text

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
