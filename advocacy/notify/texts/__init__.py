"""Every text message a victim can receive, as data, in every language.

Victim-facing SMS is content, not UI: it lives in one JSON file per locale
next to this module (``en.json``, ``es.json``...), each with its review
status, so a translation written without a native reader is shown as a
*draft* and enrolling in it asks the advocate to confirm they read it with
the victim or an interpreter.  English is the source.

File format (``format`` 1)::

    {
      "format": 1,
      "locale": "es",
      "review": {"status": "draft", "reviewer": null, "date": null, "notes": "..."},
      "confirm_words": ["C", "CONFIRMO"],
      "templates": {"code": "{program}: su clave es {code}. ...", ...}
    }

``review.status`` is ``"source"`` (English only), ``"draft"`` or
``"reviewed"`` (which needs a ``reviewer`` and an ISO ``date``).  Templates
use :meth:`str.format` names only (``{program}``); each template's names are
fixed by :data:`TEMPLATES` and must be identical in every locale, so a
discreet template can never grow a ``{court}``.  Everything is checked the
first time a text is needed (:func:`catalog`), and a mistake names the file
and the key.

Keywords: STOP, START and HELP (and their synonyms) are the carriers' and
Twilio's, the same in every language, and every template says them in
English.  Confirming attendance is ours: "C" in every language, plus words
listed per locale that mean "I confirm".  None of them may be YES or any
other opt-in, opt-out or help keyword, or a victim confirming a hearing
would be opting in or out instead.
"""

from __future__ import annotations

import json
import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

from advocacy.i18n import registry
from advocacy.notify.segments import SegmentInfo, measure

DIRECTORY = Path(__file__).resolve().parent
FORMAT = 1
SOURCE_LOCALE = "en"

ReviewStatus = Literal["source", "draft", "reviewed"]
ReplyKind = Literal["opt_out", "opt_in", "help", "confirm"]

#: Carrier and Twilio keywords (Twilio's default lists, with REVOKE and
#: OPTOUT, which the FCC's 2025 revocation rule names).  Matched on the
#: whole reply, case and surrounding punctuation ignored.
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})
RESERVED_KEYWORDS = OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS | HELP_KEYWORDS
#: The attendance confirmation every template asks for, in every language.
UNIVERSAL_CONFIRM = "C"


@dataclass(frozen=True)
class TemplateSpec:
    """What a template may say: its placeholders, its segment budget, and
    the literal keywords it must carry (carrier rules, or "Reply C")."""

    placeholders: frozenset[str]
    budget: int
    keywords: frozenset[str] = field(default_factory=frozenset)
    #: Discreet templates name no court, room, case, person or place.
    discreet: bool = True


def _spec(names: str, budget: int, keywords: str = "", discreet: bool = True) -> TemplateSpec:
    return TemplateSpec(frozenset(names.split()), budget, frozenset(keywords.split()), discreet)


#: Every template, its placeholders, its budget in segments.
TEMPLATES: dict[str, TemplateSpec] = {
    # The first text: the code to read back, and the carriers' consent notice.
    "code": _spec("program code", 1, "HELP STOP"),
    "reminder_discreet": _spec("when", 2, "C"),
    "reminder_detailed": _spec("when court room", 2, "C", discreet=False),
    "changed_discreet": _spec("when", 2, "C"),
    "changed_detailed": _spec("when court room", 2, "C", discreet=False),
    "cancelled_discreet": _spec("when", 2),
    "cancelled_detailed": _spec("when court", 2, discreet=False),
    "help": _spec("program contact", 2, "STOP START"),
    "opt_out": _spec("program", 2, "START"),
    "opt_in": _spec("program", 2, "HELP STOP"),
    "attendance_confirmed": _spec("", 2),
}
#: The longest value each placeholder may take: the segment budgets hold up
#: to these (tests render every template with them), so the forms that
#: collect a program name, a court or a room enforce them.  ``{when}`` is
#: budgeted as the locale's full date and short time ("Wednesday, September
#: 30, 2026 12:45 PM").
FIELD_LIMITS: dict[str, int] = {"program": 30, "code": 6, "court": 40, "room": 10, "contact": 25}
#: Placeholders only the detailed style may use.
DETAILED_ONLY = frozenset({"court", "room"})


