"""State machines as data: each machine is one table of its transitions.

A transition names the action (the word stored in history and audit), the
states it may start from, the state it ends in, the label people read for it
in a history, and the audit action it writes (None where the caller audits
something broader, or where nobody acted, as for an expiry).  Services look
a transition up instead of spelling states out, and a test walks every table
against the enum it moves, so a new state or action cannot be half-added.
The database holds the same rules from the other side: every state column
has a CHECK constraint on its values (:func:`advocacy.vocab.enum_column`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

S = TypeVar("S")


@dataclass(frozen=True)
class Transition(Generic[S]):
    action: str
    #: The states it may start from; ``None`` stands for "did not exist yet".
    sources: tuple[S | None, ...]
    target: S
    label: Any
    audit: str | None = None

    def starts_from(self, state: S | None) -> bool:
        return state in self.sources

    @property
    def source_values(self) -> list[Any]:
        """The stored values of the starting states, for a ``WHERE state IN (...)``."""
        return [getattr(s, "value", s) for s in self.sources if s is not None]


class Machine(Generic[S]):
    """The transitions of one kind of object, by action."""

    def __init__(self, name: str, states: type[S], transitions: Iterable[Transition[S]]) -> None:
        self.name = name
        self.states = states
        self._by_action: dict[str, Transition[S]] = {}
        for transition in transitions:
            if transition.action in self._by_action:
                raise ValueError(f"{name}: action {transition.action!r} defined twice")
            self._by_action[transition.action] = transition

    def __getitem__(self, action: str) -> Transition[S]:
        return self._by_action[action]

    def __contains__(self, action: object) -> bool:
        return action in self._by_action

    def __iter__(self) -> Any:
        return iter(self._by_action.values())

    def allows(self, action: str, state: S | None) -> bool:
        return action in self._by_action and self._by_action[action].starts_from(state)

    def label(self, action: str) -> str:
        """The action in plain words; an unknown code is shown as stored, so an old
        history row never breaks a page."""
        transition = self._by_action.get(action)
        return str(transition.label) if transition is not None else action
