"""Language access: the project's own language registry on top of Flask-Babel.

Babel's CLDR data has no Hmong (``hmn``), S'gaw Karen (``ksw``) or Ojibwe
(``oj``), and Flask-Babel looks translations up by a Babel ``Locale``.  So the
two questions are kept apart:

* which catalog to read is decided by the registry tag (``hmn``), and
* how to format dates and numbers is decided by the tag's CLDR fallback
  (``en``), which is what Flask-Babel's ``get_locale()`` returns.

``translations/languages.json`` is the single list of supported languages
(SecureDrop keeps its ``i18n.json`` for the same reason).
"""

from __future__ import annotations

import gettext
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import support
from flask import current_app, g, has_request_context, request, session
from flask_babel import Babel, Domain
from flask_login import current_user

REGISTRY_FILE = Path(__file__).resolve().parent.parent / "translations" / "languages.json"
SESSION_KEY = "language"
#: The language the code is written in: its catalog is the template itself.
SOURCE_LANGUAGE = "en"


@dataclass(frozen=True)
class Language:
    tag: str
    english: str
    native: str
    dir: str
    script: str
    babel: str


@cache
def registry() -> dict[str, Language]:
    data = json.loads(REGISTRY_FILE.read_text(encoding="utf-8"))
    return {item["tag"]: Language(**item) for item in data["languages"]}


def is_supported(tag: str | None) -> bool:
    return tag is not None and tag in registry()


def select_language() -> str:
    """Saved preference, then the switcher's choice, then Accept-Language."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = g.get("language")
    if chosen:
        return chosen
    candidates: list[str | None] = []
    if current_user and current_user.is_authenticated:
        candidates.append(current_user.language)
    candidates.append(session.get(SESSION_KEY))
    candidates.append(request.accept_languages.best_match(list(registry())))
    chosen = next((c for c in candidates if is_supported(c)), current_app.config["BABEL_DEFAULT_LOCALE"])
    g.language = chosen
    return chosen


def current_language() -> Language:
    return registry()[select_language()]


def select_babel_locale() -> str:
    """The CLDR locale Flask-Babel formats with: the language's fallback."""
    return current_language().babel


class RegistryDomain(Domain):
    """Loads the catalog of the registry tag, not of Flask-Babel's locale."""

    def get_translations(self) -> support.NullTranslations:
        if not has_request_context() and not g:
            return support.NullTranslations()
        try:
            tag = select_language()
        except RuntimeError:
            return support.NullTranslations()
        key = (tag, self.domain[0])
        cached = self.cache.get(key)
        if cached is None:
            translations = support.Translations()
            for dirname in self.translation_directories:
                catalog = support.Translations.load(dirname, [tag], self.domain[0])
                translations.merge(catalog)
                # merge() copies the messages only: keep the catalog's plural
                # rule (Arabic has six forms), as Flask-Babel's own Domain does.
                if isinstance(catalog, gettext.GNUTranslations):
                    translations.plural = catalog.plural
            cached = self.cache[key] = translations
        return cached


class RegistryBabel(Babel):
    @property
    def domain_instance(self) -> Domain:  # type: ignore[override]
        ext = current_app.extensions
        if "advocacy.babel_domain" not in ext:
            ext["advocacy.babel_domain"] = RegistryDomain(domain=self.domain)
        return ext["advocacy.babel_domain"]


def catalog_coverage(base: Path | None = None) -> dict[str, tuple[int, int]]:
    """(translated, total) messages of each registered language's UI catalog.

    Fuzzy entries do not count: they are shown in English until reviewed.
    """
    base = base or Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"])
    total = len([m for m in _read(base / "messages.pot") if m.id])
    result: dict[str, tuple[int, int]] = {}
    for tag in registry():
        path = _catalog_path(base, tag)
        if tag == SOURCE_LANGUAGE:
            result[tag] = (total, total)
        elif not path.exists():
            result[tag] = (0, total)
        else:
            done = sum(
                1
                for m in _read(path, tag)
                if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
            )
            result[tag] = (done, total)
    return result


#: Below this share of its messages translated, a language's interface is "not yet translated".
TRANSLATED_SHARE = 0.5


