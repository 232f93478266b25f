"""The texts a victim receives: every language, every template, within budget."""

from __future__ import annotations

import json
import shutil
from datetime import date, time, timedelta
from functools import cache

import pytest
from babel.dates import format_date, format_time

from advocacy.i18n import registry
from advocacy.notify import texts
from advocacy.notify.segments import measure
from advocacy.notify.texts import (
    FIELD_LIMITS,
    TEMPLATES,
    TextsError,
    catalog,
    classify_reply,
    clean_value,
    confirm_words,
    load_catalog,
    render,
    resolve_locale,
)

LOCALES = list(registry())

# Worst cases: the longest values the limits allow, in realistic shapes.
PROGRAM = "Northland Appointment Reminder"  # 30 characters
COURT = "Hennepin County Family Justice Center 17"  # 40 characters
ROOM = "Room 1704B"  # 10 characters
CONTACT = "+1 (612) 555-0100 ext 123"  # 25 characters
CODE = "987654"


def test_the_worst_case_values_are_at_the_limits():
    assert len(PROGRAM) == FIELD_LIMITS["program"]
    assert len(COURT) == FIELD_LIMITS["court"]
    assert len(ROOM) == FIELD_LIMITS["room"]
    assert len(CONTACT) == FIELD_LIMITS["contact"]
    assert len(CODE) == FIELD_LIMITS["code"]


@cache
def longest_when(tag: str) -> str:
    """The costliest full date and short time of a year in the language's
    formatting locale (the caller formats ``{when}`` this way or shorter)."""
    language = registry()[tag]
    rtl = language.dir == "rtl"
    best = ""
    for offset in range(366):
        day = date(2028, 1, 1) + timedelta(days=offset)
        for at in (time(9, 0), time(11, 30), time(12, 45)):
            value = clean_value(
                f"{format_date(day, 'full', locale=language.babel)} {format_time(at, 'short', locale=language.babel)}",
                rtl=rtl,
            )
            if measure(value).units > measure(best).units:
                best = value
    return best


def worst_case(tag: str) -> dict[str, str]:
    return {
        "program": PROGRAM,
        "code": CODE,
        "when": longest_when(tag),
        "court": COURT,
        "room": ROOM,
        "contact": CONTACT,
    }


@pytest.mark.parametrize("template", list(TEMPLATES))
@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_in_every_locale_fits_its_budget(locale, template):
    rendered = render(template, locale, **worst_case(locale))
    assert rendered is not None
    assert rendered.locale_used == locale
    budget = TEMPLATES[template].budget
    assert rendered.info.segments <= budget, (
        f"{locale}/{template}: {rendered.info.segments} segments ({rendered.info.encoding}, "
        f"{rendered.info.units} units) over a budget of {budget}: {rendered.text}"
    )


def test_the_code_message_is_one_segment_in_every_locale():
    for locale in LOCALES:
        assert render("code", locale, program=PROGRAM, code=CODE).info.segments == 1, locale


def test_every_registered_language_has_texts_and_no_other():
    assert set(catalog()) == set(LOCALES)
    on_disk = {p.stem for p in texts.DIRECTORY.glob("*.json")}
    assert on_disk == set(LOCALES)


def test_english_is_the_source_and_every_translation_is_an_honest_draft():
    assert catalog()["en"].review.status == "source"
    for locale in LOCALES:
        if locale != "en":
            review = catalog()[locale].review
            # Nobody has reviewed these yet: none may claim otherwise.
            assert review.status == "draft", locale
            assert review.reviewer is None
            assert review.notes


def test_a_draft_rendering_says_so():
    assert render("reminder_discreet", "so", when="Talaado 3 Dec 9:00").draft is True
    assert render("reminder_discreet", "en", when="Tue 3 Dec 9:00 AM").draft is False


def test_the_discreet_reminder_reads_as_the_brief_says():
    rendered = render("reminder_discreet", "en", when="Tue 3 Dec at 9:00 AM")
    assert rendered.text == "Reminder: your appointment is Tue 3 Dec at 9:00 AM. Reply C to confirm."
    assert rendered.info.encoding == "GSM-7"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", [t for t, spec in TEMPLATES.items() if spec.discreet])
def test_a_discreet_text_never_carries_the_court_or_room_even_if_given(locale, template):
    values = worst_case(locale)
    rendered = render(template, locale, **values)
    assert COURT not in rendered.text
    assert ROOM not in rendered.text


def test_discreet_english_names_no_court_abuse_case_or_place():
    forbidden = (
        "court",
        "hearing",
        "abuse",
        "violence",
        "case",
        "judge",
        "protection",
        "advocate",
        "shelter",
    )
    for name, spec in TEMPLATES.items():
        if spec.discreet:
            text = catalog()["en"].templates[name].lower()
            assert not [w for w in forbidden if w in text], name


def test_the_code_message_carries_the_carriers_consent_notice():
    text = render("code", "en", program=PROGRAM, code=CODE).text
    assert PROGRAM in text
    assert CODE in text
    assert "Msg & data rates may apply" in text
    assert "HELP" in text
    assert "STOP" in text


