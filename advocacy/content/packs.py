"""Culturally adapted safety-plan content packs: files, validation and look-ups.

A pack is guidance for the plan's sections (:mod:`advocacy.content.sections`)
written for one situation (general, Native, immigrant, Deaf, LGBTQ+, elders,
rural) in one locale.  Each pack and locale is one Markdown file,
``packs/<pack>.<locale>.md``, loaded and validated once at start: a file is
accepted whole or the start stops with :class:`PackError` naming the file,
the line and the problem, so a translator can fix it without guessing.

Format (exact)::

    ---
    pack: general
    locale: es
    version: 1
    review: draft
    sources: what the guidance draws on, in words
    ---

    ## during_incident

    A paragraph: one or more lines, joined; **bold** is the only markup.

    - a bullet item
      an indented line continues the item above

    ## items_to_take

    - [ ] id_papers: Your ID card, passport or driver's licence

    ## important_numbers

    - number: National Domestic Violence Hotline | call 1-800-799-7233 | 24 hours | English, Spanish

Header: one ``key: value`` per line between two ``---`` lines, keys
``pack``, ``locale``, ``version`` (a whole number), ``review``, ``sources``
(all required) and ``reviewer`` and ``reviewed_on`` (``YYYY-MM-DD``), which
``review: reviewed`` requires and the other statuses forbid.  English is
``source`` (written by the project) or ``reviewed``; a translation is
``draft`` until a person reviews it, then ``reviewed``.

Body: ``## <section key>`` headings, each section once, holding paragraphs
and ``-`` bullets.  Checklist items (``- [ ] <key>: <text>``) belong to
``items_to_take`` only, and numbers (``- number: <name> | <how> | <hours> |
<languages>``) to ``important_numbers`` only.  ``<how>`` is ``call <number>``,
``tty <number>``, ``relay <number>`` or ``text <KEYWORD> <short code>``; the
name of a ``text`` number must contain its keyword, so a translation cannot
lose the word to send.  Only the national numbers of :data:`SHIPPED_NUMBERS`
may appear anywhere in a pack (agencies configure their local numbers
elsewhere), and nothing that looks like a street address.

A translation covers sections, items and numbers of its English pack only
(keys and ``how`` are the same in every locale).  Bold opens and closes on
one line.  Where it lacks one, the
English one is given instead, marked as a fallback.  A translation whose
``version`` is lower than its English pack's is **outdated**: it is still
loaded and given, flagged, because refusing it would stop the app whenever
the English text is improved, and lying about it (bumping the version) is
worse.  A translation whose version is *higher* than its English pack's is
refused: it cannot translate text that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import phonenumbers
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

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


# --- What the library answers -------------------------------------------------


def _lang_dir(locale: str) -> tuple[str, str]:
    language = registry().get(locale)
    return locale, language.dir if language else "ltr"


@dataclass(frozen=True)
class _Shown:
    """Where a piece of guidance really comes from, for the advocate to see."""

    pack: Pack
    locale: str
    requested_locale: str
    review: Review
    outdated: bool

    @property
    def fallback(self) -> bool:
        """True when this is the English text shown for another locale."""
        return self.locale != self.requested_locale

    @property
    def draft(self) -> bool:
        """True for a translation nobody has reviewed yet."""
        return self.review == Review.DRAFT

    @property
    def lang(self) -> str:
        return self.locale

    @property
    def dir(self) -> str:
        return _lang_dir(self.locale)[1]


@dataclass(frozen=True)
class GuidanceBlock(_Shown):
    section: Section
    version: int
    blocks: tuple[Block, ...]

    @property
    def html(self) -> Markup:
        return render.blocks_html(self.blocks)

    @property
    def text(self) -> str:
        return render.blocks_text(self.blocks)


@dataclass(frozen=True)
class ChecklistItem(_Shown):
    key: str
    label: str

    @property
    def html(self) -> Markup:
        return render.inline_html(self.label)

    @property
    def text(self) -> str:
        return render.inline_text(self.label)


@dataclass(frozen=True)
class ImportantNumber(_Shown):
    name: str
    channel: Channel
    number: str
    keyword: str
    hours: str
    languages: str

    @property
    def uri(self) -> str:
        """A ``tel:`` or ``sms:`` link for a page (never needed on paper)."""
        if self.channel == Channel.TEXT:
            return f"sms:{self.number}?body={self.keyword}"
        digits = self.number.replace("-", "")
        return f"tel:+{digits}" if len(digits) > 6 else f"tel:{digits}"

    @property
    def text(self) -> str:
        return f"{render.inline_text(self.name)}: {self.number} ({self.hours}; {self.languages})"

    @property
    def html(self) -> Markup:
        return Markup('%s: <span dir="ltr">%s</span> (%s; %s)') % (
            render.inline_html(self.name),
            self.number,
            render.inline_html(self.hours),
            render.inline_html(self.languages),
        )


@dataclass(frozen=True)
class Coverage:
    """How much of the English pack one locale covers, for the admin page.

    ``review`` is None when the locale has no file for this pack at all.
    """

    pack: Pack
    locale: str
    sections_covered: int
    sections_total: int
    items_covered: int
    items_total: int
    numbers_covered: int
    numbers_total: int
    review: Review | None
    outdated: bool
    version: int | None
    source_version: int
    reviewer: str | None
    reviewed_on: date | None

    @property
    def shipped(self) -> bool:
        return self.review is not None

    @property
    def complete(self) -> bool:
        return (
            self.sections_covered == self.sections_total
            and self.items_covered == self.items_total
            and self.numbers_covered == self.numbers_total
        )


@dataclass(frozen=True, eq=False)
class PackLibrary:
    """Every pack file, validated, and the questions the plan pages ask of them."""

    files: Mapping[tuple[Pack, str], PackFile]

    def packs(self) -> tuple[Pack, ...]:
        return tuple(p for p in Pack if (p, SOURCE_LOCALE) in self.files)

    def locales(self, pack: Pack | str) -> tuple[str, ...]:
        """The locales ``pack`` ships in, in the registry's order."""
        return tuple(tag for tag in registry() if (Pack(pack), tag) in self.files)

    def file(self, pack: Pack | str, locale: str) -> PackFile | None:
        return self.files.get((Pack(pack), locale))

    def outdated(self, pack: Pack | str, locale: str) -> bool:
        found, source = self.file(pack, locale), self.file(pack, SOURCE_LOCALE)
        return found is not None and source is not None and found.version < source.version

    def _chosen(self, pack_keys: Iterable[Pack | str]) -> list[Pack]:
        wanted = {Pack(key) for key in pack_keys}
        return [p for p in Pack if p in wanted and (p, SOURCE_LOCALE) in self.files]

    def _sources(self, pack: Pack, locale: str) -> list[PackFile]:
        """The file in ``locale`` (if any), then the English one."""
        tag = _best_locale(locale)
        found = [self.files[pack, tag]] if tag != SOURCE_LOCALE and (pack, tag) in self.files else []
        return [*found, self.files[pack, SOURCE_LOCALE]]

    def _shown(self, file: PackFile, locale: str) -> dict[str, Any]:
        return {
            "pack": file.pack,
            "locale": file.locale,
            "requested_locale": locale,
            "review": file.review,
            "outdated": self.outdated(file.pack, file.locale),
        }

    def guidance(
        self, pack_keys: Iterable[Pack | str], section: Section | str, locale: str
    ) -> list[GuidanceBlock]:
        """The guidance of ``section`` from each chosen pack, general first.

        Each block is in ``locale`` where that pack's translation has the
        section, otherwise in English with ``fallback`` set: the caller marks
        both "draft" and "English" visibly, and never prints the marks.
        """
        section = Section(section)
        out = []
        for pack in self._chosen(pack_keys):
            for file in self._sources(pack, locale):
                content = file.section(section)
                if content is not None and content.blocks:
                    out.append(
                        GuidanceBlock(
                            **self._shown(file, locale),
                            section=section,
                            version=file.version,
                            blocks=content.blocks,
                        )
                    )
                    break
        return out

    def items(self, pack_keys: Iterable[Pack | str], locale: str) -> list[ChecklistItem]:
        """The "items to take" checklist: each item in ``locale`` or else in English."""
        out = []
        seen: set[tuple[Pack, str]] = set()
        for pack in self._chosen(pack_keys):
            sources = self._sources(pack, locale)
            for item in _items(sources[-1]):
                for file in sources:
                    found = next((i for i in _items(file) if i.key == item.key), None)
                    if found is not None and (pack, found.key) not in seen:
                        seen.add((pack, found.key))
                        out.append(
                            ChecklistItem(**self._shown(file, locale), key=found.key, label=found.text)
                        )
                        break
        return out

    def numbers(self, pack_keys: Iterable[Pack | str], locale: str) -> list[ImportantNumber]:
        """The important numbers of the chosen packs, each once (the first pack's wording)."""
        out = []
        seen: set[tuple[str, str, str]] = set()
        for pack in self._chosen(pack_keys):
            sources = self._sources(pack, locale)
            for number in _numbers(sources[-1]):
                if number.how in seen:
                    continue
                for file in sources:
                    found = next((n for n in _numbers(file) if n.how == number.how), None)
                    if found is not None:
                        seen.add(found.how)
                        out.append(
                            ImportantNumber(
                                **self._shown(file, locale),
                                name=found.name,
                                channel=found.channel,
                                number=found.number,
                                keyword=found.keyword,
                                hours=found.hours,
                                languages=found.languages,
                            )
                        )
                        break
        return out

    def coverage(self) -> dict[Pack, dict[str, Coverage]]:
        """Per pack, per registered locale: what the locale covers of the English pack."""
        result: dict[Pack, dict[str, Coverage]] = {}
        for pack in self.packs():
            source = self.files[pack, SOURCE_LOCALE]
            per_locale = {}
            for tag in registry():
                file = self.files.get((pack, tag))
                per_locale[tag] = Coverage(
                    pack=pack,
                    locale=tag,
                    sections_covered=len(file.sections) if file else 0,
                    sections_total=len(source.sections),
                    items_covered=len(_items(file)) if file else 0,
                    items_total=len(_items(source)),
                    numbers_covered=len(_numbers(file)) if file else 0,
                    numbers_total=len(_numbers(source)),
                    review=file.review if file else None,
                    outdated=self.outdated(pack, tag),
                    version=file.version if file else None,
                    source_version=source.version,
                    reviewer=file.reviewer if file else None,
                    reviewed_on=file.reviewed_on if file else None,
                )
            result[pack] = per_locale
        return result


