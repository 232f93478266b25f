"""Safety-plan content packs: every shipped file loads, a bad file is refused
with its file and line, a missing translation falls back to English visibly,
and no pack carries a number or an address that could put anyone at risk.

The malformed files are written into ``tmp_path`` next to a valid English
pack, so each case changes one thing and is refused for that one thing.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import phonenumbers
import pyphen
import pytest

from advocacy import create_app
from advocacy.content import library as library_module
from advocacy.content import packs as content
from advocacy.content.packs import (
    SHIPPED_DIR,
    SHIPPED_E164,
    SHIPPED_NUMBERS,
    Channel,
    Pack,
    PackError,
    Reason,
    Review,
    load_packs,
    looks_like_address,
    suggest_for_case,
    suggest_packs,
)
from advocacy.content.render import Bullets, Paragraph, blocks_html, checklist_html, inline_html
from advocacy.content.sections import ENTRY_PARTS, SECTION_ENTRIES, EntryKind, Section
from advocacy.demo import SHELTERS
from advocacy.i18n import registry
from advocacy.intake.models import AccessNeed, ReferralSource
from advocacy.shelters.models import CulturalProgram
from tests.conftest import make_settings

LOCALES = tuple(registry())
SHIPPED_FILES = sorted(SHIPPED_DIR.glob("*.md"))


@pytest.fixture(scope="module")
def library() -> content.PackLibrary:
    return load_packs(SHIPPED_DIR)


# --- The shipped packs ----------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_each_shipped_pack_file_loads_in_the_locale_its_name_says(path: Path) -> None:
    parsed = content.parse_pack(path)
    pack, locale, _ = path.name.split(".")
    assert (parsed.pack, parsed.locale) == (pack, locale)
    assert parsed.sections, "a pack adds guidance to at least one section"


def test_the_general_pack_ships_in_all_eight_locales_and_the_others_in_english_and_spanish(
    library: content.PackLibrary,
) -> None:
    assert library.packs() == tuple(Pack)
    assert library.locales(Pack.GENERAL) == LOCALES == ("en", "es", "so", "hmn", "ksw", "om", "oj", "ar")
    for pack in Pack:
        assert {"en", "es"} <= set(library.locales(pack)), pack


#: What the issue asks each adapted pack to speak of, as words its text must hold in English and Spanish.
TOPICS = {
    "native": {
        "en": (
            "protection order from a tribal court",
            "full faith and credit",
            "tribal advocate",
            "StrongHearts",
        ),
        "es": ("tribal", "plena fe y crédito", "StrongHearts"),
    },
    "immigrant": {
        "en": ("interpreter", "U visa", "VAWA", "self-petition", "lawyer", "courthouse"),
        "es": ("intérprete", "visa U", "VAWA", "autopetición", "abogad", "corte"),
    },
    "deaf": {
        "en": ("relay", "interpreter", "text first"),
        "es": ("relevo", "intérprete", "primero por texto"),
    },
    "lgbtq": {
        "en": ("out you", "gender identity", "may not turn you away"),
        "es": ("revelar", "identidad de género", "alojamiento"),
    },
    "elders": {"en": ("caregiver", "money", "medicine"), "es": ("cuida", "dinero", "medicinas")},
    "rural": {"en": ("far", "guns", "alone", "signal"), "es": ("lejos", "armas", "sola", "señal")},
}


@pytest.mark.parametrize("pack", list(TOPICS))
def test_each_adapted_pack_speaks_of_what_its_community_needs(
    library: content.PackLibrary, pack: str
) -> None:
    for locale, words in TOPICS[pack].items():
        file = library.file(pack, locale)
        assert file is not None, (pack, locale)
        text = file.path.read_text(encoding="utf-8").split("\n---\n", 1)[1].casefold()
        missing = [w for w in words if w.casefold() not in text]
        assert not missing, (pack, locale, missing)


#: "Around grade 6" (the issue), with room for the syllable counter's error.
MAX_GRADE = 8.0


def flesch_kincaid_grade(text: str) -> float:
    """The Flesch-Kincaid grade of ``text``: syllables from Pyphen's hyphenation, as textstat counts them."""
    hyphenation = pyphen.Pyphen(lang="en_US")
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if re.search(r"[A-Za-z]", s)]
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*", text)
    syllables = sum(len(hyphenation.positions(word)) + 1 for word in words)
    return 0.39 * len(words) / len(sentences) + 11.8 * syllables / len(words) - 15.59


