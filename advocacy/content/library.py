"""What the loaded packs answer: guidance, checklist items and numbers for a person's packs in their language, with the English fallback and the review status marked, and each pack's coverage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from advocacy.content import render
from advocacy.content.packfiles import (
    SHIPPED_DIR,
    SOURCE_LOCALE,
    Channel,
    Item,
    Number,
    Pack,
    PackError,
    PackFile,
    Review,
    _check_translation,
    parse_pack,
)
from advocacy.content.render import Block
from advocacy.content.sections import Section
from advocacy.i18n import registry

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