@pytest.mark.parametrize("locale", LOCALES)
def test_every_locale_says_the_carrier_keywords_in_latin_letters(locale):
    templates = catalog()[locale].templates
    for keyword in ("HELP", "STOP"):
        assert keyword in templates["code"]
        assert keyword in templates["opt_in"]
    assert "START" in templates["opt_out"]


def test_english_texts_are_all_gsm7():
    for name in TEMPLATES:
        rendered = render(name, "en", **worst_case("en"))
        assert rendered.info.encoding == "GSM-7", name


def test_a_babel_time_keeps_the_message_in_gsm7():
    # Babel writes "9:00\u202fAM": left alone, the narrow space would make
    # the whole reminder UCS-2 and cut a segment to 70 characters.
    when = f"Tue 3 Dec {format_time(time(9, 0), 'short', locale='en')}"
    assert measure(when).encoding == "UCS-2"
    rendered = render("reminder_discreet", "en", when=when)
    assert rendered.info.encoding == "GSM-7"
    assert "9:00 AM" in rendered.text


def test_values_become_one_plain_line():
    assert clean_value("Room\n12\t B") == "Room 12 B"
    assert clean_value("O\u2019Brien \u2013 West") == "O'Brien - West"
    assert clean_value("\u200fCourt") == "Court"
    assert clean_value("\u200fCourt", rtl=True) == "\u200fCourt"


def test_arabic_messages_open_with_an_arabic_word_so_phones_lay_them_out_right_to_left():
    for name in TEMPLATES:
        text = catalog()["ar"].templates[name]
        assert "\u0600" <= text[0] <= "\u06ff", name


def test_values_cannot_inject_placeholders():
    rendered = render("reminder_discreet", "en", when="{court}")
    assert rendered.text == "Reminder: your appointment is {court}. Reply C to confirm."


def test_every_placeholder_must_be_given():
    with pytest.raises(ValueError, match="when"):
        render("reminder_discreet", "en")
    with pytest.raises(KeyError):
        render("no_such_template", "en")


# --- Which locale serves a victim --------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "used"),
    [
        ("es", "es"),
        ("es-MX", "es"),
        ("es_419", "es"),
        ("ES-us", "es"),
        ("ar-EG", "ar"),
        ("hmn-Latn-US", "hmn"),
        ("so-SO", "so"),
        ("ksw-Mymr", "ksw"),
        ("hmn-Hmng", None),  # Pahawh Hmong: a script we have no texts in
        ("ar-Latn", None),
        ("fr", None),
        ("kar", None),  # "Karen" without saying which: the advocate decides
        ("", None),
        (None, None),
    ],
)
def test_a_bcp47_tag_uses_its_language_or_asks_for_a_fallback(tag, used):
    assert resolve_locale(tag) == used


def test_a_language_without_templates_renders_nothing():
    # The caller asks the advocate to confirm a fallback instead.
    assert render("reminder_discreet", "fr", when="mardi 3 déc.") is None
    assert render("reminder_discreet", "es-MX", when="martes 3 dic").locale_used == "es"


# --- Replies --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("STOP", "opt_out"),
        ("stop", "opt_out"),
        (" Stop. ", "opt_out"),
        ("STOPALL", "opt_out"),
        ("unsubscribe", "opt_out"),
        ("Cancel", "opt_out"),
        ("END", "opt_out"),
        ("quit!", "opt_out"),
        ("ＳＴＯＰ", "opt_out"),  # full-width letters from an East Asian keyboard
        ("START", "opt_in"),
        ("unstop", "opt_in"),
        ("Yes", "opt_in"),
        ("HELP", "help"),
        ("info?", "help"),
        ("C", "confirm"),
        ("c", "confirm"),
        ("C.", "confirm"),
        ("confirm", "confirm"),
        ("C u there", None),
        ("please stop texting me", None),
        ("Can I bring my kids?", None),
        ("", None),
    ],
)
def test_victim_replies_in_english(body, kind):
    assert classify_reply(body, "en") == kind


def test_victim_confirms_in_her_language():
    assert classify_reply("Confirmo", "es") == "confirm"
    assert classify_reply("xaqiiji", "so") == "confirm"
    assert classify_reply("Lees paub", "hmn") == "confirm"
    assert classify_reply("mirkaneessi", "om") == "confirm"
    assert classify_reply("Ahaaw", "oj") == "confirm"
    assert classify_reply("تم", "ar") == "confirm"
    assert classify_reply("تــم", "ar") == "confirm"  # with tatweel
    assert classify_reply("اؤكد", "ar") == "confirm"  # alef without hamza
    # C and English words work in every language: every reminder says "C".
    assert classify_reply("C", "ksw") == "confirm"
    assert classify_reply("confirm", "so") == "confirm"


def test_yes_in_any_language_never_confirms_attendance():
    # "Yes" is an opt-in keyword; the local words for yes are not confirmations.
    assert classify_reply("YES", "es") == "opt_in"
    for body, locale in [
        ("si", "es"),
        ("sí", "es"),
        ("haa", "so"),
        ("yog", "hmn"),
        ("eeyyee", "om"),
        ("نعم", "ar"),
    ]:
        assert classify_reply(body, locale) is None, body


