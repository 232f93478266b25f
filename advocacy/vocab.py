"""Fixed vocabularies whose values are stored and whose labels are translated.

Each member carries its label where it is defined::

    class BedState(LabelledEnum):
        AVAILABLE = "available", _l("Available")

so a value and the words people read for it cannot drift apart, and there is
no second mapping to keep in step.  Columns store the value (a ``StrEnum``
member is its value); the database refuses any other value through a CHECK
constraint (:func:`enum_column`).
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum as SAEnum


class LabelledEnum(enum.StrEnum):
    _label: Any

    def __new__(cls, value: str, label: Any = None) -> LabelledEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label if label is not None else value
        return member

    @property
    def label(self) -> str:
        return str(self._label)

    @property
    def lazy_label(self) -> Any:
        """The label as defined (lazily translated), for form choices built at import."""
        return self._label

    @classmethod
    def choices(cls) -> list[tuple[str, object]]:
        """``(value, lazy label)`` pairs for a form field, in declaration order."""
        return [(member.value, member._label) for member in cls]

    @classmethod
    def values(cls) -> list[str]:
        return [member.value for member in cls]


class Labels:
    """An enum's labels for one page: each value translated the first time it is shown,
    then remembered (a board of fifty beds says "Available" fifty times, translated once).

    Make one per render (a context processor does), never a module-level one:
    the language belongs to the request.  ``""`` and ``None`` are shown as nothing.
    A label once translated into a language is kept for the app's life
    (``app.extensions``, by language, vocabulary and value: interface words,
    nothing of anyone), so a page asks the catalog only for words no page has
    shown yet in its language.
    """

    __slots__ = ("_enum", "_known", "_language", "_seen")

    def __init__(self, enum_class: type[LabelledEnum]) -> None:
        self._enum = enum_class
        self._seen: dict[Any, str] = {}
        self._language: str | None = None
        self._known: dict[tuple[str, type, Any], str] | None = None

    def __call__(self, value: Any) -> str:
        try:
            return self._seen[value]
        except KeyError:
            pass
        if not value:
            label = ""
        else:
            if self._known is None:
                from flask import current_app

                from advocacy.i18n import select_language

                self._language = select_language()
                self._known = current_app.extensions.setdefault("advocacy.labels", {})
            key = (self._language or "", self._enum, value)
            found = self._known.get(key)
            if found is None:
                found = self._enum(value).label
                if len(self._known) < LABELS_KEPT:
                    self._known[key] = found
            label = found
        self._seen[value] = label
        return label


#: Translated labels kept per app at most (languages x vocabularies x values: a few thousand).
LABELS_KEPT = 20_000


def enum_column(enum_class: type[enum.StrEnum], name: str, length: int = 32) -> SAEnum:
    """A string column holding one of the enum's values, with a CHECK constraint
    named after the column (``ck_<table>_<name>``) on both engines.

    Values are stored as the members' values (not their names), and the
    Python side gets the member back.
    """
    return SAEnum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )
