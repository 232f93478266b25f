"""Safety-plan pack files: their format, what a parsed file holds, and the parser that refuses a bad one with its file and line.

The format itself is described in :mod:`advocacy.content.packs`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import phonenumbers
from flask_babel import lazy_gettext as _l

from advocacy import clock
from advocacy.content import render
from advocacy.content.render import Block, Bullets, Paragraph
from advocacy.content.sections import Section
from advocacy.i18n import registry
from advocacy.vocab import LabelledEnum

SHIPPED_DIR = Path(__file__).with_name("packs")
SOURCE_LOCALE = "en"
MAX_FILE_BYTES = 256 * 1024
FENCE = "---"


class Pack(LabelledEnum):
    """The shipped packs, in the order their guidance is shown."""

    GENERAL = "general", _l("General")
    NATIVE = "native", _l("Native and Indigenous")
    IMMIGRANT = "immigrant", _l("Immigrant and refugee")
    DEAF = "deaf", _l("Deaf and hard of hearing")
    LGBTQ = "lgbtq", _l("LGBTQ+")
    ELDERS = "elders", _l("Elders")
    RURAL = "rural", _l("Rural")


class Review(LabelledEnum):
    SOURCE = "source", _l("Written in English by the project")
    DRAFT = "draft", _l("Draft translation, not reviewed")
    REVIEWED = "reviewed", _l("Reviewed")


class Channel(LabelledEnum):
    CALL = "call", _l("Call")
    TTY = "tty", _l("TTY")
    RELAY = "relay", _l("Relay service")
    TEXT = "text", _l("Text message")


#: The only numbers a pack may carry: national lines, safe to print anywhere.
#: ``(channel, number, keyword)``.
SHIPPED_NUMBERS: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("call", "1-800-799-7233", ""),  # National Domestic Violence Hotline
        ("tty", "1-800-787-3224", ""),  # the Hotline's TTY line
        ("text", "88788", "START"),  # the Hotline's text line
        ("call", "1-844-762-8483", ""),  # StrongHearts Native Helpline
        ("call", "1-866-223-1111", ""),  # Minnesota Day One crisis line
        ("relay", "711", ""),  # telecommunications relay service
    }
)
#: The same numbers as E.164, for the scan of every line of text.
SHIPPED_E164 = frozenset(
    phonenumbers.format_number(phonenumbers.parse(number, "US"), phonenumbers.PhoneNumberFormat.E164)
    for _, number, _ in SHIPPED_NUMBERS
    if len(number) > 6
)

HEADER_KEYS = ("pack", "locale", "version", "review", "reviewer", "reviewed_on", "sources")
REQUIRED_KEYS = ("pack", "locale", "version", "review", "sources")

_FILE_NAME = re.compile(r"^([a-z]+)\.([a-z]{2,3})\.md$")
_HEADER_LINE = re.compile(r"^([a-z_]+): (\S.*)$")
_HEADING = re.compile(r"^## ([a-z_]+)$")
_VERSION = re.compile(r"^[1-9][0-9]{0,5}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ITEM = re.compile(r"^- \[ \] ([a-z0-9_]{1,40}): (\S.*)$")
_NUMBER = "- number:"
_HOW = (
    re.compile(r"^(call|tty) (1-\d{3}-\d{3}-\d{4})$"),
    re.compile(r"^(relay) (\d{3})$"),
    re.compile(r"^(text) ([A-Z]{2,16}) (\d{5,6})$"),
)
_OTHER_MARKDOWN = (
    (re.compile(r"^#"), "the only heading is '## <section key>'"),
    (re.compile(r"^[*+] "), "bullets start with '- '"),
    (re.compile(r"^\d+[.)] "), "numbered lists are not supported: use '- ' bullets"),
    (re.compile(r"^>"), "quotes are not supported"),
    (re.compile(r"^```|^~~~"), "code blocks are not supported"),
    (re.compile(r"^\|"), "tables are not supported"),
    (re.compile(r"^- \["), "a checklist item is '- [ ] <key>: <text>'"),
    (re.compile(r"^\t"), "indent with spaces, not tabs"),
)
#: Street addresses, post boxes, suites and "MN 55802": a pack must never
#: carry a place where someone could be found.
_ADDRESS = re.compile(
    r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][A-Za-z'-]*\s+){1,3}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Way|Court|Ct|Place|Pl|"
    r"Parkway|Pkwy|Highway|Hwy|Circle|Cir|Trail|Trl|Terrace|Ter)\b"
    r"|\bP\.?\s?O\.?\s+Box\s+\d+"
    r"|\b(?:Suite|Ste|Apt|Unit)\.?\s*#?\s*\d+"
    r"|\b(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|"
    r"NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY)\s+\d{5}(?:-\d{4})?\b"
)


class PackError(ValueError):
    """A pack file that cannot be used: where, and what is wrong with it."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")