class TextsError(ValueError):
    """A locale file is wrong; the message names the file and the key."""


@dataclass(frozen=True)
class Review:
    status: ReviewStatus
    reviewer: str | None
    date: date | None
    notes: str = ""

    @property
    def draft(self) -> bool:
        return self.status == "draft"


@dataclass(frozen=True)
class LocaleTexts:
    locale: str
    review: Review
    templates: Mapping[str, str]
    confirm_words: frozenset[str]


@dataclass(frozen=True)
class RenderedText:
    """A message ready to send, and what the advocate must know about it."""

    template: str
    text: str
    locale_used: str
    #: True when no person has reviewed this locale's translation.
    draft: bool
    info: SegmentInfo


# --- Loading and validation ----------------------------------------------------


def _placeholders(where: str, text: str) -> frozenset[str]:
    names = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TextsError(f"{where}: {exc}") from exc
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise TextsError(f"{where}: placeholder {{{name}}} must be a plain name")
        if spec or conversion:
            raise TextsError(f"{where}: placeholder {{{name}}} may not carry a format or conversion")
        names.add(name)
    return frozenset(names)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]+", text))


def _review(where: str, data: object, locale: str) -> Review:
    if not isinstance(data, dict):
        raise TextsError(f"{where}: review must be an object")
    status = data.get("status")
    if status not in ("source", "draft", "reviewed"):
        raise TextsError(f"{where}.status: must be source, draft or reviewed, not {status!r}")
    if (status == "source") != (locale == SOURCE_LOCALE):
        raise TextsError(f"{where}.status: only {SOURCE_LOCALE} is the source; others are draft or reviewed")
    reviewer, when = data.get("reviewer"), data.get("date")
    parsed: date | None = None
    if status == "reviewed":
        if not isinstance(reviewer, str) or not reviewer.strip():
            raise TextsError(f"{where}.reviewer: a reviewed translation names its reviewer")
        try:
            parsed = date.fromisoformat(str(when))
        except ValueError as exc:
            raise TextsError(f"{where}.date: a reviewed translation has an ISO date") from exc
    return Review(status=status, reviewer=reviewer or None, date=parsed, notes=str(data.get("notes") or ""))


