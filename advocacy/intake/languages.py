"""The preferred-language list: every CLDR language by its own name and its
English name, the app's eight first.

An advocate picks "Español (Spanish)" or types "Soomaali" into the list's
search instead of knowing a BCP 47 tag.  A language CLDR does not name (a
regional variety, a script variant such as ``zh-Hant-TW``) is "Other", where
any valid BCP 47 tag is accepted.  The list comes from Babel's copy of CLDR,
read once per process.
"""

from __future__ import annotations

from functools import cache

from babel import Locale, UnknownLocaleError
from babel.localedata import exists

from advocacy.i18n import registry

#: The choice that opens the free BCP 47 tag field.
OTHER = "other"


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


@cache
def language_choices() -> tuple[tuple[str, str], ...]:
    """(tag, "own name (English name)"): the app's languages, then CLDR's by English name."""
    app = registry()
    first = [(tag, _label(lang.native, lang.english)) for tag, lang in app.items()]
    english = Locale("en").languages
    rest = sorted(
        ((code, _label(_own_name(code), name)) for code, name in english.items() if "_" not in code),
        key=lambda choice: english[choice[0]].casefold(),
    )
    return (*first, *((code, label) for code, label in rest if code not in app))


@cache
def known_tags() -> frozenset[str]:
    return frozenset(tag for tag, _label in language_choices())