def _items(file: PackFile) -> tuple[Item, ...]:
    content = file.section(Section.ITEMS_TO_TAKE)
    return content.items if content else ()


def _numbers(file: PackFile) -> tuple[Number, ...]:
    content = file.section(Section.IMPORTANT_NUMBERS)
    return content.numbers if content else ()


def _best_locale(tag: str) -> str:
    """``es-MX`` reads the ``es`` pack; a language no pack has reads English."""
    if tag in registry():
        return tag
    primary = tag.split("-")[0].lower()
    return primary if primary in registry() else SOURCE_LOCALE


# --- Parsing ----------------------------------------------------------------------


def load_packs(folder: Path | str = SHIPPED_DIR) -> PackLibrary:
    """Parse and validate every ``*.md`` pack in ``folder``; the app calls it at start.

    Raises :class:`PackError` for the first problem, files in name order.
    """
    folder = Path(folder)
    files: dict[tuple[Pack, str], PackFile] = {}
    for path in sorted(folder.glob("*.md")):
        parsed = parse_pack(path)
        files[parsed.pack, parsed.locale] = parsed
    if not files:
        raise PackError(folder, 0, "no pack files (*.md) in this folder")
    for (pack, locale), file in sorted(files.items()):
        if locale != SOURCE_LOCALE:
            _check_translation(file, files.get((pack, SOURCE_LOCALE)))
    return PackLibrary(files=files)


