"""The preferred-language list: every CLDR language by its own name and its
English name, the app's eight first.

An advocate picks "Español (Spanish)" or types "Soomaali" into the list's
search instead of knowing a BCP 47 tag.  A language CLDR does not name (a
regional variety, a script variant such as ``zh-Hant-TW``) is "Other", where
any valid BCP 47 tag is accepted.  The names come from Babel's copy of CLDR,
written once into ``languages.json`` beside this module (``python -m
advocacy.intake.languages``): reading every CLDR locale to get each language's
own name takes seconds, too long for a request.  A test keeps the file equal
to what Babel gives.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.localedata import exists

from advocacy.i18n import registry

#: The choice that opens the free BCP 47 tag field.
OTHER = "other"
DATA_FILE = Path(__file__).with_name("languages.json")


def _own_name(code: str) -> str | None:
    """The language's name in itself, when CLDR has that locale."""
    if not exists(code):
        return None
    try:
        return Locale.parse(code).get_display_name(code)
    except (UnknownLocaleError, ValueError):
        return None


def _label(own: str | None, english: str) -> str:
    if own and own.casefold() != english.casefold():
        return f"{own} ({english})"
    return english


def cldr_languages() -> list[list[str]]:
    """[tag, own name or "", English name] of every CLDR language, by English name (slow)."""
    english = Locale("en").languages
    codes = sorted((code for code in english if "_" not in code), key=lambda c: english[c].casefold())
    return [[code, _own_name(code) or "", english[code]] for code in codes]


def write_data_file() -> None:
    rows = cldr_languages()
    DATA_FILE.write_text(
        "[\n" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n]\n", encoding="utf-8"
    )


@cache
def language_choices() -> tuple[tuple[str, str], ...]:
    """(tag, "own name (English name)"): the app's languages, then CLDR's by English name."""
    app = registry()
    first = [(tag, _label(lang.native, lang.english)) for tag, lang in app.items()]
    rows = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return (*first, *((code, _label(own, name)) for code, own, name in rows if code not in app))


@cache
def known_tags() -> frozenset[str]:
    return frozenset(tag for tag, _label in language_choices())


if __name__ == "__main__":
    write_data_file()