def test_stop_wins_over_everything_in_every_language():
    for locale in LOCALES:
        assert classify_reply("STOP", locale) == "opt_out"
        assert classify_reply("HELP", locale) == "help"


def test_no_confirm_word_is_a_carrier_keyword():
    reserved = {k.casefold() for k in texts.RESERVED_KEYWORDS}
    for locale in LOCALES:
        assert "c" in confirm_words(locale)
        assert not confirm_words(locale) & reserved, locale


# --- A file with a mistake is refused, and the error says where -----------------------


@pytest.fixture
def texts_dir(tmp_path):
    for path in texts.DIRECTORY.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit(directory, locale, change):
    path = directory / f"{locale}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_the_shipped_files_load(texts_dir):
    assert set(load_catalog(texts_dir)) == set(LOCALES)


@pytest.mark.parametrize(
    ("locale", "change", "message"),
    [
        ("es", lambda d: d["templates"].pop("help"), r"es\.json\.templates\.help: missing"),
        ("so", lambda d: d["templates"].update(extra="x"), r"so\.json\.templates\.extra: unknown template"),
        (
            "es",
            lambda d: d["templates"].update(code="{program}: {cod}. HELP STOP"),
            r"es\.json\.templates\.code: placeholders must be exactly \{code\}, \{program\}",
        ),
        (
            "om",
            lambda d: d["templates"].update(reminder_discreet="{when} {court}. C"),
            r"om\.json\.templates\.reminder_discreet: placeholders",
        ),
        (
            "ar",
            lambda d: d["templates"].update(reminder_discreet="{when!r} C"),
            r"ar\.json\.templates\.reminder_discreet: placeholder \{when\} may not carry",
        ),
        (
            "hmn",
            lambda d: d["templates"].update(reminder_discreet="{when.year} C"),
            r"hmn\.json\.templates\.reminder_discreet: placeholder \{when\.year\} must be a plain name",
        ),
        (
            "es",
            lambda d: d["templates"].update(code="{program}: {code}. HELP para ayuda."),
            r"es\.json\.templates\.code: must say STOP",
        ),
        (
            "so",
            lambda d: d["templates"].update(reminder_discreet="Xasuusin: {when}."),
            r"so\.json\.templates\.reminder_discreet: must say C",
        ),
        ("es", lambda d: d["templates"].update(help="{program"), r"es\.json\.templates\.help: "),
        (
            "es",
            lambda d: d.update(confirm_words=["C", "YES"]),
            r"es\.json\.confirm_words: yes is a carrier keyword",
        ),
        ("es", lambda d: d.update(confirm_words=["SI"]), r"es\.json\.confirm_words: must include 'C'"),
        (
            "so",
            lambda d: d["review"].update(status="reviewed"),
            r"so\.json\.review\.reviewer: a reviewed translation names its reviewer",
        ),
        (
            "so",
            lambda d: d["review"].update(status="reviewed", reviewer="A. Reader", date="soon"),
            r"so\.json\.review\.date",
        ),
        (
            "so",
            lambda d: d["review"].update(status="source"),
            r"so\.json\.review\.status: only en is the source",
        ),
        (
            "en",
            lambda d: d["review"].update(status="draft"),
            r"en\.json\.review\.status: only en is the source",
        ),
        ("so", lambda d: d["review"].update(status="final"), r"so\.json\.review\.status: must be"),
        ("oj", lambda d: d.update(locale="en"), r"oj\.json\.locale: must be 'oj'"),
        ("oj", lambda d: d.update(format=2), r"oj\.json\.format: must be 1"),
        (
            "es",
            lambda d: d["templates"].update(attendance_confirmed=" Gracias "),
            r"es\.json\.templates\.attendance_confirmed: one line",
        ),
    ],
)
def test_a_mistake_in_a_file_names_the_file_and_the_key(texts_dir, locale, change, message):
    edit(texts_dir, locale, change)
    with pytest.raises(TextsError, match=message):
        load_catalog(texts_dir)


def test_a_reviewed_translation_loads_with_its_reviewer(texts_dir):
    edit(
        texts_dir,
        "so",
        lambda d: d["review"].update(status="reviewed", reviewer="A. Reader", date="2026-03-02"),
    )
    review = load_catalog(texts_dir)["so"].review
    assert review.status == "reviewed"
    assert review.date == date(2026, 3, 2)
    assert not review.draft


def test_a_missing_or_broken_file_is_named(texts_dir):
    (texts_dir / "ksw.json").unlink()
    with pytest.raises(TextsError, match=r"ksw\.json: missing"):
        load_catalog(texts_dir)
    (texts_dir / "ksw.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(TextsError, match=r"ksw\.json: not valid JSON"):
        load_catalog(texts_dir)


def test_a_file_for_an_unregistered_language_is_refused(texts_dir):
    shutil.copy(texts_dir / "es.json", texts_dir / "fr.json")
    with pytest.raises(TextsError, match=r"fr\.json: not a registered language"):
        load_catalog(texts_dir)