def test_the_grade_counter_tells_plain_words_from_hard_ones() -> None:
    assert flesch_kincaid_grade("Call us. We can help. You are not alone.") < 3
    hard = (
        "Notwithstanding jurisdictional considerations, interstate enforceability necessitates certification."
    )
    assert flesch_kincaid_grade(hard) > 15


@pytest.mark.parametrize("pack", list(Pack), ids=lambda p: p.value)
def test_each_english_pack_reads_at_about_grade_six(library: content.PackLibrary, pack: Pack) -> None:
    file = library.file(pack, "en")
    assert file is not None
    lines = []
    for line in file.path.read_text(encoding="utf-8").split("\n---\n", 1)[1].splitlines():
        if line.startswith(("## ", "- number:")) or not line.strip():
            continue
        words = re.sub(r"^- (\[ \] [a-z_]+: )?", "", line.strip()).replace("**", "")
        # A bullet or a checklist item is a sentence of its own, with or without its full stop.
        lines.append(words if words[-1] in ".!?" else words + ".")
    grade = flesch_kincaid_grade(" ".join(lines))
    assert grade <= MAX_GRADE, (pack.value, round(grade, 1))


def test_the_general_english_pack_covers_every_section(library: content.PackLibrary) -> None:
    english = library.file(Pack.GENERAL, "en")
    assert english is not None
    assert [s.section for s in english.sections] == list(Section)


def test_english_is_the_projects_source_and_every_translation_is_an_honest_draft(
    library: content.PackLibrary,
) -> None:
    for (_pack, locale), file in library.files.items():
        if locale == "en":
            assert file.review == Review.SOURCE
        else:
            # Nobody has reviewed the project's translations: none may claim it.
            assert file.review == Review.DRAFT, file.path.name
            assert file.reviewer is None and file.reviewed_on is None


def test_coverage_is_complete_for_every_shipped_locale_and_empty_where_none_ships(
    library: content.PackLibrary,
) -> None:
    coverage = library.coverage()
    assert set(coverage) == set(Pack)
    general = coverage[Pack.GENERAL]
    assert list(general) == list(LOCALES)
    for locale in LOCALES:
        row = general[locale]
        assert (row.sections_covered, row.sections_total) == (10, 10), locale
        assert (row.items_covered, row.items_total) == (14, 14), locale
        assert (row.numbers_covered, row.numbers_total) == (4, 4), locale
        assert row.complete and not row.outdated
        assert row.review == (Review.SOURCE if locale == "en" else Review.DRAFT)
    native_somali = coverage[Pack.NATIVE]["so"]
    assert not native_somali.shipped and native_somali.review is None
    assert (native_somali.sections_covered, native_somali.sections_total) == (0, 7)
    assert native_somali.source_version == 1 and native_somali.version is None
    for pack in Pack:
        assert coverage[pack]["es"].complete, pack


#: The national lines exactly as the issue lists them: (who, channel, number, keyword to text).
NATIONAL_LINES = {
    ("National Domestic Violence Hotline", "call", "1-800-799-7233", ""),
    ("National Domestic Violence Hotline", "tty", "1-800-787-3224", ""),
    ("National Domestic Violence Hotline", "text", "88788", "START"),
    ("StrongHearts Native Helpline", "call", "1-844-762-8483", ""),
    ("Minnesota Day One", "call", "1-866-223-1111", ""),
}


