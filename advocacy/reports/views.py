"""The coordinator's panel of the home page: what they will see, and when.

The monthly figures come with the reports; until then the panel says so
plainly, and that a coordinator never sees a case (no admin can open one
to them), so nobody asks for what the app will not give.  No query.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from advocacy.actor import Actor
from advocacy.core.panels import Panel, home_panel
from advocacy.roles import Role


@home_panel
def coordinator(actor: Actor) -> Panel | None:
    if not actor.acts_as(Role.COORDINATOR):
        return None
    return Panel(
        key="coordinator",
        title=_l("What you will see here"),
        template="reports/_home_coordinator.html",
        order=80,
    )
