"""Reading an instrument file: the format, its limits, the checks that
refuse a file with the path of its first problem, and the instruments shipped
with the app.  What an instrument *means* (scoring, levels in words) is
:mod:`advocacy.intake.instruments`.

An instrument is a JSON file: questions with answer types, an optional
weighting, levels chosen by conditions, where it comes from, and every text
in each of its declared languages.  The app ships instruments whose rules are
public (``instruments/*.json``); an agency adds others, such as a licensed
Danger Assessment with its copyrighted weights, from a file.  A file is
either accepted whole or refused with the path of the first problem
(``questions[3].text.es: ...``), so an admin can fix it without guessing.

Format 1::

    {"format": 1, "key": "lethality-screen", "version": "1",
     "languages": ["en", "es"],
     "title": {"en": "...", "es": "..."}, "summary": {...},
     "source": {"citation": {...}, "url": "https://..."}, "licence": {...},
     "questions": [{"key": "q1", "number": "1", "type": "yes_no", "text": {...}, "hint": {...}},
                   {"key": "q2", "type": "choice", "text": {...},
                    "options": [{"value": "often", "label": {...}, "weight": 2}, ...]}],
     "scoring": {"weights": {"q1": 4}},
     "levels": [{"key": "high", "screened_in": true, "label": {...}, "advice": {...},
                 "when": {"any": [{"yes_any": ["q1", "q2"]},
                                  {"yes_at_least": 4, "of": ["q4", "q5", ...]},
                                  {"score_at_least": 18}]}},
                {"key": "standard", "screened_in": false, "label": {...}, "when": "otherwise"}],
     "judgment_level": "high"}
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from advocacy.intake.instruments import NO_ANSWER, Instrument, Level, Option, Question

FORMAT = 1
MAX_FILE_BYTES = 256 * 1024
MAX_QUESTIONS = 100
#: How deep ``any``/``all`` may nest: deeper is never needed, and a deeper
#: (or garbled) file must be refused with a message, not a RecursionError.
MAX_DEPTH = 8
ANSWER_TYPES = ("yes_no", "choice")
SHIPPED_DIR = Path(__file__).with_name("instruments")

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class InstrumentError(ValueError):
    """A file that is not a valid instrument; ``str()`` is the translated message."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class _TooLongNumber:
    """A number with more digits than any field takes: neither int nor text, so the reader refuses it by path."""

    def __init__(self, digits: str) -> None:
        self.digits = digits


def _bounded_int(digits: str) -> int | _TooLongNumber:
    # Python refuses to convert more than 4,300 digits (a ValueError from deep inside
    # json.loads, without a path); no field takes more than a few.
    return int(digits) if len(digits) <= 30 else _TooLongNumber(digits)