def test_the_national_hotlines_are_exactly_the_ones_the_issue_lists(library: content.PackLibrary) -> None:
    """A mistyped digit would send a victim to a stranger: every number is pinned here, with its name."""
    shipped = {
        (who, channel, number, keyword)
        for who, channel, number, keyword in NATIONAL_LINES
        for n in library.numbers([Pack.GENERAL, Pack.NATIVE], "en")
        if (n.channel.value, n.number, n.keyword) == (channel, number, keyword) and who in n.name
    }
    assert shipped == NATIONAL_LINES
    # Nothing else may be shipped but the relay service, in any pack.
    assert {line[1:] for line in NATIONAL_LINES} | {("relay", "711", "")} == SHIPPED_NUMBERS
    # The general pack gives the Hotline's three lines and Day One in every locale; StrongHearts is the native pack's.
    general = {(c, n, k) for _who, c, n, k in NATIONAL_LINES} - {("call", "1-844-762-8483", "")}
    for locale in LOCALES:
        found = {(n.channel.value, n.number, n.keyword) for n in library.numbers([Pack.GENERAL], locale)}
        assert found == general, locale
    for locale in library.locales(Pack.NATIVE):
        (strong,) = library.numbers([Pack.NATIVE], locale)
        assert (strong.number, "StrongHearts" in strong.name) == ("1-844-762-8483", True), locale


def test_the_national_text_line_tells_the_word_to_send_in_every_locale(library: content.PackLibrary) -> None:
    for locale in LOCALES:
        texts = [n for n in library.numbers([Pack.GENERAL], locale) if n.channel == Channel.TEXT]
        assert [(n.number, n.keyword) for n in texts] == [("88788", "START")]
        assert "START" in texts[0].name and texts[0].locale == locale


