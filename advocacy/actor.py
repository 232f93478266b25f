"""Who is acting: one small immutable value that every service receives.

A service never asks Flask who is signed in.  It is given an :class:`Actor`:

* a **user** of the browser, with every agency and role they hold and the one
  agency they are working for now (the "acting agency", chosen in the page
  header when they belong to several);
* a **partner** of the shared tracking system calling the API with a bearer
  token: its agency and the scopes of its token, and no staff role at all;
* the **system**: a worker or a CLI command, acting for one named agency, or
  for none when it does maintenance across the deployment (expiring holds,
  purging drafts), in which case it can read no agency's data through
  :mod:`advocacy.access`.

The request guard (:func:`advocacy.security.load_actor`) builds the user's
actor once per request; workers and commands build theirs explicitly.
:mod:`advocacy.access` reads roles and agencies from the actor and from
nowhere else.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from advocacy.errors import Forbidden
from advocacy.roles import Role

if TYPE_CHECKING:
    from advocacy.auth.models import User
    from advocacy.auth.service import SignedIn


class ActorKind(enum.StrEnum):
    ANONYMOUS = "anonymous"
    USER = "user"
    PARTNER = "partner"
    SYSTEM = "system"


def choose_acting_agency(agency_ids: Iterable[int], requested: int | None) -> int | None:
    """The one rule for the acting agency: the agency the person chose (kept in
    their session) while they still belong to it; otherwise the first of
    their agencies by id, which the page header shows and lets them change."""
    ids = sorted(set(agency_ids))
    if requested in ids:
        return requested
    return ids[0] if ids else None


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    #: The agency the actor works for now; None for anonymous and for
    #: deployment-wide system work.
    agency_id: int | None = None
    user_id: int | None = None
    #: (agency id, role) pairs of a user.
    memberships: frozenset[tuple[int, Role]] = field(default_factory=frozenset)
    partner_id: int | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    #: What a system actor is ("worker", "cli:expire-holds"), for logs.
    name: str = ""

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def for_user(cls, user: User | SignedIn, acting_agency_id: int | None = None) -> Actor:
        memberships = frozenset((m.agency_id, Role(m.role)) for m in user.memberships)
        return cls.of_user(user.id, memberships, acting_agency_id)

    @classmethod
    def of_user(
        cls, user_id: int, memberships: Iterable[tuple[int, Role]], acting_agency_id: int | None = None
    ) -> Actor:
        pairs = frozenset(memberships)
        return cls(
            kind=ActorKind.USER,
            user_id=user_id,
            memberships=pairs,
            agency_id=choose_acting_agency((a for a, _r in pairs), acting_agency_id),
        )

    @classmethod
    def partner(cls, partner_id: int, agency_id: int, scopes: Iterable[str]) -> Actor:
        return cls(
            kind=ActorKind.PARTNER, partner_id=partner_id, agency_id=agency_id, scopes=frozenset(scopes)
        )

    @classmethod
    def system(cls, name: str, agency_id: int | None = None) -> Actor:
        return cls(kind=ActorKind.SYSTEM, name=name, agency_id=agency_id)

    # --- questions ------------------------------------------------------------------------

    @property
    def is_user(self) -> bool:
        return self.kind is ActorKind.USER

    @property
    def is_authenticated(self) -> bool:
        return self.kind is not ActorKind.ANONYMOUS

    def agencies(self) -> list[int]:
        """Every agency the actor belongs to (a user's memberships; else its one agency)."""
        if self.kind is ActorKind.USER:
            return sorted({agency for agency, _role in self.memberships})
        return [self.agency_id] if self.agency_id is not None else []

    def roles_in(self, agency_id: int) -> frozenset[Role]:
        if self.kind is ActorKind.USER:
            return frozenset(role for agency, role in self.memberships if agency == agency_id)
        if self.kind is ActorKind.SYSTEM and agency_id == self.agency_id:
            # Trusted code of the app itself, for the agency it was started for.
            return frozenset(Role)
        return frozenset()

    def agency_ids(self, *roles: Role) -> list[int]:
        """The agencies where the actor holds one of ``roles`` (any role when none is named).

        A partner holds no staff role: it reaches its agency only where no role
        is asked for, and what it may do is said by its scopes.
        """
        if self.kind is ActorKind.USER:
            return sorted({a for a, r in self.memberships if not roles or r in roles})
        if self.agency_id is None:
            return []
        if self.kind is ActorKind.PARTNER:
            return [] if roles else [self.agency_id]
        return [self.agency_id] if self.kind is ActorKind.SYSTEM else []

    def acts_as(self, *roles: Role) -> bool:
        """Whether the actor holds one of ``roles`` in the agency it is acting for now
        (the home page's panels follow the acting agency, not every membership)."""
        return self.agency_id is not None and bool(self.roles_in(self.agency_id) & set(roles))

    def has_role(self, *roles: Role) -> bool:
        """Whether the actor holds one of ``roles`` in any of its agencies."""
        return bool(self.agency_ids(*roles))

    def agency_for(self, *roles: Role) -> int:
        """The agency something new belongs to (a case, a referral, a setting).

        The acting agency, when the actor holds one of ``roles`` there; else the
        only agency where it does.  Never a guess among several: then the person
        is asked to choose in the page header.
        """
        if self.agency_id is not None and (not roles or self.roles_in(self.agency_id) & set(roles)):
            return self.agency_id
        candidates = self.agency_ids(*roles)
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise Forbidden(_("Your role does not allow this."))
        raise Forbidden(_("Choose the agency you are working for at the top of the page, then try again."))

    def may(self, scope: str) -> bool:
        """A partner token's scope (the hand-off API)."""
        return self.kind is ActorKind.PARTNER and scope in self.scopes

    def with_agency(self, agency_id: int | None) -> Actor:
        """The same user acting for another of their agencies (the header's switcher)."""
        if self.kind is not ActorKind.USER:
            raise ValueError("only a user switches agencies")
        return Actor.of_user(self.user_id or 0, self.memberships, agency_id)


ANONYMOUS = Actor(kind=ActorKind.ANONYMOUS)
