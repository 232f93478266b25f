"""Parts of a plan as short SMS pieces in the victim's language, ready for the outbox.

:func:`plan_texts` is the one function the SMS outbox (advocacy.notify, built
on another branch) is handed: it returns the bodies, in order, each within
:data:`PIECE_SEGMENTS` segments in the encoding it will travel in
(:mod:`advocacy.notify.segments`).  It sends nothing.

Discreet by default: someone else reading the phone should learn nothing.
In the discreet style only the numbers can be texted, and each is called a
"help line", without the name of the hotline; the sections (which speak of
leaving, of the other person, of court orders) are texted only when the
advocate chooses the detailed style with the victim.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from advocacy.content.packfiles import Channel
from advocacy.content.render import inline_text
from advocacy.content.sections import Section
from advocacy.errors import Refused
from advocacy.notify.segments import SegmentInfo, measure
from advocacy.safety import content as plan_content
from advocacy.safety.guidance import PlanView, plan_view
from advocacy.safety.language import in_language, translated
from advocacy.safety.models import PlanVersion, SafetyPlan

NUMBERS = "important_numbers"
#: The most segments one piece may cost: three texts' worth, in either encoding.
PIECE_SEGMENTS = 3
#: Parts that the discreet style may text.
DISCREET_PARTS = frozenset({NUMBERS})


def parts_offered() -> list[str]:
    return [NUMBERS] + [s.value for s in Section if s.value != NUMBERS]


def _fits(text: str) -> bool:
    return measure(text).segments <= PIECE_SEGMENTS


def _split(lines: list[str]) -> list[str]:
    """Lines joined into pieces that each fit the budget; a line too long alone is cut between words."""
    pieces: list[str] = []
    current = ""
    for line in lines:
        for chunk in _cut(line):
            candidate = f"{current}\n{chunk}" if current else chunk
            if _fits(candidate):
                current = candidate
            else:
                pieces.append(current)
                current = chunk
    if current:
        pieces.append(current)
    return pieces


def _cut(line: str) -> list[str]:
    if _fits(line):
        return [line]
    out, current = [], ""
    for word in line.split(" "):
        candidate = f"{current} {word}" if current else word
        if _fits(candidate):
            current = candidate
            continue
        if current:
            out.append(current)
        while not _fits(word):  # a "word" longer than a piece (no spaces, as in Karen script)
            size = len(word) // 2
            out.append(word[:size])
            word = word[size:]
        current = word
    if current:
        out.append(current)
    return out


def _number_lines(view: PlanView, discreet: bool) -> list[str]:
    lines = [_("Numbers to keep:"), _("Emergency: 911")]
    for n in view.numbers:
        if n.channel == Channel.TEXT:
            how = _("text %(word)s to %(number)s", word=n.keyword, number=n.number)
        else:
            how = n.number
        if discreet:
            lines.append(_("Help line: %(how)s (%(hours)s)", how=how, hours=inline_text(n.hours)))
        else:
            lines.append(f"{inline_text(n.name)}: {how} ({inline_text(n.hours)})")
    for local in view.local_numbers:
        if discreet:
            lines.append(_("Help line: %(how)s (%(hours)s)", how=local.number, hours=local.hours))
        else:
            lines.append(f"{local.name}: {local.number} ({local.hours})")
    return lines


def _section_lines(view: PlanView, data: plan_content.Content, section: Section) -> list[str]:
    lines = [f"{section.label}:"]
    lines.extend(f"{line.label}: {line.text}" for line in plan_content.lines(data, section))
    if section == Section.ITEMS_TO_TAKE:
        lines.extend(f"[{'x' if i.key in data['checked'] else ' '}] {i.text}" for i in view.items)
    for block in view.guidance[section]:
        lines.extend(p for p in block.text.split("\n") if p.strip())
    return lines


def version_texts(
    version: PlanVersion, view: PlanView, parts: Iterable[str], locale: str, *, discreet: bool = True
) -> list[str]:
    chosen = [p for p in parts_offered() if p in set(parts)]
    if not chosen:
        raise Refused(_("Choose what to text."), "parts")
    if discreet and set(chosen) - DISCREET_PARTS:
        raise Refused(
            _(
                "In the discreet style only the numbers can be texted. Choose the detailed style with the person first."
            ),
            "parts",
        )
    data = plan_content.loads(version.content)
    pieces: list[str] = []
    with in_language(locale):
        for part in chosen:
            lines = (
                _number_lines(view, discreet)
                if part == NUMBERS
                else _section_lines(view, data, Section(part))
            )
            pieces.extend(_split(lines))
    return pieces


def plan_texts(plan: SafetyPlan, parts: Iterable[str], locale: str, *, discreet: bool = True) -> list[str]:
    """The SMS bodies for ``parts`` of the plan's newest version, in ``locale``: hand them to the outbox."""
    from advocacy.safety.service import version_of

    if not plan.current_version:
        raise Refused(_("Save the plan first."))
    version = version_of(plan, plan.current_version)
    view = plan_view(plan.agency_id, version.pack_keys, locale)
    return version_texts(version, view, parts, locale, discreet=discreet)


@dataclass(frozen=True)
class TextNotes:
    """What the advocate is told above the preview: the texts themselves never say it."""

    fallback_sections: tuple[str, ...]
    words_in_english: bool
    draft: bool


def notes(view: PlanView, parts: Iterable[str]) -> TextNotes:
    """English fallbacks and draft translations in the parts chosen, for the advocate's preview."""
    chosen = set(parts)
    fallback: list[str] = []
    draft = False
    for section in Section:
        if section.value not in chosen:
            continue
        shown: list[Any] = list(view.guidance[section])
        if section == Section.ITEMS_TO_TAKE:
            shown += view.items
        if section == Section.IMPORTANT_NUMBERS:
            shown += view.numbers
        if any(x.fallback for x in shown):
            fallback.append(str(section.label))
        draft = draft or any(x.draft for x in shown)
    return TextNotes(tuple(fallback), not translated("Numbers to keep:", view.locale), draft)


@dataclass(frozen=True)
class Piece:
    text: str
    info: SegmentInfo


def preview(texts: list[str]) -> list[Piece]:
    return [Piece(text, measure(text)) for text in texts]