# --- Nothing that could put anyone at risk ---------------------------------------------


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_no_pack_contains_a_phone_number_but_the_shipped_national_ones(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = {
        phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        for leniency in (phonenumbers.Leniency.VALID, phonenumbers.Leniency.POSSIBLE)
        for match in phonenumbers.PhoneNumberMatcher(text, "US", leniency=leniency)
    }
    assert found <= SHIPPED_E164, found - SHIPPED_E164
    # Short numbers the matcher does not see: only 911, 711 and the text line's code.
    assert set(re.findall(r"(?<![\d-])\d{3,6}(?![\d-])", text)) <= {"911", "711", "88788"}


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_no_pack_contains_a_street_address_or_a_demo_shelter(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not looks_like_address(text)
    for shelter in SHELTERS:
        assert shelter.name.lower() not in text.lower()
        assert shelter.address.split(",")[0].lower() not in text.lower()


def test_the_address_check_recognises_every_demo_shelter_address() -> None:
    for shelter in SHELTERS:
        assert looks_like_address(f"Come to {shelter.address}."), shelter.address
    assert looks_like_address("Write to PO Box 12")
    assert looks_like_address("Duluth, MN 55802")
    assert not looks_like_address("Keep a copy of your order at work.")
    assert not looks_like_address("Call 911 if you are in danger.")


# --- Fallback to English, said out loud --------------------------------------------------


def test_a_pack_missing_in_the_locale_falls_back_to_english_and_says_so(library: content.PackLibrary) -> None:
    blocks = library.guidance(["native", "general"], Section.PROTECTION_ORDER, "so")
    # General first, whatever order the caller gave.
    assert [b.pack for b in blocks] == [Pack.GENERAL, Pack.NATIVE]
    general, native = blocks
    assert (general.locale, general.fallback, general.draft) == ("so", False, True)
    assert (native.locale, native.requested_locale, native.fallback) == ("en", "so", True)
    assert native.review == Review.SOURCE and not native.draft
    assert "full faith and credit" in native.text


def test_arabic_guidance_is_a_right_to_left_draft(library: content.PackLibrary) -> None:
    (block,) = library.guidance(["general"], "children", "ar")
    assert (block.lang, block.dir, block.draft, block.fallback) == ("ar", "rtl", True, False)
    assert "911" in block.text


def test_a_language_no_pack_has_reads_english_and_a_regional_tag_reads_its_language(
    library: content.PackLibrary,
) -> None:
    (vietnamese,) = library.guidance(["general"], "technology", "vi")
    assert (vietnamese.locale, vietnamese.fallback) == ("en", True)
    (mexican,) = library.guidance(["general"], "technology", "es-MX")
    assert mexican.locale == "es" and mexican.draft


def test_a_translation_missing_a_section_item_or_number_falls_back_piece_by_piece(tmp_path: Path) -> None:
    write(tmp_path, "general.en.md", english_body())
    write(
        tmp_path,
        "general.es.md",
        "## during_incident\n\nUsted decide.\n\n## items_to_take\n\n- [ ] keys: Llaves\n",
        locale="es",
        review="draft",
    )
    library = load_packs(tmp_path)
    (incident,) = library.guidance(["general"], "during_incident", "es")
    assert (incident.locale, incident.draft) == ("es", True)
    (children,) = library.guidance(["general"], "children", "es")
    assert (children.locale, children.fallback) == ("en", True)
    items = library.items(["general"], "es")
    assert [(i.key, i.locale, i.fallback) for i in items] == [
        ("id_papers", "en", True),
        ("keys", "es", False),
    ]
    (number,) = library.numbers(["general"], "es")
    assert (number.locale, number.fallback) == ("en", True)
    coverage = library.coverage()[Pack.GENERAL]["es"]
    assert (coverage.sections_covered, coverage.sections_total) == (2, 4)
    assert (coverage.items_covered, coverage.items_total) == (1, 2)
    assert not coverage.complete


def test_an_older_translation_is_given_but_flagged_outdated(tmp_path: Path) -> None:
    write(tmp_path, "general.en.md", english_body(), version="3")
    write(
        tmp_path,
        "general.es.md",
        "## children\n\nHable con ellos.\n",
        locale="es",
        review="draft",
        version="2",
    )
    library = load_packs(tmp_path)
    (block,) = library.guidance(["general"], "children", "es")
    assert (block.locale, block.outdated, block.version) == ("es", True, 2)
    row = library.coverage()[Pack.GENERAL]["es"]
    assert row.outdated and (row.version, row.source_version) == (2, 3)


def test_numbers_from_several_packs_are_listed_once_each_general_first(library: content.PackLibrary) -> None:
    numbers = library.numbers(["deaf", "general", "native"], "en")
    hows = [(n.channel.value, n.number) for n in numbers]
    assert len(hows) == len(set(hows))
    assert hows[0] == ("call", "1-800-799-7233") and numbers[0].pack == Pack.GENERAL
    assert ("relay", "711") in hows and ("call", "1-844-762-8483") in hows
    assert numbers[0].uri == "tel:+18007997233"
    text_line = next(n for n in numbers if n.channel == Channel.TEXT)
    assert text_line.uri == "sms:88788?body=START"
    assert next(n for n in numbers if n.channel == Channel.RELAY).uri == "tel:711"


def test_the_checklist_joins_the_chosen_packs_in_the_victims_language(library: content.PackLibrary) -> None:
    items = library.items(["general", "immigrant"], "es")
    keys = [i.key for i in items]
    assert keys[0] == "id_papers" and "passport" in keys and len(keys) == len(set(keys))
    assert all(i.locale == "es" and i.draft for i in items)
    assert next(i for i in items if i.key == "passport").text.startswith("Pasaporte")


# --- The tiny Markdown ------------------------------------------------------------------


def test_html_escapes_a_script_and_keeps_bullets_and_bold() -> None:
    blocks = (
        Paragraph("Stay **near a door** <script>alert(1)</script>"),
        Bullets(("one & two", "<b>three</b>")),
    )
    html = str(blocks_html(blocks))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<strong>near a door</strong>" in html
    assert "<ul><li>one &amp; two</li><li>&lt;b&gt;three&lt;/b&gt;</li></ul>" in html
    assert "<b>" not in html
    assert str(inline_html("a ** b")) == "a ** b"
    assert str(checklist_html(["<i>ID</i>"])) == '<ul class="checklist"><li>&lt;i&gt;ID&lt;/i&gt;</li></ul>'


def test_a_script_in_a_pack_file_is_shown_as_text(tmp_path: Path) -> None:
    write(
        tmp_path,
        "general.en.md",
        "## children\n\n<script>alert(1)</script> **Talk** with them.\n\n- a\n- b\n",
    )
    (block,) = load_packs(tmp_path).guidance(["general"], "children", "en")
    assert str(block.html) == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; <strong>Talk</strong> with them.</p>\n<ul><li>a</li><li>b</li></ul>"
    )
    assert block.text == "<script>alert(1)</script> Talk with them.\n\n- a\n- b"


def test_lines_of_a_paragraph_join_and_an_indented_line_continues_its_bullet(tmp_path: Path) -> None:
    write(
        tmp_path,
        "general.en.md",
        "## children\n\nOne line\nand the next.\n\n- a bullet\n  that goes on\n- b\n",
    )
    (block,) = load_packs(tmp_path).guidance(["general"], "children", "en")
    assert block.blocks == (
        Paragraph("One line and the next.", block.blocks[0].line),
        Bullets(("a bullet that goes on", "b"), block.blocks[1].line),
    )
    assert [b.line for b in block.blocks] == [11, 14]


# --- Malformed files, refused with file and line ---------------------------------------


def english_body() -> str:
    return (
        "## during_incident\n\nYou decide.\n\n"
        "## children\n\nTalk with them.\n\n"
        "## items_to_take\n\n- [ ] id_papers: ID card\n- [ ] keys: Keys\n\n"
        "## important_numbers\n\n"
        "- number: National Domestic Violence Hotline | call 1-800-799-7233 | 24 hours | English\n"
    )


def write(
    folder: Path,
    name: str,
    body: str,
    *,
    pack: str = "general",
    locale: str = "en",
    version: str = "1",
    review: str = "source",
    extra: str = "",
) -> Path:
    """A pack file: header lines 2-6 (pack, locale, version, review, sources), then ``extra``."""
    header = f"---\npack: {pack}\nlocale: {locale}\nversion: {version}\nreview: {review}\nsources: ours\n{extra}---\n\n"
    path = folder / name
    path.write_text(header + body, encoding="utf-8")
    return path


def refused(folder: Path) -> PackError:
    with pytest.raises(PackError) as caught:
        load_packs(folder)
    return caught.value


BODY_CASES = [
    # (name, body, line, message fragment); the body starts on line 9.
    ("unknown section", "## dancing\n\nHi.\n", 9, "unknown section 'dancing'"),
    ("duplicate section", "## children\n\nA.\n\n## children\n\nB.\n", 13, "already given on line 9"),
    ("text before heading", "Hello.\n\n## children\n\nA.\n", 9, "before the first"),
    ("empty section", "## children\n\n## technology\n\nA.\n", 9, "'children' is empty"),
    ("other heading", "## children\n\n### more\n", 11, "only heading"),
    ("star bullet", "## children\n\n* a\n", 11, "bullets start with '- '"),
    ("numbered list", "## children\n\n1. a\n", 11, "numbered lists"),
    ("quote", "## children\n\n> a\n", 11, "quotes"),
    ("ticked item", "## items_to_take\n\n- [x] keys: Keys\n", 11, "'- [ ] <key>: <text>'"),
    ("item without key", "## items_to_take\n\n- [ ] Keys\n", 11, "'- [ ] <key>: <text>'"),
    ("item outside items", "## children\n\n- [ ] toy: A toy\n", 11, "belong to 'items_to_take'"),
    ("duplicate item", "## items_to_take\n\n- [ ] keys: Keys\n- [ ] keys: More keys\n", 12, "'keys' is already"),
    ("number outside numbers", "## children\n\n- number: X | call 1-800-799-7233 | 24 | en\n", 11, "belong to"),
    ("number with 3 fields", "## important_numbers\n\n- number: X | call 1-800-799-7233 | 24\n", 11, "<hours> |"),
    ("number empty field", "## important_numbers\n\n- number: X | call 711 |  | en\n", 11, "<hours> |"),
    ("number how unreadable", "## important_numbers\n\n- number: X | phone 18007997233 | 24 | en\n", 11, "cannot read"),
    ("local number", "## important_numbers\n\n- number: X | relay 311 | 24 | en\n", 11, "not one of the national"),
    ("text without keyword", "## important_numbers\n\n- number: Hotline | text START 88788 | 24 | en\n", 11, "'START'"),
    ("same number twice", "## important_numbers\n\n- number: A | relay 711 | 24 | en\n- number: B | relay 711 | 24 | en\n", 12, "already listed"),
    ("phone in text", "## children\n\nCall Jane at 218-555-0143.\n", 11, "not a national number"),
    ("address in text", "## children\n\nGo to 1208 Example Ave in Duluth.\n", 11, "street address"),
    ("unbalanced bold", "## children\n\nA **bold start.\n", 11, "does not close"),
    ("indent without item", "## children\n\nA.\n\n  indented\n", 13, "continues a bullet"),
    ("tab indent", "## children\n\n\tA.\n", 11, "tabs"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "line", "message"), [c[1:] for c in BODY_CASES], ids=[c[0] for c in BODY_CASES]
)
def test_a_malformed_body_is_refused_with_its_file_and_line(
    tmp_path: Path, body: str, line: int, message: str
) -> None:
    path = write(tmp_path, "general.en.md", body)
    error = refused(tmp_path)
    assert (error.path, error.line) == (str(path), line)
    assert message in error.message
    assert str(error).startswith(f"{path}:{line}: ")


HEADER_CASES = [
    # (name, file text, line, message fragment)
    ("no opening fence", "pack: general\n", 1, "starts with a '---'"),
    ("not key value", "---\npack general\n---\n", 2, "not 'key: value'"),
    ("unknown key", "---\npack: general\ntitle: Plan\n---\n", 3, "unknown header key 'title'"),
    ("duplicate key", "---\npack: general\npack: native\n---\n", 3, "given twice"),
    ("missing key", "---\npack: general\nlocale: en\nversion: 1\nreview: source\n---\n\n## children\n\nA.\n", 6, "no 'sources'"),
    ("not closed", "---\npack: general\nlocale: en\n", 3, "not closed"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "message"), [c[1:] for c in HEADER_CASES], ids=[c[0] for c in HEADER_CASES]
)
def test_a_malformed_header_is_refused_with_its_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "general.en.md"
    path.write_text(text, encoding="utf-8")
    error = refused(tmp_path)
    assert (error.path, error.line) == (str(path), line) and message in error.message


VALUE_CASES = [
    # (name, write() keywords, line, message fragment): header lines are pack 2, locale 3, version 4, review 5.
    ("unknown pack", {"pack": "sports"}, 2, "unknown pack 'sports'"),
    ("unknown locale", {"locale": "fr"}, 3, "unknown locale 'fr'"),
    ("version not a number", {"version": "1.0"}, 4, "whole number"),
    ("version zero", {"version": "0"}, 4, "whole number"),
    ("unknown review", {"review": "approved"}, 5, "unknown review status 'approved'"),
    ("english draft", {"review": "draft"}, 5, "never 'draft'"),
    ("reviewed without reviewer", {"review": "reviewed", "extra": "reviewed_on: 2024-05-01\n"}, 5, "needs 'reviewer'"),
    ("reviewed without date", {"review": "reviewed", "extra": "reviewer: A. Person\n"}, 5, "needs 'reviewer' and 'reviewed_on'"),
    ("reviewer on a source", {"extra": "reviewer: A. Person\n"}, 7, "only a 'reviewed' pack"),
    ("bad date", {"review": "reviewed", "extra": "reviewer: A. Person\nreviewed_on: 1 May 2024\n"}, 8, "YYYY-MM-DD"),
    ("impossible date", {"review": "reviewed", "extra": "reviewer: A. Person\nreviewed_on: 2024-02-30\n"}, 8, "YYYY-MM-DD"),
    ("future date", {"review": "reviewed", "extra": "reviewer: A. Person\nreviewed_on: 2999-01-01\n"}, 8, "future"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("values", "line", "message"), [c[1:] for c in VALUE_CASES], ids=[c[0] for c in VALUE_CASES]
)
def test_a_bad_header_value_is_refused_with_its_line(
    tmp_path: Path, values: dict[str, str], line: int, message: str
) -> None:
    path = write(tmp_path, "general.en.md", "## children\n\nA.\n", **values)
    error = refused(tmp_path)
    assert (error.path, error.line) == (str(path), line) and message in error.message


def test_a_reviewed_english_pack_with_reviewer_and_date_is_accepted(tmp_path: Path) -> None:
    extra = "reviewer: A. Person, advocate\nreviewed_on: 2024-05-01\n"
    write(tmp_path, "general.en.md", "## children\n\nA.\n", review="reviewed", extra=extra)
    file = load_packs(tmp_path).file("general", "en")
    assert file is not None and file.review == Review.REVIEWED
    assert (file.reviewer, file.reviewed_on.isoformat() if file.reviewed_on else None) == (
        "A. Person, advocate",
        "2024-05-01",
    )


def test_a_file_whose_name_does_not_match_its_header_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "general.es.md", "## children\n\nA.\n")
    error = refused(tmp_path)
    assert (error.path, error.line) == (str(path), 2) and "'general.en.md'" in error.message


def test_a_file_that_is_not_utf8_or_starts_with_a_bom_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "general.en.md"
    path.write_bytes(b"---\npack: general\nlocale: en\xff\n")
    error = refused(tmp_path)
    assert (error.path, error.line, error.message) == (str(path), 3, "not valid UTF-8")
    path.write_bytes("\ufeff---\n".encode())
    assert "byte-order mark" in refused(tmp_path).message


def test_a_translation_marked_source_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "general.en.md", english_body())
    path = write(tmp_path, "general.es.md", "## children\n\nA.\n", locale="es", review="source")
    error = refused(tmp_path)
    assert (error.path, error.line) == (str(path), 5) and "'draft' until a person reviews it" in error.message


