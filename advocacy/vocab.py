"""Fixed vocabularies whose values are stored and whose labels are translated.

Each domain registers its labels in :data:`LABELS`.  Labels are keyed by
class as well as value: "safety" is both a decline and an out-of-service
reason, and equal ``StrEnum`` values are equal dictionary keys.
"""

from __future__ import annotations

import enum

LABELS: dict[tuple[type, str], object] = {}


class LabelledEnum(enum.StrEnum):
    @property
    def label(self) -> str:
        return str(LABELS[type(self), self.value])

    @classmethod
    def choices(cls) -> list[tuple[str, object]]:
        """``(value, lazy label)`` pairs for a form field, in declaration order."""
        return [(member.value, LABELS[cls, member.value]) for member in cls]
