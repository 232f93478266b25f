"""Which packs fit a case: the general one always, the others from what the intake recorded."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from advocacy.content.packfiles import SOURCE_LOCALE, Pack
from advocacy.vocab import LabelledEnum

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