# --- Parsed content ----------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A checklist item of "items to take": ``key`` is the same in every locale."""

    key: str
    text: str
    line: int


@dataclass(frozen=True)
class Number:
    """An important number; ``how`` identifies it in every locale."""

    name: str
    channel: Channel
    number: str
    keyword: str
    hours: str
    languages: str
    line: int

    @property
    def how(self) -> tuple[str, str, str]:
        return (self.channel.value, self.number, self.keyword)


@dataclass(frozen=True)
class SectionContent:
    section: Section
    line: int
    blocks: tuple[Block, ...]
    items: tuple[Item, ...]
    numbers: tuple[Number, ...]


@dataclass(frozen=True)
class PackFile:
    path: Path
    pack: Pack
    locale: str
    version: int
    review: Review
    reviewer: str | None
    reviewed_on: date | None
    sources: str
    sections: tuple[SectionContent, ...]
    header_lines: Mapping[str, int]

    def section(self, section: Section) -> SectionContent | None:
        return next((s for s in self.sections if s.section == section), None)


def parse_pack(path: Path) -> PackFile:
    """One pack file, validated on its own (the cross-file rules are :func:`load_packs`'s)."""
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise PackError(path, 0, f"file is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackError(path, data[: exc.start].count(b"\n") + 1, "not valid UTF-8") from None
    if text.startswith("\ufeff"):
        raise PackError(path, 1, "file starts with a byte-order mark: save it as UTF-8 without BOM")
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line does not start another
    header, body_start = _parse_header(path, lines)
    meta = _check_header(path, header)
    sections = _parse_body(path, lines, body_start)
    return PackFile(
        path=path,
        sections=sections,
        header_lines={key: line for key, (_, line) in header.items()},
        **meta,
    )


def _parse_header(path: Path, lines: list[str]) -> tuple[dict[str, tuple[str, int]], int]:
    if not lines or lines[0] != FENCE:
        raise PackError(path, 1, "a pack starts with a '---' line, then its header")
    header: dict[str, tuple[str, int]] = {}
    for index in range(1, len(lines)):
        number, line = index + 1, lines[index]
        if line == FENCE:
            for key in REQUIRED_KEYS:
                if key not in header:
                    raise PackError(path, number, f"header has no '{key}'")
            return header, index + 1
        match = _HEADER_LINE.fullmatch(line)
        if not match:
            raise PackError(path, number, "header line is not 'key: value'")
        key, value = match.group(1), match.group(2).strip()
        if key not in HEADER_KEYS:
            raise PackError(path, number, f"unknown header key '{key}' (known: {', '.join(HEADER_KEYS)})")
        if key in header:
            raise PackError(path, number, f"header key '{key}' given twice")
        header[key] = (value, number)
    raise PackError(path, len(lines), "header is not closed by a '---' line")


def _check_header(path: Path, header: dict[str, tuple[str, int]]) -> dict[str, Any]:
    def value(key: str) -> str:
        return header[key][0]

    def line(key: str) -> int:
        return header[key][1]

    try:
        pack = Pack(value("pack"))
    except ValueError:
        raise PackError(path, line("pack"), f"unknown pack '{value('pack')}'") from None
    locale = value("locale")
    if locale not in registry():
        raise PackError(path, line("locale"), f"unknown locale '{locale}'")
    if not _VERSION.fullmatch(value("version")):
        raise PackError(path, line("version"), "version is a whole number, 1 or more")
    try:
        review = Review(value("review"))
    except ValueError:
        known = ", ".join(r.value for r in Review)
        raise PackError(
            path, line("review"), f"unknown review status '{value('review')}' ({known})"
        ) from None
    if locale == SOURCE_LOCALE and review == Review.DRAFT:
        raise PackError(path, line("review"), "English is 'source' or 'reviewed', never 'draft'")
    if locale != SOURCE_LOCALE and review == Review.SOURCE:
        raise PackError(path, line("review"), "a translation is 'draft' until a person reviews it")
    reviewer, reviewed_on = header.get("reviewer"), header.get("reviewed_on")
    if review == Review.REVIEWED:
        if reviewer is None or reviewed_on is None:
            raise PackError(path, line("review"), "'reviewed' needs 'reviewer' and 'reviewed_on'")
        on = _date(path, *reviewed_on)
    else:
        extra = reviewer or reviewed_on
        if extra is not None:
            raise PackError(
                path, extra[1], f"only a 'reviewed' pack names a reviewer (this one is '{review}')"
            )
        on = None
    expected = f"{pack.value}.{locale}.md"
    if path.name != expected:
        raise PackError(path, line("pack"), f"the header says this file is '{expected}'")
    return {
        "pack": pack,
        "locale": locale,
        "version": int(value("version")),
        "review": review,
        "reviewer": reviewer[0] if reviewer else None,
        "reviewed_on": on,
        "sources": value("sources"),
    }


def _date(path: Path, text: str, line: int) -> date:
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        on = date.fromisoformat(text)
    except ValueError:
        raise PackError(path, line, "reviewed_on is a date, YYYY-MM-DD") from None
    if on > clock.now().date():
        raise PackError(path, line, "reviewed_on is in the future")
    return on


class _SectionBuilder:
    def __init__(self, section: Section, line: int) -> None:
        self.section = section
        self.line = line
        self.blocks: list[Block] = []
        self.items: list[Item] = []
        self.numbers: list[Number] = []
        self.paragraph: list[str] = []
        self.paragraph_line = 0
        self.bullets: list[str] = []
        self.bullets_line = 0
        # What an indented line continues: "bullet", "item" or None.
        self.open: str | None = None

    def close(self) -> None:
        if self.paragraph:
            self.blocks.append(Paragraph(" ".join(self.paragraph), self.paragraph_line))
            self.paragraph = []
        if self.bullets:
            self.blocks.append(Bullets(tuple(self.bullets), self.bullets_line))
            self.bullets = []
        self.open = None

    def build(self) -> SectionContent:
        self.close()
        return SectionContent(
            self.section, self.line, tuple(self.blocks), tuple(self.items), tuple(self.numbers)
        )


def _parse_body(path: Path, lines: list[str], start: int) -> tuple[SectionContent, ...]:
    done: list[SectionContent] = []
    seen: dict[Section, int] = {}
    current: _SectionBuilder | None = None
    for index in range(start, len(lines)):
        number, raw = index + 1, lines[index]
        line = raw.rstrip()
        if not line:
            if current:
                current.close()
            continue
        _check_safe(path, number, line)
        heading = _HEADING.fullmatch(line)
        if heading:
            try:
                section = Section(heading.group(1))
            except ValueError:
                raise PackError(path, number, f"unknown section '{heading.group(1)}'") from None
            if section in seen:
                raise PackError(path, number, f"section '{section}' already given on line {seen[section]}")
            if current:
                done.append(_finish(path, current))
            seen[section] = number
            current = _SectionBuilder(section, number)
            continue
        if current is None:
            raise PackError(path, number, "text before the first '## <section key>' heading")
        _body_line(path, number, line, current)
    if current:
        done.append(_finish(path, current))
    if not done:
        raise PackError(path, len(lines), "a pack has at least one section")
    return tuple(done)


def _finish(path: Path, builder: _SectionBuilder) -> SectionContent:
    content = builder.build()
    if not (content.blocks or content.items or content.numbers):
        raise PackError(path, builder.line, f"section '{builder.section}' is empty")
    return content


def _body_line(path: Path, number: int, line: str, current: _SectionBuilder) -> None:
    if line.startswith("  "):
        text = line.strip()
        if current.open == "bullet":
            current.bullets[-1] = f"{current.bullets[-1]} {_inline(path, number, text)}"
        elif current.open == "item":
            last = current.items[-1]
            current.items[-1] = Item(last.key, f"{last.text} {_inline(path, number, text)}", last.line)
        else:
            raise PackError(path, number, "an indented line continues a bullet or checklist item")
        return
    if line.startswith(_NUMBER):
        if current.section != Section.IMPORTANT_NUMBERS:
            raise PackError(path, number, "number lines belong to 'important_numbers'")
        current.close()
        parsed = _parse_number(path, number, line)
        if any(n.how == parsed.how for n in current.numbers):
            raise PackError(path, number, "this number is already listed in this section")
        current.numbers.append(parsed)
        return
    item = _ITEM.fullmatch(line)
    if item:
        if current.section != Section.ITEMS_TO_TAKE:
            raise PackError(path, number, "checklist items belong to 'items_to_take'")
        current.close()
        key = item.group(1)
        if any(i.key == key for i in current.items):
            raise PackError(path, number, f"checklist item '{key}' is already given")
        current.items.append(Item(key, _inline(path, number, item.group(2).strip()), number))
        current.open = "item"
        return
    for pattern, message in _OTHER_MARKDOWN:
        if pattern.match(line):
            raise PackError(path, number, message)
    if line.startswith("- "):
        if current.paragraph:
            current.close()
        if not current.bullets:
            current.bullets_line = number
        current.bullets.append(_inline(path, number, line[2:].strip()))
        current.open = "bullet"
        return
    if current.bullets or current.open:
        current.close()
    if not current.paragraph:
        current.paragraph_line = number
    current.paragraph.append(_inline(path, number, line.strip()))


def _inline(path: Path, number: int, text: str) -> str:
    """Bold opens and closes on one line, so an unclosed marker is found where it is."""
    if not render.balanced(text):
        raise PackError(path, number, "'**' opens bold that does not close on this line")
    return text


def _parse_number(path: Path, number: int, line: str) -> Number:
    fields = [f.strip() for f in line[len(_NUMBER) :].split("|")]
    shape = "a number line is '- number: <name> | <how> | <hours> | <languages>'"
    if len(fields) != 4 or not all(fields):
        raise PackError(path, number, shape)
    name, how, hours, languages = fields
    for pattern in _HOW:
        match = pattern.fullmatch(how)
        if match:
            break
    else:
        raise PackError(
            path,
            number,
            f"cannot read '{how}': write 'call 1-800-799-7233', 'tty <number>', "
            "'relay 711' or 'text START 88788'",
        )
    parts = match.groups()
    channel = Channel(parts[0])
    keyword, digits = (parts[1], parts[2]) if channel == Channel.TEXT else ("", parts[1])
    if (channel.value, digits, keyword) not in SHIPPED_NUMBERS:
        raise PackError(
            path,
            number,
            f"'{how}' is not one of the national numbers a pack may carry; "
            "an agency adds its local numbers in its own settings",
        )
    if keyword and keyword not in name:
        raise PackError(path, number, f"the name of a text number says the word to send ('{keyword}')")
    for text in (name, hours, languages):
        _inline(path, number, text)
    return Number(name, channel, digits, keyword, hours, languages, number)


def _check_safe(path: Path, number: int, line: str) -> None:
    """No number but the national ones, and no street address, on any line."""
    for match in phonenumbers.PhoneNumberMatcher(line, "US", leniency=phonenumbers.Leniency.POSSIBLE):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in SHIPPED_E164:
            raise PackError(path, number, f"'{match.raw_string}' is not a national number a pack may carry")
    if looks_like_address(line):
        raise PackError(path, number, "this looks like a street address: packs never carry one")


def looks_like_address(text: str) -> bool:
    """Whether ``text`` contains something shaped like a US street address."""
    return _ADDRESS.search(text) is not None


def _check_translation(file: PackFile, source: PackFile | None) -> None:
    path = file.path
    if source is None:
        raise PackError(path, file.header_lines["pack"], f"no English pack '{file.pack}.en.md' to translate")
    if file.version > source.version:
        raise PackError(
            path,
            file.header_lines["version"],
            f"version {file.version} is newer than the English pack's version {source.version}",
        )
    for content in file.sections:
        original = source.section(content.section)
        if original is None:
            raise PackError(path, content.line, f"section '{content.section}' is not in the English pack")
        for item in content.items:
            if all(i.key != item.key for i in original.items):
                raise PackError(path, item.line, f"checklist item '{item.key}' is not in the English pack")
        for entry in content.numbers:
            if all(n.how != entry.how for n in original.numbers):
                raise PackError(path, entry.line, "this number is not in the English pack")
        if content.blocks and not original.blocks:
            raise PackError(path, content.line, "the English section has no guidance text to translate")
