"""What a plan version holds, checked, and the same content as lines for comparison, print and text.

Stored shape (JSON)::

    {"sections": {"during_incident": {"safe_places": [{"place": "...", "how_to_get_there": "..."}],
                                      "notes": [{"text": "..."}]}},
     "checked": ["id_papers", "phone"]}

Sections and entries are those of :data:`advocacy.content.sections.SECTION_ENTRIES`;
``checked`` are the keys of the packs' "items to take" the victim ticked.  An
entry whose parts are all empty is not kept, and an empty section is left
out, so two saves of the same words are the same content.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from advocacy.content.sections import Entry, Section, entries
from advocacy.errors import Refused

Content = dict[str, Any]

_KEY = re.compile(r"[a-z0-9_]{1,40}")
MAX_CHECKED = 100


def empty() -> Content:
    return {"sections": {}, "checked": []}


def _entry(section: Section, key: str) -> Entry | None:
    return next((e for e in entries(section) if e.key == key), None)


def normalize(raw: Mapping[str, Any]) -> Content:
    """The content as stored: known sections and entries only, text stripped, limits kept.

    Raises :class:`Refused` naming the field (``section.entry.index.part``) of
    a text that is too long or an entry given too often.
    """
    out: Content = empty()
    sections = raw.get("sections") or {}
    for section in Section:
        given = sections.get(section.value) or {}
        kept: dict[str, list[dict[str, str]]] = {}
        for entry in entries(section):
            rows = given.get(entry.key) or []
            if isinstance(rows, Mapping):
                rows = [rows]
            clean = []
            for row in rows:
                values = {}
                for part in entry.parts:
                    value = str((row or {}).get(part.key) or "").replace("\r\n", "\n").strip()
                    if len(value) > part.max_length:
                        raise Refused(
                            _("Keep this under %(count)d characters.", count=part.max_length),
                            f"{section.value}.{entry.key}.{len(clean)}.{part.key}",
                        )
                    values[part.key] = value
                if any(values.values()):
                    clean.append(values)
            limit = entry.max_count if entry.repeatable else 1
            if len(clean) > limit:
                raise Refused(
                    _("At most %(count)d here.", count=limit), f"{section.value}.{entry.key}.{limit}"
                )
            if clean:
                kept[entry.key] = clean
        if kept:
            out["sections"][section.value] = kept
    checked = []
    for key in raw.get("checked") or []:
        if isinstance(key, str) and _KEY.fullmatch(key) and key not in checked:
            checked.append(key)
    out["checked"] = sorted(checked)[:MAX_CHECKED]
    return out


def dumps(content: Content) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def loads(text: str | None) -> Content:
    if not text:
        return empty()
    data = json.loads(text)
    return {"sections": data.get("sections") or {}, "checked": list(data.get("checked") or [])}


def rows(content: Content, section: Section | str, entry_key: str) -> list[dict[str, str]]:
    return list(((content.get("sections") or {}).get(Section(section).value) or {}).get(entry_key) or [])


def from_form(form: Mapping[str, str], checked: Iterable[str]) -> Content:
    """Content from the plan form's fields (``s.<section>.<entry>.<index>.<part>``), not yet normalized."""
    sections: dict[str, dict[str, dict[int, dict[str, str]]]] = {}
    for name, value in form.items():
        parts = name.split(".")
        if len(parts) != 5 or parts[0] != "s" or not parts[3].isdigit():
            continue
        _s, section, entry, index, part = parts
        sections.setdefault(section, {}).setdefault(entry, {}).setdefault(int(index), {})[part] = value
    return {
        "sections": {
            section: {entry: [by_index[i] for i in sorted(by_index)] for entry, by_index in found.items()}
            for section, found in sections.items()
        },
        "checked": list(checked),
    }


@dataclass(frozen=True)
class Line:
    """One thing the victim wrote, as a line: where it is (for matching) and what it says."""

    section: Section
    entry: Entry
    text: str

    @property
    def label(self) -> str:
        return str(self.entry.label)


def entry_text(entry: Entry, row: Mapping[str, str]) -> str:
    """An entry's parts in one line: "Aunt Rosa: call from a neighbour's phone"."""
    values = [row.get(part.key, "") for part in entry.parts]
    return ": ".join(v for v in values if v)


def lines(content: Content, section: Section) -> list[Line]:
    """The victim's own entries of one section, in form order."""
    out = []
    for entry in entries(section):
        for row in rows(content, section, entry.key):
            out.append(Line(section, entry, entry_text(entry, row)))
    return out