def _load_file(path: Path, locale: str) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TextsError(f"{path.name}: missing (every registered language has a file)") from exc
    except json.JSONDecodeError as exc:
        raise TextsError(f"{path.name}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise TextsError(f"{path.name}: must hold an object")
    if data.get("format") != FORMAT:
        raise TextsError(f"{path.name}.format: must be {FORMAT}")
    if data.get("locale") != locale:
        raise TextsError(f"{path.name}.locale: must be {locale!r}, the file's name")
    return data


def _templates(name: str, data: object) -> dict[str, str]:
    if not isinstance(data, dict):
        raise TextsError(f"{name}.templates: must be an object")
    for key in TEMPLATES:
        if key not in data:
            raise TextsError(f"{name}.templates.{key}: missing")
    for key, text in data.items():
        if key not in TEMPLATES:
            raise TextsError(f"{name}.templates.{key}: unknown template")
        if not isinstance(text, str) or not text.strip():
            raise TextsError(f"{name}.templates.{key}: must be a non-empty string")
        if text != text.strip() or "\n" in text:
            raise TextsError(f"{name}.templates.{key}: one line, without surrounding spaces")
        spec = TEMPLATES[key]
        found = _placeholders(f"{name}.templates.{key}", text)
        if found != spec.placeholders:
            want = ", ".join(sorted(f"{{{p}}}" for p in spec.placeholders)) or "none"
            raise TextsError(f"{name}.templates.{key}: placeholders must be exactly {want} (English's)")
        if spec.discreet and found & DETAILED_ONLY:
            raise TextsError(f"{name}.templates.{key}: a discreet template names no court or room")
        absent = spec.keywords - _words(text)
        if absent:
            raise TextsError(f"{name}.templates.{key}: must say {', '.join(sorted(absent))} (a keyword)")
    return dict(data)


def _confirm_words(name: str, data: object) -> frozenset[str]:
    if not isinstance(data, list) or not all(isinstance(w, str) and w.strip() for w in data):
        raise TextsError(f"{name}.confirm_words: must be a list of words")
    words = frozenset(normalize_reply(w) for w in data)
    if normalize_reply(UNIVERSAL_CONFIRM) not in words:
        raise TextsError(
            f"{name}.confirm_words: must include {UNIVERSAL_CONFIRM!r}, which every reminder asks for"
        )
    clash = words & {normalize_reply(k) for k in RESERVED_KEYWORDS}
    if clash:
        raise TextsError(
            f"{name}.confirm_words: {', '.join(sorted(clash))} is a carrier keyword (opt-in, opt-out or help)"
        )
    return words


def load_locale(locale: str, directory: Path = DIRECTORY) -> LocaleTexts:
    """Read and check one locale's file (every rule except the comparison
    with English, which :func:`load_catalog` adds)."""
    path = directory / f"{locale}.json"
    data = _load_file(path, locale)
    name = path.name
    return LocaleTexts(
        locale=locale,
        review=_review(f"{name}.review", data.get("review"), locale),
        templates=_templates(name, data.get("templates")),
        confirm_words=_confirm_words(name, data.get("confirm_words")),
    )


def load_catalog(directory: Path = DIRECTORY, locales: list[str] | None = None) -> dict[str, LocaleTexts]:
    """Every registered locale's texts, checked.  Raises :class:`TextsError`."""
    tags = locales if locales is not None else list(registry())
    if SOURCE_LOCALE not in tags:
        raise TextsError(f"{SOURCE_LOCALE}.json: the source language must be loaded")
    catalog = {tag: load_locale(tag, directory) for tag in tags}
    extra = sorted(p.stem for p in directory.glob("*.json") if p.stem not in catalog)
    if extra and locales is None:
        raise TextsError(f"{extra[0]}.json: not a registered language (translations/languages.json)")
    return catalog


@cache
def catalog() -> dict[str, LocaleTexts]:
    """The checked texts of this installation, read once per process."""
    return load_catalog()


# --- Choosing the locale ---------------------------------------------------------


def resolve_locale(tag: str | None) -> str | None:
    """The locale whose texts serve a BCP 47 tag, or None.

    "es-MX" and "es_419" use "es"; "ar-EG" uses "ar".  A tag naming another
    script than ours ("hmn-Hmng", Pahawh Hmong) gets None, like a language
    we have no texts for: the caller asks the advocate to choose a fallback
    and confirm it, rather than silently texting a script the victim may
    not read.
    """
    if not tag:
        return None
    parts = tag.replace("_", "-").split("-")
    language = parts[0].lower()
    known = catalog()
    if language not in known:
        return None
    for sub in parts[1:]:
        if len(sub) == 4 and sub.isalpha():
            if sub.title() != registry()[language].script:
                return None
            break
    return language


# --- Rendering ---------------------------------------------------------------------

# Characters date formatters and word processors produce that cost a GSM-7
# message its encoding (Babel puts U+202F before "AM"): plain equivalents.
_PLAIN = str.maketrans(
    {
        "\u00a0": " ",
        "\u2007": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u202f": " ",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)
_BIDI_MARKS = dict.fromkeys(
    map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


def clean_value(value: object, *, rtl: bool = False) -> str:
    """A placeholder value as one plain line.

    Exotic spaces, curly quotes and dashes become their ASCII forms, control
    characters and line breaks become spaces; bidirectional marks are kept
    for a right-to-left message (they order a Latin court name inside Arabic
    text) and dropped elsewhere, where they would only cost the GSM-7
    encoding.
    """
    text = str(value).translate(_PLAIN)
    if not rtl:
        text = text.translate(_BIDI_MARKS)
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join(text.split())


def render(template: str, locale: str | None, **values: object) -> RenderedText | None:
    """The text of ``template`` in the locale serving ``locale``, or None when
    there is none (see :func:`resolve_locale`).

    Every placeholder of the template must be given; extra values are
    ignored, so a caller can pass the same values for the discreet and the
    detailed style and only the detailed one will use ``court``.
    """
    spec = TEMPLATES.get(template)
    if spec is None:
        raise KeyError(f"no SMS template {template!r}")
    used = resolve_locale(locale)
    if used is None:
        return None
    missing = spec.placeholders - values.keys()
    if missing:
        raise ValueError(f"template {template!r} needs {', '.join(sorted(missing))}")
    texts = catalog()[used]
    rtl = registry()[used].dir == "rtl"
    cleaned = {name: clean_value(values[name], rtl=rtl) for name in spec.placeholders}
    text = texts.templates[template].format(**cleaned)
    return RenderedText(
        template=template,
        text=text,
        locale_used=used,
        draft=texts.review.status == "draft",
        info=measure(text),
    )


def review(locale: str) -> Review:
    """The review status of a locale's texts (for the coverage page)."""
    return catalog()[locale].review


# --- Replies -------------------------------------------------------------------------

_ARABIC_DIACRITICS = re.compile("[\u064b-\u0652\u0670\u0640]")  # harakat, dagger alef, tatweel
_ALEF_FORMS = str.maketrans({"\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627", "\u0671": "\u0627"})
_EDGE_PUNCTUATION = ".,;:!?¡¿'\"()[]-*~_،؛؟۔။၊"


def normalize_reply(body: str) -> str:
    """A reply reduced to what a keyword match compares: width and case
    folded, Arabic vowel marks and alef forms unified, spaces collapsed,
    punctuation around it dropped ("Stop." is STOP, "c!" is C)."""
    text = unicodedata.normalize("NFKC", body or "")
    text = _ARABIC_DIACRITICS.sub("", text).translate(_ALEF_FORMS)
    text = " ".join(text.split()).strip(_EDGE_PUNCTUATION + " ")
    return text.casefold()


_RESERVED = {
    "opt_out": frozenset(normalize_reply(k) for k in OPT_OUT_KEYWORDS),
    "opt_in": frozenset(normalize_reply(k) for k in OPT_IN_KEYWORDS),
    "help": frozenset(normalize_reply(k) for k in HELP_KEYWORDS),
}


def confirm_words(locale: str) -> frozenset[str]:
    """The replies that confirm attendance for a subscription in ``locale``:
    its own words, plus English's, since every reminder says "C"."""
    known = catalog()
    used = resolve_locale(locale) or SOURCE_LOCALE
    return known[used].confirm_words | known[SOURCE_LOCALE].confirm_words


def classify_reply(body: str, locale: str) -> ReplyKind | None:
    """What an inbound text asks for, or None (it goes to the advocate's inbox).

    The whole reply must be the keyword: "stop" opts out, "please stop
    texting" reaches a person, who can act on it.
    """
    text = normalize_reply(body)
    for kind in ("opt_out", "opt_in", "help"):
        if text in _RESERVED[kind]:
            return kind  # type: ignore[return-value]
    if text in confirm_words(locale):
        return "confirm"
    return None


__all__ = [
    "FIELD_LIMITS",
    "HELP_KEYWORDS",
    "OPT_IN_KEYWORDS",
    "OPT_OUT_KEYWORDS",
    "TEMPLATES",
    "LocaleTexts",
    "RenderedText",
    "Review",
    "TemplateSpec",
    "TextsError",
    "catalog",
    "classify_reply",
    "clean_value",
    "confirm_words",
    "load_catalog",
    "load_locale",
    "normalize_reply",
    "render",
    "resolve_locale",
    "review",
]
