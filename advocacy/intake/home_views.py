"""The advocate's panels of the home page: their open cases (high danger first, with
the protocol steps still open) and their unfinished intakes.

Shown for the roles the person holds in the agency they work for now; each
panel is one indexed statement (:mod:`advocacy.intake.service.home`).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from advocacy.actor import Actor
from advocacy.core.panels import Panel, home_panel
from advocacy.intake.models import DRAFT_DAYS
from advocacy.intake.service import home
from advocacy.intake.wizard import STEP_TITLES
from advocacy.roles import Role


@home_panel
def my_open_cases(actor: Actor) -> Panel | None:
    """An advocate's own open cases: what to act on first is on top."""
    if not actor.acts_as(Role.ADVOCATE):
        return None
    return Panel(
        key="my_cases",
        title=_l("My open cases"),
        template="intake/_home_cases.html",
        context={"cases": home.my_open_cases(actor), "limit": home.HOME_LIMIT},
        order=20,
    )


@home_panel
def my_unfinished_intakes(actor: Actor) -> Panel | None:
    if not actor.acts_as(Role.ADVOCATE):
        return None
    return Panel(
        key="my_intakes",
        title=_l("My unfinished intakes"),
        template="intake/_home_intakes.html",
        context={"drafts": home.my_unfinished_intakes(actor), "step_titles": STEP_TITLES, "days": DRAFT_DAYS},
        order=30,
    )