@cache
def shipped() -> PackLibrary:
    """The packs in the repository, parsed once per process."""
    return load_packs(SHIPPED_DIR)


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
        match = _HEADER_LINE.match(line)
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
    if not _VERSION.match(value("version")):
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
        if not _DATE.match(text):
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
        heading = _HEADING.match(line)
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
    item = _ITEM.match(line)
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
        match = pattern.match(how)
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


# --- Which packs fit a case ------------------------------------------------------


class Reason(LabelledEnum):
    ALWAYS = "always", _l("Every plan has it")
    CULTURAL_PROGRAM = "cultural_program", _l("The case's cultural program")
    ACCESS_NEED = "access_need", _l("An access need of the case")
    LANGUAGE = "language", _l("The person's language")
    TRIBAL_REFERRAL = "tribal_referral", _l("Referred by a tribal agency")
    RURAL = "rural", _l("The advocate marked the situation as rural")


@dataclass(frozen=True)
class Suggestion:
    """A pack the advocate is offered for a case, and why: never applied silently."""

    pack: Pack
    reason: Reason


#: Languages of the registry spoken here mostly in immigrant and refugee
#: communities.  English and Ojibwe are not; a language outside the registry
#: suggests nothing (it may be Dakota or ASL as well as Amharic).
IMMIGRANT_LANGUAGES = frozenset({"es", "so", "hmn", "ksw", "om", "ar"})


