"""The shelter network's panels of the home page.

Shelter staff (and admins) of the agency one works for now: referrals waiting
for an answer, holds ending within the hour, beds out of service, and whether
each board is stale.  Advocates: the referrals they made that wait for a
shelter or were just answered.  Each panel is one indexed statement
(:mod:`advocacy.shelters.service.home`).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from advocacy.actor import Actor
from advocacy.core.panels import Panel, home_panel
from advocacy.roles import Role
from advocacy.shelters.service import home


@home_panel
def referrals_waiting(actor: Actor) -> Panel | None:
    if not actor.acts_as(Role.SHELTER_STAFF):
        return None
    return Panel(
        key="referrals_waiting",
        title=_l("Referrals waiting for an answer"),
        template="shelters/_home_referrals_waiting.html",
        context={"referrals": home.referrals_waiting(actor)},
        order=12,
    )


@home_panel
def holds_ending(actor: Actor) -> Panel | None:
    if not actor.acts_as(Role.SHELTER_STAFF):
        return None
    return Panel(
        key="holds_ending",
        title=_l("Holds ending within the hour"),
        template="shelters/_home_holds.html",
        context={"holds": home.holds_ending_soon(actor)},
        order=14,
    )


@home_panel
def beds_out_of_service(actor: Actor) -> Panel | None:
    if not actor.acts_as(Role.SHELTER_STAFF):
        return None
    return Panel(
        key="beds_out",
        title=_l("Beds out of service"),
        template="shelters/_home_beds_out.html",
        context={"beds": home.beds_out_of_service(actor)},
        order=50,
    )


@home_panel
def boards(actor: Actor) -> Panel | None:
    """Staff see whether their boards are stale; so do admins (one panel for both)."""
    if not actor.acts_as(Role.SHELTER_STAFF, Role.ADMIN):
        return None
    return Panel(
        key="boards",
        title=_l("Are the boards up to date?"),
        template="shelters/_home_boards.html",
        context={"boards": home.board_freshness(actor)},
        order=45,
    )


@home_panel
def my_referrals(actor: Actor) -> Panel | None:
    if not actor.acts_as(Role.ADVOCATE):
        return None
    return Panel(
        key="my_referrals",
        title=_l("My referrals"),
        template="shelters/_home_my_referrals.html",
        context={"referrals": home.my_referrals(actor)},
        order=40,
    )