def parse(raw: bytes | str, *, shipped: bool = False) -> Instrument:
    """The instrument in ``raw``, or :class:`InstrumentError` naming the first problem."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if len(data) > MAX_FILE_BYTES:
        raise InstrumentError("", _("The file is larger than %(kb)d KB.", kb=MAX_FILE_BYTES // 1024))
    try:
        # "utf-8-sig": editors on Windows save UTF-8 with a byte order mark.
        doc = json.loads(data.decode("utf-8-sig"), parse_int=_bounded_int)
    except UnicodeDecodeError:
        raise InstrumentError("", _("The file is not UTF-8 text.")) from None
    except json.JSONDecodeError as exc:
        raise InstrumentError(
            "",
            _("The file is not valid JSON (line %(line)d, column %(col)d).", line=exc.lineno, col=exc.colno),
        ) from None
    except RecursionError:
        # json.loads recurses per bracket: thousands of "[" are not an instrument.
        raise InstrumentError("", _("The file nests lists or objects too deeply.")) from None
    except ValueError:  # anything else json.loads refuses is still the file's fault, never a 500
        raise InstrumentError("", _("The file is not valid JSON.")) from None
    return _Reader(hashlib.sha256(data).hexdigest(), shipped).instrument(doc)


class _Reader:
    def __init__(self, sha256: str, shipped: bool) -> None:
        self.sha256 = sha256
        self.shipped = shipped
        self.languages: tuple[str, ...] = ("en",)

    # Small checks, each naming its path.

    def obj(
        self, value: Any, path: str, required: set[str], optional: set[str] = frozenset()
    ) -> dict[str, Any]:  # type: ignore[assignment]
        if not isinstance(value, dict):
            raise InstrumentError(path or "(file)", _("must be an object ({ ... })."))
        for name in sorted(required):
            if name not in value:
                raise InstrumentError(_join(path, name), _("this field is missing."))
        for name in sorted(value):
            if name not in required and name not in optional:
                raise InstrumentError(_join(path, name), _("this field is not part of the format."))
        return value

    def string(self, value: Any, path: str, pattern: re.Pattern[str] | None = None, limit: int = 2000) -> str:
        if not isinstance(value, str) or not value.strip():
            raise InstrumentError(path, _("must be text that is not empty."))
        if len(value) > limit:
            raise InstrumentError(path, _("must be at most %(num)d characters.", num=limit))
        if pattern is not None and not pattern.fullmatch(value):
            raise InstrumentError(path, _("“%(value)s” is not allowed here.", value=value[:40]))
        return value

    def integer(self, value: Any, path: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InstrumentError(
                path, _("must be a whole number from %(low)d to %(high)d.", low=low, high=high)
            )
        return value

    def text(self, value: Any, path: str) -> dict[str, str]:
        if not isinstance(value, dict):
            raise InstrumentError(path, _('must give the text in each language, like {"en": "..."}.'))
        for lang in self.languages:
            if lang not in value:
                raise InstrumentError(_join(path, lang), _("the translation for this language is missing."))
        for lang in value:
            if lang not in self.languages:
                raise InstrumentError(_join(path, lang), _("this language is not listed in “languages”."))
        return {lang: self.string(value[lang], _join(path, lang)) for lang in self.languages}

    def instrument(self, doc: Any) -> Instrument:
        doc = self.obj(
            doc,
            "",
            {"format", "key", "version", "languages", "title", "summary", "source", "questions", "levels"},
            {"licence", "scoring", "judgment_level"},
        )
        if type(doc["format"]) is not int or doc["format"] != FORMAT:  # true == 1 in Python
            raise InstrumentError("format", _("this app reads format %(num)d.", num=FORMAT))
        key = self.string(doc["key"], "key", _KEY, 64)
        version = self.string(doc["version"], "version", _VERSION, 32)
        languages = doc["languages"]
        if not isinstance(languages, list) or not languages:
            raise InstrumentError("languages", _('must be a list of language tags, such as ["en", "es"].'))
        for i, lang in enumerate(languages):
            self.string(lang, f"languages[{i}]", _LANG, 35)
        if "en" not in languages:
            raise InstrumentError(
                "languages", _('must include English ("en"), the text shown when a translation is missing.')
            )
        if len(set(languages)) != len(languages):
            raise InstrumentError("languages", _("lists a language twice."))
        self.languages = tuple(languages)

        source = self.obj(doc["source"], "source", {"citation"}, {"url"})
        url = source.get("url")
        if url is not None:
            url = self.string(url, "source.url", re.compile(r"^https://\S+$"), 500)

        questions = self.questions(doc["questions"])
        keys = {q.key for q in questions}
        weights = self.weights(doc.get("scoring"), questions)
        levels = self.levels(doc["levels"], questions, keys)
        judgment = doc.get("judgment_level", next((lv.key for lv in levels if lv.screened_in), None))
        chosen = next((lv for lv in levels if lv.key == judgment), None)
        if chosen is None or not chosen.screened_in:
            raise InstrumentError("judgment_level", _("must name a level that counts as screened in."))
        return Instrument(
            key=key,
            version=version,
            languages=self.languages,
            title=self.text(doc["title"], "title"),
            summary=self.text(doc["summary"], "summary"),
            citation=self.text(source["citation"], "source.citation"),
            url=url,
            licence=self.text(doc["licence"], "licence") if "licence" in doc else None,
            questions=questions,
            weights=weights,
            levels=levels,
            judgment_level=chosen.key,
            sha256=self.sha256,
            shipped=self.shipped,
        )

    def questions(self, value: Any) -> tuple[Question, ...]:
        if not isinstance(value, list) or not value:
            raise InstrumentError("questions", _("must be a list with at least one question."))
        if len(value) > MAX_QUESTIONS:
            raise InstrumentError("questions", _("must have at most %(num)d questions.", num=MAX_QUESTIONS))
        seen: set[str] = set()
        out = []
        for i, item in enumerate(value):
            path = f"questions[{i}]"
            q = self.obj(item, path, {"key", "type", "text"}, {"number", "hint", "options"})
            key = self.string(q["key"], f"{path}.key", _KEY, 64)
            if key in seen:
                raise InstrumentError(f"{path}.key", _("“%(value)s” is used by another question.", value=key))
            seen.add(key)
            qtype = q["type"]
            if qtype not in ANSWER_TYPES:
                raise InstrumentError(
                    f"{path}.type", _("must be one of: %(types)s.", types=", ".join(ANSWER_TYPES))
                )
            options: tuple[Option, ...] = ()
            if qtype == "choice":
                options = self.options(q.get("options"), f"{path}.options")
            elif "options" in q:
                raise InstrumentError(f"{path}.options", _("only a “choice” question has options."))
            number = q.get("number", i + 1)
            if isinstance(number, int) and not isinstance(number, bool):
                number = str(number)
            out.append(
                Question(
                    key=key,
                    number=self.string(number, f"{path}.number", limit=8),
                    type=qtype,
                    text=self.text(q["text"], f"{path}.text"),
                    hint=self.text(q["hint"], f"{path}.hint") if "hint" in q else None,
                    options=options,
                )
            )
        return tuple(out)

    def options(self, value: Any, path: str) -> tuple[Option, ...]:
        if not isinstance(value, list) or len(value) < 2:
            raise InstrumentError(path, _("a “choice” question needs a list of at least two options."))
        seen: set[str] = set()
        out = []
        for i, item in enumerate(value):
            p = f"{path}[{i}]"
            o = self.obj(item, p, {"value", "label"}, {"weight"})
            v = self.string(o["value"], f"{p}.value", _KEY, 64)
            if v in seen or v == NO_ANSWER:
                raise InstrumentError(f"{p}.value", _("“%(value)s” is used by another option.", value=v))
            seen.add(v)
            weight = self.integer(o.get("weight", 0), f"{p}.weight", -100, 100)
            out.append(Option(v, self.text(o["label"], f"{p}.label"), weight))
        return tuple(out)

    def weights(self, value: Any, questions: tuple[Question, ...]) -> dict[str, int]:
        if value is None:
            return {}
        scoring = self.obj(value, "scoring", {"weights"})
        weights = scoring["weights"]
        if not isinstance(weights, dict):
            raise InstrumentError("scoring.weights", _("must be an object of question keys and numbers."))
        yes_no = {q.key for q in questions if q.type == "yes_no"}
        for name, weight in weights.items():
            if name not in yes_no:
                raise InstrumentError(
                    _join("scoring.weights", name), _("there is no yes-or-no question with this key.")
                )
            self.integer(weight, _join("scoring.weights", name), -100, 100)
        return dict(weights)

    def levels(self, value: Any, questions: tuple[Question, ...], keys: set[str]) -> tuple[Level, ...]:
        if not isinstance(value, list) or len(value) < 2:
            raise InstrumentError("levels", _("must be a list of at least two levels."))
        yes_no = {q.key for q in questions if q.type == "yes_no"}
        seen: set[str] = set()
        out = []
        for i, item in enumerate(value):
            path = f"levels[{i}]"
            lv = self.obj(item, path, {"key", "screened_in", "label", "when"}, {"advice"})
            key = self.string(lv["key"], f"{path}.key", _KEY, 32)
            if key in seen:
                raise InstrumentError(f"{path}.key", _("“%(value)s” is used by another level.", value=key))
            seen.add(key)
            if not isinstance(lv["screened_in"], bool):
                raise InstrumentError(f"{path}.screened_in", _("must be true or false."))
            last = i == len(value) - 1
            if last:
                if lv["when"] != "otherwise":
                    raise InstrumentError(f"{path}.when", _('the last level must say "otherwise".'))
            else:
                self.condition(lv["when"], f"{path}.when", yes_no, 1)
            out.append(
                Level(
                    key=key,
                    screened_in=lv["screened_in"],
                    label=self.text(lv["label"], f"{path}.label"),
                    when=lv["when"],
                    advice=self.text(lv["advice"], f"{path}.advice") if "advice" in lv else None,
                )
            )
        return tuple(out)

    def condition(self, value: Any, path: str, yes_no: set[str], depth: int) -> None:
        if depth > MAX_DEPTH:
            raise InstrumentError(path, _("conditions may nest at most %(num)d deep.", num=MAX_DEPTH))
        if value == "otherwise":
            raise InstrumentError(path, _('only the last level may say "otherwise".'))
        if not isinstance(value, dict) or not value:
            raise InstrumentError(path, _('must be a condition such as {"yes_any": ["q1"]}.'))
        if "any" in value or "all" in value:
            name = "any" if "any" in value else "all"
            self.obj(value, path, {name})
            parts = value[name]
            if not isinstance(parts, list) or not parts:
                raise InstrumentError(f"{path}.{name}", _("must be a list of conditions."))
            for i, part in enumerate(parts):
                self.condition(part, f"{path}.{name}[{i}]", yes_no, depth + 1)
        elif "yes_any" in value:
            self.obj(value, path, {"yes_any"})
            self.question_list(value["yes_any"], f"{path}.yes_any", yes_no)
        elif "yes_at_least" in value:
            self.obj(value, path, {"yes_at_least", "of"})
            of = self.question_list(value["of"], f"{path}.of", yes_no)
            self.integer(value["yes_at_least"], f"{path}.yes_at_least", 1, len(of))
        elif "score_at_least" in value:
            self.obj(value, path, {"score_at_least"})
            self.integer(value["score_at_least"], f"{path}.score_at_least", -10000, 10000)
        else:
            raise InstrumentError(
                _join(path, sorted(value)[0]),
                _("is not a condition; use any, all, yes_any, yes_at_least with of, or score_at_least."),
            )

    def question_list(self, value: Any, path: str, yes_no: set[str]) -> list[str]:
        if not isinstance(value, list) or not value:
            raise InstrumentError(path, _("must be a list of question keys."))
        for i, key in enumerate(value):
            if key not in yes_no:
                raise InstrumentError(f"{path}[{i}]", _("there is no yes-or-no question with this key."))
        return value


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


@cache
def _shipped_files() -> dict[str, tuple[Instrument, Path]]:
    found = {}
    for path in sorted(SHIPPED_DIR.glob("*.json")):
        instrument = parse(path.read_bytes(), shipped=True)
        found[instrument.ref] = (instrument, path)
    return found


def shipped() -> dict[str, Instrument]:
    """The instruments in the package, by ``key@version``; a broken one stops start-up in tests."""
    return {ref: instrument for ref, (instrument, _path) in _shipped_files().items()}


def shipped_file(ref: str) -> bytes | None:
    """A shipped instrument's file as it is: the example an agency writes its own from."""
    found = _shipped_files().get(ref)
    return found[1].read_bytes() if found else None


def shipped_keys() -> set[str]:
    return {i.key for i in shipped().values()}