def untranslated_languages() -> frozenset[str]:
    """The registered languages whose interface is (mostly) shown in English, for want
    of translations: the switcher marks them and their pages say so.

    Counted once per app from the catalogs (:func:`catalog_coverage`), not per
    page; a language becomes "translated" with the release that ships its catalog.
    """
    ext = current_app.extensions
    if "advocacy.untranslated" not in ext:
        ext["advocacy.untranslated"] = frozenset(
            tag
            for tag, (done, total) in catalog_coverage().items()
            if total and done / total < TRANSLATED_SHARE
        )
    return ext["advocacy.untranslated"]  # type: ignore[no-any-return]


# --- Catalog maintenance -------------------------------------------------------
# pybabel's `init`, `update` and `compile` refuse locales without CLDR data
# (hmn, ksw, oj), so the catalogs of every registered language are kept with
# Babel's library functions instead; `pybabel extract` still makes the .pot.


def _catalog_path(base: Path, tag: str) -> Path:
    return base / tag / "LC_MESSAGES" / "messages.po"


def _read(path: Path, tag: str | None = None):  # type: ignore[no-untyped-def]
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        return read_po(fh, locale=tag)


def update_catalogs(base: Path) -> list[str]:
    """Merge the template into every registered language's catalog (creating it if new)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    template = _read(base / "messages.pot")
    changed = []
    for tag in registry():
        if tag == SOURCE_LANGUAGE:
            continue
        path = _catalog_path(base, tag)
        if path.exists():
            catalog = _read(path, tag)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=tag, project="advocacy")
            catalog.language_team = registry()[tag].english
        catalog.update(template, update_header_comment=False, update_creation_date=False)
        catalog.obsolete.clear()
        with path.open("wb") as fh:
            write_po(fh, catalog, width=0, omit_header=False, ignore_obsolete=True, include_previous=False)
        changed.append(tag)
    return changed


def compile_catalogs(base: Path) -> list[str]:
    """Write the .mo file of every catalog; fuzzy entries are left out."""
    from babel.messages.mofile import write_mo

    compiled = []
    for tag in registry():
        path = _catalog_path(base, tag)
        if not path.exists():
            continue
        catalog = _read(path, tag)
        with path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        compiled.append(tag)
    return compiled


#: Where user-visible strings live, and how to read them.
#: The Jinja extensions the templates use, for the string extractor (the app adds the same).
TEMPLATE_EXTENSIONS = "advocacy.fragments.FragmentCache"
EXTRACT_DIRS = (("advocacy", "python", "**.py"), ("templates", "jinja2", "**.html"))
TEMPLATE_HEADER = (
    "# Translations template for advocacy.\n"
    "# This file is distributed under the same license as the advocacy project.\n"
    "#"
)


def extract_template(root: Path) -> bytes:
    """The .pot for the code under ``root``, the same bytes on every run.

    Locations name the file but not the line, and the header carries no date,
    so the committed template changes only when strings do: an edit that
    merely moves a string does not make CI ask for a new catalog.
    """
    from io import BytesIO

    from babel.messages.catalog import Catalog
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.pofile import write_po

    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    catalog = Catalog(project="advocacy", version="0.1", msgid_bugs_address="", fuzzy=False)
    catalog.header_comment = TEMPLATE_HEADER
    for folder, method, pattern in EXTRACT_DIRS:
        for filename, lineno, message, comments, context in extract_from_dir(
            root / folder,
            method_map=[(pattern, method)],
            keywords=keywords,
            # The templates' own tags ({% cache %}): without them the extractor
            # stops at the first one and silently drops the rest of the file.
            options_map={pattern: {"extensions": TEMPLATE_EXTENSIONS}} if method == "jinja2" else None,
        ):
            catalog.add(
                message, None, [(f"{folder}/{filename}", lineno)], auto_comments=comments, context=context
            )
    out = BytesIO()
    write_po(out, catalog, width=0, sort_by_file=True, include_lineno=False)
    return b"".join(
        line
        for line in out.getvalue().splitlines(keepends=True)
        if not line.startswith(b'"POT-Creation-Date:')
    )