def suggest_packs(
    *,
    cultural_program: str | None = None,
    access_needs: Iterable[str] = (),
    language: str = SOURCE_LOCALE,
    referral_source: str | None = None,
    rural: bool = False,
) -> list[Suggestion]:
    """The packs to offer for a case, general always first, each once with its first reason.

    The values are those of :class:`advocacy.shelters.models.CulturalProgram`,
    :class:`advocacy.intake.models.AccessNeed` and ``ReferralSource``; the
    case has no "rural" field yet, so the advocate's choice is passed in.
    """
    needs = set(access_needs)
    primary = (language or SOURCE_LOCALE).split("-")[0].lower()
    rules: list[tuple[bool, Pack, Reason]] = [
        (True, Pack.GENERAL, Reason.ALWAYS),
        (cultural_program == "indigenous", Pack.NATIVE, Reason.CULTURAL_PROGRAM),
        (referral_source == "tribal", Pack.NATIVE, Reason.TRIBAL_REFERRAL),
        (primary == "oj", Pack.NATIVE, Reason.LANGUAGE),
        (cultural_program == "immigrant_refugee", Pack.IMMIGRANT, Reason.CULTURAL_PROGRAM),
        (primary in IMMIGRANT_LANGUAGES, Pack.IMMIGRANT, Reason.LANGUAGE),
        (cultural_program == "deaf", Pack.DEAF, Reason.CULTURAL_PROGRAM),
        ("deaf" in needs, Pack.DEAF, Reason.ACCESS_NEED),
        (cultural_program == "lgbtq", Pack.LGBTQ, Reason.CULTURAL_PROGRAM),
        (cultural_program == "elders", Pack.ELDERS, Reason.CULTURAL_PROGRAM),
        (rural, Pack.RURAL, Reason.RURAL),
    ]
    chosen: dict[Pack, Reason] = {}
    for applies, pack, reason in rules:
        if applies and pack not in chosen:
            chosen[pack] = reason
    return [Suggestion(pack, chosen[pack]) for pack in Pack if pack in chosen]


def suggest_for_case(case: Any, *, rural: bool = False) -> list[Suggestion]:
    """:func:`suggest_packs` from a :class:`~advocacy.intake.models.Case` (or anything shaped like one)."""
    needs = getattr(case, "access_needs", "") or ""
    return suggest_packs(
        cultural_program=getattr(case, "cultural_program", None),
        access_needs=needs.split() if isinstance(needs, str) else needs,
        language=getattr(case, "language", SOURCE_LOCALE) or SOURCE_LOCALE,
        referral_source=getattr(case, "referral_source", None),
        rural=rural,
    )
