"""What the chosen packs say for a plan in its language, and the agency's local numbers, in one object.

The plan page, the printed plan and the texts all read it, so they show the
same guidance, items and numbers.  Where a pack's translation lacks a part,
the English text is given and marked ``fallback``: pages for the advocate
say so next to it; the printed page carries no such mark (it is the victim's
paper), and the advocate's note above the print preview lists what fell back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from advocacy.content.packs import ChecklistItem, GuidanceBlock, ImportantNumber, shipped
from advocacy.content.sections import Section
from advocacy.i18n import registry
from advocacy.safety.models import LocalNumber


@dataclass(frozen=True)
class PlanView:
    locale: str
    packs: tuple[str, ...]
    guidance: dict[Section, list[GuidanceBlock]]
    items: list[ChecklistItem]
    numbers: list[ImportantNumber]
    local_numbers: list[LocalNumber] = field(default_factory=list)

    @property
    def dir(self) -> str:
        language = registry().get(self.locale)
        return language.dir if language else "ltr"

    @property
    def item_labels(self) -> dict[str, str]:
        return {item.key: item.text for item in self.items}

    def _shown(self) -> list[GuidanceBlock | ChecklistItem | ImportantNumber]:
        return [b for blocks in self.guidance.values() for b in blocks] + [*self.items, *self.numbers]

    @property
    def fallback_sections(self) -> list[Section]:
        """Sections whose guidance (from some pack) is the English text instead of the plan's language."""
        out = [s for s, blocks in self.guidance.items() if any(b.fallback for b in blocks)]
        if any(i.fallback for i in self.items) and Section.ITEMS_TO_TAKE not in out:
            out.append(Section.ITEMS_TO_TAKE)
        if any(n.fallback for n in self.numbers) and Section.IMPORTANT_NUMBERS not in out:
            out.append(Section.IMPORTANT_NUMBERS)
        return [s for s in Section if s in out]

    @property
    def has_draft(self) -> bool:
        return any(b.draft for b in self._shown())


def plan_view(agency_id: int | None, packs: Iterable[str], locale: str) -> PlanView:
    from advocacy.safety.service import local_numbers

    library = shipped()
    keys = tuple(packs)
    return PlanView(
        locale=locale,
        packs=keys,
        guidance={section: library.guidance(keys, section, locale) for section in Section},
        items=library.items(keys, locale),
        numbers=library.numbers(keys, locale),
        local_numbers=local_numbers(agency_id) if agency_id is not None else [],
    )
