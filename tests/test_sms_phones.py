"""Numbers an advocate types for text reminders.

Every number here is fictional: US and Canadian numbers are in the 555-0100
to 555-0199 range reserved for fiction, the British landline is in Ofcom's
drama range, the others are made-up digits the library accepts as valid.
"""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers
import pytest

from advocacy.errors import Refused
from advocacy.notify.phones import (
    LineKind,
    Phone,
    line_kind,
    normalize_phone,
    parse_phone,
    phone_lookup_hash,
)

KEY = b"k" * 32


@pytest.mark.parametrize(
    "typed",
    ["+1 (612) 555-0100", "6125550100", "612-555-0100", "(612) 555 0100", "1 612 555 0100", " 612.555.0100 "],
)
def test_advocate_types_a_us_number_any_way_and_gets_e164(typed):
    assert normalize_phone(typed).e164 == "+16125550100"


def test_the_agency_region_decides_what_a_national_number_means():
    assert normalize_phone("613 555 0100", "CA").e164 == "+16135550100"
    assert normalize_phone("06 12 34 56 78", "FR").e164 == "+33612345678"
    # A number with + and a country code ignores the agency's region.
    assert normalize_phone("+252 61 1234567", "US").e164 == "+252611234567"


def test_us_numbers_are_cant_tell_and_accepted():
    phone = normalize_phone("612-555-0199")
    assert phone.kind is LineKind.CANT_TELL
    assert phone.region == "US"


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("+252 61 1234567", LineKind.MOBILE),  # Somalia, mobile range
        ("+251 91 123 4567", LineKind.MOBILE),  # Ethiopia, mobile range
        ("+33 6 12 34 56 78", LineKind.MOBILE),  # France, mobile range
        ("+44 56 1234 5678", LineKind.VOIP),  # UK 056: internet telephony
        ("+52 55 1234 5678", LineKind.CANT_TELL),  # Mexico City: fixed line or mobile
        ("+1 500 555 0100", LineKind.CANT_TELL),  # NANP 500: personal number
    ],
)
def test_numbers_that_may_receive_texts_are_accepted_with_their_kind(typed, kind):
    assert normalize_phone(typed).kind is kind


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("+44 20 7946 0958", "landline"),  # London, drama range
        ("+33 1 23 45 67 89", "landline"),  # Paris
        ("+61 2 9876 5432", "landline"),  # Sydney
    ],
)
def test_a_number_the_library_knows_is_a_landline_is_refused(typed, words):
    with pytest.raises(Refused) as caught:
        normalize_phone(typed)
    assert caught.value.field == "phone"
    assert words in str(caught.value.message)


@pytest.mark.parametrize("typed", ["1-800-555-0100", "+1 900 555 0100", "+1 888 555 0100"])
def test_toll_free_and_premium_numbers_are_refused(typed):
    with pytest.raises(Refused) as caught:
        normalize_phone(typed)
    assert caught.value.field == "phone"
    assert "toll-free" in str(caught.value.message)


def test_a_landline_can_still_be_parsed_as_a_contact_to_call():
    phone = parse_phone("+44 20 7946 0958")
    assert phone == Phone(e164="+442079460958", region="GB", kind=LineKind.FIXED_LINE)
    assert not phone.kind.textable


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "555-0100",  # no area code
        "123",
        "612 555 01000 7",  # too many digits
        "+1 012 555 0100",  # no NANP area code starts with 0
        "+999 1234 5678",  # no such country code
        "call me",
        "+44 7700 900123",  # Ofcom's drama mobile range is not a valid number
        "6" * 41,
    ],
)
def test_invalid_numbers_are_refused_on_the_phone_field(typed):
    with pytest.raises(Refused) as caught:
        normalize_phone(typed)
    assert caught.value.field == "phone"
    assert str(caught.value.message)  # a sentence, not an empty error


def test_refusal_messages_stay_lazy_until_shown():
    # Translated when the view renders it, in the advocate's language, not
    # when the service raised it (perhaps in a worker with no request).
    from flask_babel.speaklater import LazyString

    with pytest.raises(Refused) as caught:
        normalize_phone("call me")
    assert isinstance(caught.value.message, LazyString)


def test_an_invalid_region_refuses_national_numbers():
    with pytest.raises(Refused):
        normalize_phone("612 555 0100", "XX")


def test_repr_never_shows_the_number():
    phone = normalize_phone("6125550100")
    assert "555" not in repr(phone)
    assert "0100" not in repr(phone)


def test_line_kind_reads_the_library_type():
    number = phonenumbers.parse("+33612345678")
    assert line_kind(number) is LineKind.MOBILE


def test_lookup_hash_is_the_same_however_the_number_was_typed():
    typed = ["+1 (612) 555-0100", "6125550100", "+16125550100", "1-612-555-0100"]
    hashes = {phone_lookup_hash(t, KEY) for t in typed}
    assert len(hashes) == 1


def test_lookup_hash_is_hmac_sha256_of_the_purpose_and_e164():
    expected = hmac.new(KEY, b"sms.phone\x00+16125550100", hashlib.sha256).hexdigest()
    assert phone_lookup_hash("+16125550100", KEY) == expected


def test_lookup_hash_depends_on_the_key_and_the_number():
    assert phone_lookup_hash("+16125550100", KEY) != phone_lookup_hash("+16125550100", b"x" * 32)
    assert phone_lookup_hash("+16125550100", KEY) != phone_lookup_hash("+16125550101", KEY)


def test_lookup_hash_refuses_a_short_key_and_garbage():
    with pytest.raises(ValueError):
        phone_lookup_hash("+16125550100", b"short")
    with pytest.raises(ValueError):
        phone_lookup_hash("not a number", KEY)


def test_lookup_hash_agrees_with_the_app_lookup_hash(app):
    from advocacy.types import lookup_hash

    with app.app_context():
        key = app.config["SETTINGS"].hash_key.encode("utf-8")
        assert phone_lookup_hash("612-555-0100", key) == lookup_hash("+16125550100", "sms.phone")
