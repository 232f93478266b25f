"""Two versions of a plan side by side, with what changed marked (difflib).

Each section's entries are compared as lines (:func:`advocacy.safety.content.lines`):
a line kept, removed, added or changed.  A changed line is marked word by
word, ``<del>`` on the left and ``<ins>`` on the right, and every row also
says in words what happened to it, so the change is not told by colour alone.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from advocacy.content.sections import Section
from advocacy.safety.content import Content, Line, lines

EQUAL, CHANGED, REMOVED, ADDED = "equal", "changed", "removed", "added"

_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Row:
    kind: str
    label: str
    left: Markup
    right: Markup


@dataclass(frozen=True)
class SectionChanges:
    section: Section
    rows: tuple[Row, ...]

    @property
    def changed(self) -> bool:
        return any(row.kind != EQUAL for row in self.rows)


def _marked(old: str, new: str) -> tuple[Markup, Markup]:
    """``old`` and ``new`` with the words that differ in ``<del>`` and ``<ins>``."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    left: list[Markup] = []
    right: list[Markup] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        if tag == "equal":
            left.append(escape(removed))
            right.append(escape(added))
            continue
        if removed:
            left.append(Markup("<del>%s</del>") % removed)
        if added:
            right.append(Markup("<ins>%s</ins>") % added)
    return Markup("").join(left), Markup("").join(right)


def _key(line: Line) -> str:
    return f"{line.entry.key}\x1f{line.text}"


def compare_lines(old: Sequence[Line], new: Sequence[Line]) -> list[Row]:
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(a=[_key(x) for x in old], b=[_key(x) for x in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(Row(EQUAL, x.label, escape(x.text), escape(x.text)) for x in old[i1:i2])
            continue
        left, right = list(old[i1:i2]), list(new[j1:j2])
        # A line replaced by a line of the same entry is one changed line.
        while left and right and left[0].entry.key == right[0].entry.key:
            a, b = left.pop(0), right.pop(0)
            rows.append(Row(CHANGED, b.label, *_marked(a.text, b.text)))
        rows.extend(Row(REMOVED, x.label, Markup("<del>%s</del>") % x.text, Markup("")) for x in left)
        rows.extend(Row(ADDED, x.label, Markup(""), Markup("<ins>%s</ins>") % x.text) for x in right)
    return rows


def compare(
    old: Content,
    new: Content,
    item_labels: dict[str, str] | None = None,
    sections: Iterable[Section] = Section,
) -> list[SectionChanges]:
    """Per section, the rows of both versions; ticked items are compared in "items to take"."""
    out = []
    for section in sections:
        rows = compare_lines(lines(old, section), lines(new, section))
        if section == Section.ITEMS_TO_TAKE:
            rows = _checked_rows(old, new, item_labels or {}) + rows
        if rows:
            out.append(SectionChanges(section, tuple(rows)))
    return out


def _checked_rows(old: Content, new: Content, labels: dict[str, str]) -> list[Row]:
    from flask_babel import gettext as _

    before, after = set(old.get("checked") or []), set(new.get("checked") or [])
    label = _("Ticked")
    rows = []
    for key in sorted(before | after, key=lambda k: (labels.get(k, k), k)):
        text = labels.get(key, key)
        if key in before and key in after:
            rows.append(Row(EQUAL, label, escape(text), escape(text)))
        elif key in before:
            rows.append(Row(REMOVED, label, Markup("<del>%s</del>") % text, Markup("")))
        else:
            rows.append(Row(ADDED, label, Markup(""), Markup("<ins>%s</ins>") % text))
    return rows


def has_changes(changes: Iterable[SectionChanges]) -> bool:
    return any(s.changed for s in changes)
