"""Phone numbers an advocate types, made safe to text and to look up.

A number is only ever stored and sent in E.164 form (``+16125550100``),
normalized here with ``phonenumbers`` from what the advocate typed and the
agency's default region.  Anything the library does not accept as a valid
number is refused with a message the advocate can act on, naming the
``phone`` field.

Whether a number can receive texts is decided as far as the library knows,
and no further:

* ``mobile``: the library knows it is a mobile number;
* ``voip``: an internet number (Google Voice, TextNow...).  Accepted: many
  victims are advised to use exactly such a second number because the
  abuser does not know it, and these services receive SMS;
* ``cant_tell``: the numbering plan does not say.  Every NANP number
  (US, Canada, the Caribbean) is like this (``FIXED_LINE_OR_MOBILE``), as
  are personal, "universal access" and unknown-type numbers.  Accepted:
  refusing them would refuse every US number; the enrolment code texted to
  the number is what proves it can receive texts;
* ``fixed_line``: the library knows it is a landline.  Refused;
* ``not_textable``: toll-free, premium-rate, shared-cost, pager and
  voicemail-only numbers.  Refused: none of them is a victim's own phone.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from flask_babel import lazy_gettext as _l
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from advocacy.errors import Refused

#: The purpose prefix of the keyed hash: a phone hash never equals the hash
#: of the same characters kept for another purpose.
LOOKUP_PURPOSE = "sms.phone"
FIELD = "phone"
#: Longer input is not a phone number; it is refused before parsing.
MAX_INPUT_LENGTH = 40


class LineKind(StrEnum):
    MOBILE = "mobile"
    VOIP = "voip"
    CANT_TELL = "cant_tell"
    FIXED_LINE = "fixed_line"
    NOT_TEXTABLE = "not_textable"

    @property
    def textable(self) -> bool:
        """Whether a number of this kind may be enrolled for reminders."""
        return self in (LineKind.MOBILE, LineKind.VOIP, LineKind.CANT_TELL)


_KINDS = {
    PhoneNumberType.MOBILE: LineKind.MOBILE,
    PhoneNumberType.VOIP: LineKind.VOIP,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: LineKind.CANT_TELL,
    PhoneNumberType.PERSONAL_NUMBER: LineKind.CANT_TELL,
    PhoneNumberType.UAN: LineKind.CANT_TELL,
    PhoneNumberType.UNKNOWN: LineKind.CANT_TELL,
    PhoneNumberType.FIXED_LINE: LineKind.FIXED_LINE,
    PhoneNumberType.TOLL_FREE: LineKind.NOT_TEXTABLE,
    PhoneNumberType.PREMIUM_RATE: LineKind.NOT_TEXTABLE,
    PhoneNumberType.SHARED_COST: LineKind.NOT_TEXTABLE,
    PhoneNumberType.PAGER: LineKind.NOT_TEXTABLE,
    PhoneNumberType.VOICEMAIL: LineKind.NOT_TEXTABLE,
}


@dataclass(frozen=True)
class Phone:
    """A valid number: its E.164 form, its region (``"US"``) and its kind."""

    e164: str
    region: str | None
    kind: LineKind

    def __repr__(self) -> str:
        # A phone number is personal data: never in a traceback or a log.
        return f"Phone(region={self.region!r}, kind={self.kind.value!r})"


def _refused(message: object) -> Refused:
    """A :class:`Refused` for the phone field; the message stays lazy, so it is
    translated where it is shown, in the reader's language."""
    return Refused(message, field=FIELD)  # type: ignore[arg-type]


def _parse(raw: str, default_region: str) -> phonenumbers.PhoneNumber:
    text = (raw or "").strip()
    if not text:
        raise _refused(_l("Enter a phone number."))
    if len(text) > MAX_INPUT_LENGTH:
        raise _refused(_l("This is too long to be a phone number."))
    try:
        number = phonenumbers.parse(text, default_region.upper())
    except NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise _refused(
            _l(
                "This is not a valid phone number. Check the digits; for a number from another "
                "country, start with + and the country code."
            )
        )
    return number


def line_kind(number: phonenumbers.PhoneNumber) -> LineKind:
    """What the library knows about the line: see the module docstring."""
    return _KINDS.get(phonenumbers.number_type(number), LineKind.CANT_TELL)


def parse_phone(raw: str, default_region: str = "US") -> Phone:
    """Normalize any valid number, textable or not (for a safe contact that
    is only ever called, say).  Refuses what is not a valid number."""
    number = _parse(raw, default_region)
    return Phone(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        region=phonenumbers.region_code_for_number(number),
        kind=line_kind(number),
    )


def normalize_phone(raw: str, default_region: str = "US") -> Phone:
    """The number to enrol for text reminders, or :class:`Refused`.

    ``default_region`` is the agency's (ISO 3166 code): it is how "612 555
    0100" becomes ``+16125550100``.  A number written with ``+`` and a
    country code ignores it.
    """
    phone = parse_phone(raw, default_region)
    if phone.kind is LineKind.FIXED_LINE:
        raise _refused(
            _l("This is a landline number: it cannot receive text messages. Ask for a mobile number.")
        )
    if phone.kind is LineKind.NOT_TEXTABLE:
        raise _refused(
            _l(
                "This number cannot receive text messages (it is a toll-free, premium-rate, "
                "pager or voicemail number). Ask for a mobile number."
            )
        )
    return phone


def phone_lookup_hash(e164: str, key: bytes, *, default_region: str = "US") -> str:
    """Keyed hash (HMAC-SHA256, hex) of a number's E.164 form.

    The value is normalized first, so "+1 (612) 555-0100" and "6125550100"
    (with the agency's region) give the same hash, and a lookup by the
    number an inbound message comes from (always E.164) finds the row.  The
    message is ``"sms.phone\\x00" + e164``: the layout of
    :func:`advocacy.types.lookup_hash`, so with the same key both agree.
    Raises ``ValueError`` for a value that is not a valid number: a hash of
    garbage would silently match nothing.
    """
    if len(key) < 16:
        raise ValueError("the lookup key must be at least 16 bytes")
    try:
        number = _parse(e164, default_region)
    except Refused as exc:
        raise ValueError("not a valid phone number") from exc
    normalized = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    message = f"{LOOKUP_PURPOSE}\x00{normalized}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
