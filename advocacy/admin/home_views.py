"""The agency admin's panels of the home page: accounts to look at and the audit chain.

For the agency the admin works for now.  The accounts panel costs two
statements (members, then their locks: a lock is kept by a keyed hash of the
name and cannot be joined); the audit panel reads the last checkpoint only
and never verifies.  Stale boards are the shelters' panel, shown to admins too.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from advocacy.actor import Actor
from advocacy.admin import service
from advocacy.core.panels import Panel, home_panel
from advocacy.roles import Role


@home_panel
def accounts_to_check(actor: Actor) -> Panel | None:
    if not actor.acts_as(Role.ADMIN):
        return None
    return Panel(
        key="accounts",
        title=_l("Accounts locked or never signed in"),
        template="admin/_home_accounts.html",
        context={"accounts": service.accounts_to_check(actor)},
        order=60,
    )


@home_panel
def audit_status(actor: Actor) -> Panel | None:
    if not actor.acts_as(Role.ADMIN):
        return None
    return Panel(
        key="audit",
        title=_l("Audit log verification"),
        template="admin/_home_audit.html",
        context={"check": service.last_audit_check(actor)},
        order=70,
    )
