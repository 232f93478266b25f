"""The sections of a safety plan, and what the victim writes in each.

The sections are the ones advocates already know from their paper templates
(MISSION.md, section 3).  Their keys are stored (in plan versions, and as the
``## <key>`` headings of the content packs), so a key never changes once
shipped; their labels are for staff and translate through Flask-Babel.

Each section holds guidance from the content packs *and* the victim's own
choices in their own words.  What those choices look like is described here
as data (:data:`SECTION_ENTRIES`, :data:`ENTRY_PARTS`) rather than as a form,
so that the plan form, the comparison of two versions, the printed plan and
the SMS pieces are all generated from one description and cannot disagree
about which fields a section has.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from advocacy.vocab import LabelledEnum


class Section(LabelledEnum):
    """A plan section, in the order a plan shows them."""

    DURING_INCIDENT = "during_incident", _l("During an incident")
    PREPARING_TO_LEAVE = "preparing_to_leave", _l("Preparing to leave")
    AFTER_LEAVING = "after_leaving", _l("At home after leaving")
    PROTECTION_ORDER = "protection_order", _l("With a protection order")
    WORK_AND_PUBLIC = "work_and_public", _l("At work and in public")
    CHILDREN = "children", _l("Children")
    TECHNOLOGY = "technology", _l("Technology and phone safety")
    EMOTIONAL_HEALTH = "emotional_health", _l("Emotional health and support")
    ITEMS_TO_TAKE = "items_to_take", _l("Items to take")
    IMPORTANT_NUMBERS = "important_numbers", _l("Important numbers")


class EntryKind(LabelledEnum):
    """The shapes a victim's own entry can take."""

    TEXT = "text", _l("Free text")
    CHECKLIST = "checklist", _l("Checklist item")
    SAFE_PERSON = "safe_person", _l("Safe person")
    CODE_WORD = "code_word", _l("Code word")
    SAFE_PLACE = "safe_place", _l("Safe place")


@dataclass(frozen=True)
class Part:
    """One input of an entry: ``multiline`` asks for a text area."""

    key: str
    label: object
    max_length: int
    multiline: bool = False


@dataclass(frozen=True)
class Entry:
    """One thing the victim may write in a section.

    ``key`` is stored with the plan, so it is stable; ``repeatable`` entries
    may be given several times (two safe people, three safe places), up to
    ``max_count``.
    """

    key: str
    kind: EntryKind
    label: object
    repeatable: bool = False
    max_count: int = 1

    @property
    def parts(self) -> tuple[Part, ...]:
        return ENTRY_PARTS[self.kind]


#: What each kind of entry is made of.  A checklist entry is one line the
#: victim adds to the pack's items (the pack's own items are ticked, not typed).
ENTRY_PARTS: dict[EntryKind, tuple[Part, ...]] = {
    EntryKind.TEXT: (Part("text", _l("In their own words"), 2000, multiline=True),),
    EntryKind.CHECKLIST: (Part("item", _l("Item"), 200),),
    EntryKind.SAFE_PERSON: (
        Part("name", _l("Name or nickname"), 120),
        Part("how_to_reach", _l("How to reach them"), 200),
    ),
    EntryKind.CODE_WORD: (
        Part("word", _l("Code word"), 80),
        Part("meaning", _l("What it means and who knows it"), 300, multiline=True),
    ),
    EntryKind.SAFE_PLACE: (
        Part("place", _l("Place (no street address needed)"), 200),
        Part("how_to_get_there", _l("How to get there"), 300, multiline=True),
    ),
}

_NOTES = "notes"


def _notes() -> Entry:
    return Entry(_NOTES, EntryKind.TEXT, _l("My own plan"))


#: The victim's own entries of each section, in the order the form shows them.
SECTION_ENTRIES: dict[Section, tuple[Entry, ...]] = {
    Section.DURING_INCIDENT: (
        Entry("safe_places", EntryKind.SAFE_PLACE, _l("Where I can go to be safer"), True, 5),
        Entry("signal_people", EntryKind.SAFE_PERSON, _l("Who I can call or signal for help"), True, 5),
        Entry("code_word", EntryKind.CODE_WORD, _l("Code word that means: call for help"), True, 3),
        _notes(),
    ),
    Section.PREPARING_TO_LEAVE: (
        Entry("safe_places", EntryKind.SAFE_PLACE, _l("Where I could stay"), True, 5),
        Entry("helpers", EntryKind.SAFE_PERSON, _l("Who could help me leave"), True, 5),
        _notes(),
    ),
    Section.AFTER_LEAVING: (
        Entry("neighbours", EntryKind.SAFE_PERSON, _l("Who can call for help if they see trouble"), True, 5),
        Entry("code_word", EntryKind.CODE_WORD, _l("Code word with family or friends"), True, 3),
        _notes(),
    ),
    Section.PROTECTION_ORDER: (
        Entry("copy_holders", EntryKind.SAFE_PERSON, _l("Who has a copy of my order"), True, 5),
        _notes(),
    ),
    Section.WORK_AND_PUBLIC: (
        Entry("work_contacts", EntryKind.SAFE_PERSON, _l("Who at work or school can help"), True, 5),
        Entry("safe_places", EntryKind.SAFE_PLACE, _l("Safer places on my way"), True, 5),
        _notes(),
    ),
    Section.CHILDREN: (
        Entry("code_word", EntryKind.CODE_WORD, _l("Code word with my children"), True, 3),
        Entry("safe_adults", EntryKind.SAFE_PERSON, _l("Adults my children can go to"), True, 5),
        Entry("safe_places", EntryKind.SAFE_PLACE, _l("Where my children can go"), True, 5),
        _notes(),
    ),
    Section.TECHNOLOGY: (_notes(),),
    Section.EMOTIONAL_HEALTH: (
        Entry("supporters", EntryKind.SAFE_PERSON, _l("People who support me"), True, 5),
        Entry("what_helps", EntryKind.TEXT, _l("What helps me feel stronger")),
        _notes(),
    ),
    Section.ITEMS_TO_TAKE: (
        Entry("own_items", EntryKind.CHECKLIST, _l("My own items"), True, 20),
        _notes(),
    ),
    Section.IMPORTANT_NUMBERS: (
        Entry("own_contacts", EntryKind.SAFE_PERSON, _l("My own important people"), True, 10),
        _notes(),
    ),
}


def entries(section: Section) -> tuple[Entry, ...]:
    """The entries of ``section``, for a form to be generated from."""
    return SECTION_ENTRIES[section]
