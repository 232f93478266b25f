"""Risk screening instruments as data: what an instrument is, how answers
are scored and a level chosen, and its conditions in words.

An instrument is data, not code: questions with answer types, an optional
weighting, levels chosen by conditions, where it comes from, and every text
in each of its declared languages.
Reading and checking such a file is :mod:`advocacy.intake.instrument_format`.

Levels are tried in order and the first whose condition holds is the result;
the last one's condition is ``"otherwise"``.  A yes-no answer is ``yes``,
``no`` or ``no_answer`` (the person chose not to answer, which never counts
as yes).  The advocate's judgment can screen a case in whatever the answers
say; it gives ``judgment_level`` and needs a reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from babel.lists import format_list
from flask_babel import format_number, get_locale, ngettext
from flask_babel import gettext as _

NO_ANSWER = "no_answer"
YES = "yes"
NO = "no"


Text = Mapping[str, str]


@dataclass(frozen=True)
class Option:
    value: str
    label: Text
    weight: int = 0


@dataclass(frozen=True)
class Question:
    key: str
    number: str
    type: str
    text: Text
    hint: Text | None = None
    options: tuple[Option, ...] = ()

    @property
    def answers(self) -> tuple[str, ...]:
        if self.type == "yes_no":
            return (YES, NO, NO_ANSWER)
        return (*(o.value for o in self.options), NO_ANSWER)


@dataclass(frozen=True)
class Level:
    key: str
    screened_in: bool
    label: Text
    when: Any
    advice: Text | None = None


@dataclass(frozen=True)
class Instrument:
    key: str
    version: str
    languages: tuple[str, ...]
    title: Text
    summary: Text
    citation: Text
    url: str | None
    licence: Text | None
    questions: tuple[Question, ...]
    weights: Mapping[str, int]
    levels: tuple[Level, ...]
    judgment_level: str
    sha256: str = ""
    shipped: bool = False
    agency_instrument_id: int | None = field(default=None, compare=False)

    @property
    def ref(self) -> str:
        return f"{self.key}@{self.version}"

    def question(self, key: str) -> Question:
        return next(q for q in self.questions if q.key == key)

    def level(self, key: str) -> Level | None:
        return next((lv for lv in self.levels if lv.key == key), None)


@dataclass(frozen=True)
class Outcome:
    score: int
    level: Level
    screened_in: bool
    by_judgment: bool


# --- scoring ----------------------------------------------------------------------------------


def score(instrument: Instrument, answers: Mapping[str, str]) -> int:
    total = 0
    for q in instrument.questions:
        answer = answers.get(q.key, NO_ANSWER)
        if q.type == "yes_no" and answer == YES:
            total += instrument.weights.get(q.key, 1)
        elif q.type == "choice":
            total += next((o.weight for o in q.options if o.value == answer), 0)
    return total


def _holds(condition: Any, answers: Mapping[str, str], total: int) -> bool:
    if condition == "otherwise":
        return True
    if "any" in condition:
        return any(_holds(c, answers, total) for c in condition["any"])
    if "all" in condition:
        return all(_holds(c, answers, total) for c in condition["all"])
    if "yes_any" in condition:
        return any(answers.get(k) == YES for k in condition["yes_any"])
    if "yes_at_least" in condition:
        return sum(1 for k in condition["of"] if answers.get(k) == YES) >= condition["yes_at_least"]
    if "score_at_least" in condition:
        return total >= condition["score_at_least"]
    raise AssertionError(condition)  # parse() admits nothing else


def check_answers(instrument: Instrument, answers: Mapping[str, str]) -> dict[str, str]:
    """Every question answered with one of its answers (``no_answer`` included)."""
    unknown = set(answers) - {q.key for q in instrument.questions}
    if unknown:
        raise ValueError("answers to questions the instrument does not have")
    for q in instrument.questions:
        if answers.get(q.key) not in q.answers:
            raise ValueError(f"question {q.key} has no valid answer")
    return dict(answers)


def evaluate(instrument: Instrument, answers: Mapping[str, str], *, judgment: bool = False) -> Outcome:
    """The level the answers reach; the advocate's judgment can only raise it to screened in."""
    total = score(instrument, answers)
    level = next(lv for lv in instrument.levels if _holds(lv.when, answers, total))
    if judgment and not level.screened_in:
        chosen = instrument.level(instrument.judgment_level)
        assert chosen is not None
        return Outcome(total, chosen, True, True)
    return Outcome(total, level, level.screened_in, False)