TRANSLATION_CASES = [
    # (name, Spanish body, write() keywords, line, message fragment)
    ("newer than english", "## children\n\nA.\n", {"version": "2"}, 4, "newer than the English pack's version 1"),
    ("section english lacks", "## children\n\nA.\n\n## technology\n\nB.\n", {}, 13, "'technology' is not in the English pack"),
    ("item english lacks", "## items_to_take\n\n- [ ] keys: Llaves\n- [ ] toy: Juguete\n", {}, 12, "'toy' is not in the English"),
    ("number english lacks", "## important_numbers\n\n- number: Retransmisión | relay 711 | 24 | es\n", {}, 11, "not in the English pack"),
    ("guidance english lacks", "## items_to_take\n\nLleve poco.\n", {}, 9, "no guidance text to translate"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "values", "line", "message"),
    [c[1:] for c in TRANSLATION_CASES],
    ids=[c[0] for c in TRANSLATION_CASES],
)
def test_a_translation_that_does_not_match_its_english_pack_is_refused(
    tmp_path: Path, body: str, values: dict[str, str], line: int, message: str
) -> None:
    write(tmp_path, "general.en.md", english_body())
    path = write(tmp_path, "general.es.md", body, locale="es", review="draft", **values)
    error = refused(tmp_path)
    assert (error.path, error.line) == (str(path), line) and message in error.message


