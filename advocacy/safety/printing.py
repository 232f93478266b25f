"""The printed plan: everything the victim's paper says, in the plan's language, and nothing else.

Built once as plain data (:class:`PrintedPlan`) inside :func:`in_language`,
so that the HTML print page and the PDF say the same.  What it leaves out is
as deliberate as what it holds:

* the title is neutral ("My plan"): the paper may be found;
* the agency's name only when the advocate ticks it with the victim;
* never a shelter's name or address (local numbers and plan text are refused
  at save when they carry one, and no shelter field is read here at all);
* no mark of a draft or of an English fallback: those are told to the
  advocate on the screen (:class:`AdvocateNotes`), never on the paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from markupsafe import Markup

from advocacy.content.sections import Section
from advocacy.i18n import registry
from advocacy.safety import content as plan_content
from advocacy.safety.guidance import PlanView
from advocacy.safety.language import in_language, translated
from advocacy.safety.models import PlanVersion


@dataclass(frozen=True)
class PrintedSection:
    key: str
    title: str
    #: (lang, dir, html) of each block: a block in English inside a Somali plan says so to screen readers.
    guidance: tuple[tuple[str, str, Markup], ...]
    own: tuple[tuple[str, str], ...]
    items: tuple[tuple[str, bool], ...] = ()
    numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrintedPlan:
    locale: str
    dir: str
    title: str
    agency_name: str | None
    subtitle: str
    sections: tuple[PrintedSection, ...] = field(default_factory=tuple)

    def text(self) -> str:
        """Everything printed, as text: for tests that search the paper, and the glyph check."""
        parts = [self.title, self.agency_name or "", self.subtitle]
        for s in self.sections:
            parts.append(s.title)
            parts.extend(html.striptags() for _lang, _dir, html in s.guidance)
            parts.extend(f"{label}: {value}" for label, value in s.own)
            parts.extend(text for text, _checked in s.items)
            parts.extend(s.numbers)
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class AdvocateNotes:
    """What the advocate is told above the print preview, in their own language."""

    fallback_sections: tuple[str, ...]
    headings_in_english: bool
    draft: bool


def build(version: PlanVersion, view: PlanView, *, agency_name: str | None) -> PrintedPlan:
    locale = version.locale
    data = plan_content.loads(version.content)
    with in_language(locale):
        sections = []
        for section in Section:
            own = tuple((line.label, line.text) for line in plan_content.lines(data, section))
            guidance = tuple((b.lang, b.dir, b.html) for b in view.guidance[section])
            items: tuple[tuple[str, bool], ...] = ()
            numbers: tuple[str, ...] = ()
            if section == Section.ITEMS_TO_TAKE:
                items = tuple((item.text, item.key in data["checked"]) for item in view.items)
            if section == Section.IMPORTANT_NUMBERS:
                numbers = (
                    _("Emergency: 911"),
                    *(n.text for n in view.numbers),
                    *(f"{n.name}: {n.number} ({n.hours}; {n.languages})" for n in view.local_numbers),
                )
            if own or guidance or items or numbers:
                sections.append(PrintedSection(section.value, section.label, guidance, own, items, numbers))
        return PrintedPlan(
            locale=locale,
            dir=registry()[locale].dir,
            title=_("My plan"),
            agency_name=agency_name,
            subtitle=_("Written %(date)s", date=version.created_at.date().isoformat()),
            sections=tuple(sections),
        )


def notes(view: PlanView) -> AdvocateNotes:
    return AdvocateNotes(
        fallback_sections=tuple(s.label for s in view.fallback_sections),
        headings_in_english=not translated("My plan", view.locale),
        draft=view.has_draft,
    )
