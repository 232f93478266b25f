"""The home page is made of panels that each domain adds for the people it concerns.

A domain registers a function that, given the actor, returns its panel (or
None when it has nothing for that person): the intake adds "my open cases",
the shelters "referrals waiting", the reminders "call the victim".  The home
page shows the panels in order and knows nothing of what is in them, so a
new domain adds a panel without touching the home page.  A panel's function
should cost one indexed query (the home page is opened all day).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from advocacy.actor import Actor


@dataclass(frozen=True)
class Panel:
    key: str
    title: Any
    #: The template that draws the panel, given ``panel`` and ``context``.
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    #: Smaller first: what needs doing now above what is for information.
    order: int = 100


PanelSource = Callable[[Actor], Panel | None]

_SOURCES: list[PanelSource] = []


def home_panel(source: PanelSource) -> PanelSource:
    """Register a panel source (a decorator, used at import by a domain's views)."""
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def panels_for(actor: Actor) -> list[Panel]:
    found = [panel for source in _SOURCES if (panel := source(actor)) is not None]
    return sorted(found, key=lambda p: (p.order, p.key))