def weighted(instrument: Instrument) -> bool:
    """Whether points matter: a weight in the file, or a level chosen by score.

    Without either, a screen is read by its yes answers alone and its page
    need not speak of points.
    """
    if instrument.weights or any(o.weight for q in instrument.questions for o in q.options):
        return True
    return any(_uses_score(lv.when) for lv in instrument.levels)


def _uses_score(condition: Any) -> bool:
    if not isinstance(condition, dict):
        return False
    if "score_at_least" in condition:
        return True
    return any(_uses_score(c) for c in condition.get("any", condition.get("all", [])))


# --- conditions in words ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A level's condition as people read it: a sentence, and for any/all the parts under it."""

    text: str
    parts: tuple[Rule, ...] = ()


_DIGITS = re.compile(r"^[0-9]{1,6}$")


def _question_numbers(instrument: Instrument, keys: list[str]) -> str:
    """Questions as their printed numbers: a run of four or more as a range (4 to 11), else a list."""
    numbers = [instrument.question(k).number for k in keys]
    if len(numbers) >= 4 and all(_DIGITS.fullmatch(n) for n in numbers):
        first = int(numbers[0])
        if [int(n) for n in numbers] == list(range(first, first + len(numbers))):
            return f"{numbers[0]}\u2013{numbers[-1]}"
    try:
        return format_list(numbers, "standard-narrow", get_locale() or "en")
    except (KeyError, ValueError):  # a CLDR locale without this list style
        return ", ".join(numbers)


def describe(instrument: Instrument, condition: Any) -> Rule:
    """A condition of :func:`parse`'s grammar in plain words, in the UI language.

    Admins check an uploaded file against its documentation by reading this,
    so it names questions by the numbers the file prints, not by their keys.
    """
    if condition == "otherwise":
        return Rule(_("Otherwise"))
    for name in ("any", "all"):
        if name in condition:
            parts = tuple(describe(instrument, c) for c in condition[name])
            if len(parts) == 1:
                return parts[0]
            return Rule(_("Any one of these:") if name == "any" else _("All of these:"), parts)
    if "yes_any" in condition:
        keys = condition["yes_any"]
        if len(keys) == 1:
            return Rule(_("Yes to question %(number)s", number=instrument.question(keys[0]).number))
        return Rule(_("Yes to any of questions %(numbers)s", numbers=_question_numbers(instrument, keys)))
    if "yes_at_least" in condition:
        keys, least = condition["of"], condition["yes_at_least"]
        numbers = _question_numbers(instrument, keys)
        if least == len(keys):
            return Rule(_("Yes to all of questions %(numbers)s", numbers=numbers))
        return Rule(
            ngettext(
                "Yes to at least %(num)d of questions %(numbers)s",
                "Yes to at least %(num)d of questions %(numbers)s",
                least,
                numbers=numbers,
            )
        )
    if "score_at_least" in condition:
        return Rule(_("Score at least %(score)s", score=format_number(condition["score_at_least"])))
    raise AssertionError(condition)  # parse() admits nothing else


# --- texts ------------------------------------------------------------------------------------


def pick(text: Text | None, language: str) -> tuple[str, str]:
    """The text in ``language`` (or its primary language, else English) and the tag used."""
    if not text:
        return "", "en"
    if language in text:
        return text[language], language
    primary = language.split("-")[0]
    if primary in text:
        return text[primary], primary
    return text["en"], "en"


DEFAULT_INSTRUMENT = "lethality-screen"


def default_ref(instruments: list[Instrument]) -> str:
    """The instrument a new screen starts with: the lethality screen, its last version offered."""
    refs = [i.ref for i in instruments if i.key == DEFAULT_INSTRUMENT]
    return refs[-1] if refs else ""