def test_a_translation_without_an_english_pack_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "general.en.md", english_body())
    path = write(tmp_path, "rural.es.md", "## children\n\nA.\n", pack="rural", locale="es", review="draft")
    error = refused(tmp_path)
    assert (error.path, error.line) == (str(path), 2) and "no English pack 'rural.en.md'" in error.message


def test_a_malformed_pack_file_stops_the_app_at_start_with_its_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused when the app is made (``flask run``, gunicorn, the CLI), not at the first plan page."""
    path = write(tmp_path, "general.en.md", "## children\n\nCall Jane at 218-555-0143.\n")
    monkeypatch.setattr(library_module, "SHIPPED_DIR", tmp_path)
    library_module.shipped.cache_clear()
    try:
        with pytest.raises(PackError) as caught:
            create_app(make_settings(f"sqlite:///{tmp_path / 'start.sqlite3'}"))
    finally:
        library_module.shipped.cache_clear()  # the next caller parses the shipped packs again
    assert (caught.value.path, caught.value.line) == (str(path), 11)
    assert str(caught.value).startswith(f"{path}:11: ") and "not a national number" in str(caught.value)


def test_the_app_starts_with_the_shipped_packs_already_parsed(tmp_path: Path) -> None:
    library_module.shipped.cache_clear()
    create_app(make_settings(f"sqlite:///{tmp_path / 'start.sqlite3'}"))
    assert library_module.shipped.cache_info().currsize == 1


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    assert "no pack files" in refused(tmp_path).message


# --- Which packs to offer -----------------------------------------------------------------


def offered(**fields: object) -> list[tuple[str, str]]:
    return [(s.pack.value, s.reason.value) for s in suggest_packs(**fields)]  # type: ignore[arg-type]


def test_the_general_pack_is_always_offered_first() -> None:
    assert offered() == [("general", "always")]


def test_a_case_in_an_indigenous_program_or_referred_by_a_tribe_is_offered_the_native_pack() -> None:
    assert offered(cultural_program="indigenous") == [("general", "always"), ("native", "cultural_program")]
    assert offered(referral_source="tribal") == [("general", "always"), ("native", "tribal_referral")]
    assert offered(language="oj") == [("general", "always"), ("native", "language")]


def test_a_deaf_victim_is_offered_the_deaf_pack_by_access_need_or_program() -> None:
    assert offered(access_needs=["wheelchair", "deaf"]) == [("general", "always"), ("deaf", "access_need")]
    assert offered(cultural_program="deaf") == [("general", "always"), ("deaf", "cultural_program")]


def test_immigrant_pack_by_program_or_by_a_language_of_immigrant_communities() -> None:
    assert offered(cultural_program="immigrant_refugee") == [
        ("general", "always"),
        ("immigrant", "cultural_program"),
    ]
    for tag in ("es", "so", "hmn", "ksw", "om", "ar", "es-MX"):
        assert ("immigrant", "language") in offered(language=tag), tag
    # English, Ojibwe and languages outside the registry (Dakota, ASL) suggest no immigrant pack.
    for tag in ("en", "oj", "dak", "ase"):
        assert all(pack != "immigrant" for pack, _ in offered(language=tag)), tag


def test_lgbtq_elders_and_rural_packs() -> None:
    assert offered(cultural_program="lgbtq")[1] == ("lgbtq", "cultural_program")
    assert offered(cultural_program="elders")[1] == ("elders", "cultural_program")
    assert offered(rural=True)[1] == ("rural", "rural")


def test_each_pack_is_offered_once_with_its_first_reason_in_pack_order() -> None:
    got = offered(
        cultural_program="indigenous",
        referral_source="tribal",
        access_needs=["deaf"],
        language="oj",
        rural=True,
    )
    assert got == [
        ("general", "always"),
        ("native", "cultural_program"),
        ("deaf", "access_need"),
        ("rural", "rural"),
    ]


def test_suggestions_read_a_case_shaped_object() -> None:
    case = SimpleNamespace(
        cultural_program="elders", access_needs="deaf interpreter", language="so", referral_source=None
    )
    assert [s.pack for s in suggest_for_case(case)] == [Pack.GENERAL, Pack.IMMIGRANT, Pack.DEAF, Pack.ELDERS]
    assert [s.reason for s in suggest_for_case(case, rural=True)][-1] == Reason.RURAL


def test_the_suggestion_rules_use_the_case_vocabularies() -> None:
    """The values the rules compare with exist in the intake and shelter vocabularies."""
    programs = {p.value for p in CulturalProgram}
    assert {"indigenous", "immigrant_refugee", "deaf", "lgbtq", "elders"} <= programs
    assert "deaf" in {n.value for n in AccessNeed}
    assert "tribal" in {r.value for r in ReferralSource}


# --- Sections as data -----------------------------------------------------------------------


def test_every_section_describes_its_victim_entries_for_a_form() -> None:
    assert list(SECTION_ENTRIES) == list(Section)
    assert set(ENTRY_PARTS) == set(EntryKind)
    for section, entries in SECTION_ENTRIES.items():
        keys = [e.key for e in entries]
        assert len(keys) == len(set(keys)), section
        assert keys[-1] == "notes" and entries[-1].kind == EntryKind.TEXT
        for entry in entries:
            assert entry.parts and (entry.max_count > 1) == entry.repeatable
    kinds = {e.kind for entries in SECTION_ENTRIES.values() for e in entries}
    assert kinds == set(EntryKind)
    children = {e.kind for e in SECTION_ENTRIES[Section.CHILDREN]}
    assert {EntryKind.CODE_WORD, EntryKind.SAFE_PERSON, EntryKind.SAFE_PLACE} <= children
    assert any(e.kind == EntryKind.CHECKLIST for e in SECTION_ENTRIES[Section.ITEMS_TO_TAKE])
