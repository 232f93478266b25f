"""How many SMS segments a text costs, and in which encoding it travels.

A message is sent as GSM-7 when every character is in the GSM 03.38 basic
set or its extension table, and as UCS-2 otherwise.  One character outside
GSM-7 (an "á", an emoji, a narrow no-break space from a date formatter)
turns the whole message into UCS-2 and cuts a segment from 160 characters
to 70, so previews and budget tests must count exactly what the carrier
will count.

Counting rules, as carriers and Twilio apply them:

* GSM-7: a basic character costs one septet, an extension character
  (``{ } [ ] ~ \\ | ^ € \\f``) two (an escape and the character).  160
  septets fit one segment; a longer text is split into parts of 153 (the
  user-data header takes the rest), and an escape pair is never split
  across two parts.
* UCS-2: a text is counted in UTF-16 code units, so a character outside
  the Basic Multilingual Plane (most emoji) costs two.  70 units fit one
  segment; longer texts are split into parts of 67, and a surrogate pair is
  never split across two parts.

National language shift tables (Turkish, Spanish, Portuguese...) are not
used: US carriers do not support them, and neither does Twilio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

#: GSM 03.38 basic character set (ESC, 0x1B, is left out: it only introduces
#: an extension character and is not a character a text can carry).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table: each costs an escape septet plus itself.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67


@dataclass(frozen=True)
class SegmentInfo:
    """What a text costs: its encoding, its length in that encoding's units
    (septets for GSM-7, UTF-16 code units for UCS-2) and its segment count."""

    encoding: Encoding
    units: int
    segments: int


def encoding(text: str) -> Encoding:
    """``"GSM-7"`` when every character is in the basic set or the extension
    table, ``"UCS-2"`` otherwise."""
    for char in text:
        if char not in GSM7_BASIC and char not in GSM7_EXTENSION:
            return "UCS-2"
    return "GSM-7"


def _costs(text: str, enc: Encoding) -> list[int]:
    """The cost of each character in units of ``enc``; an escape pair or a
    surrogate pair is one indivisible item, so parts never split it."""
    if enc == "GSM-7":
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    # A Python str holds code points: one above U+FFFF is a surrogate pair.
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _parts(costs: list[int], size: int) -> int:
    parts, used = 1, 0
    for cost in costs:
        if used + cost > size:
            parts += 1
            used = 0
        used += cost
    return parts


def measure(text: str) -> SegmentInfo:
    """Encoding, units and segments of ``text``.

    An empty text still counts as one segment: nothing smaller can be sent
    (and Twilio refuses an empty body, so a caller never sends one).
    """
    enc = encoding(text)
    costs = _costs(text, enc)
    units = sum(costs)
    single, part = (GSM7_SINGLE, GSM7_PART) if enc == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    count = 1 if units <= single else _parts(costs, part)
    return SegmentInfo(encoding=enc, units=units, segments=count)


def segments(text: str) -> int:
    """How many segments ``text`` is billed and delivered as."""
    return measure(text).segments
