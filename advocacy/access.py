"""The one place that decides who may see what.

Every query for agency-owned data goes through :func:`scoped` or
:func:`get_scoped`, given the :class:`~advocacy.actor.Actor` who asks; a
service never filters by agency on its own.  An object of another agency is
:class:`~advocacy.errors.NotFound`, never "forbidden", so that nobody can
even learn that it exists.

The actor of a browser request is set by a request guard
(:func:`advocacy.security.load_actor`) and read with :func:`current_actor`
by views only; services receive it as their first argument.  Role checks
for whole views use :func:`roles_required`, which stores the roles on the
view so that the navigation is derived from them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g
from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute

from advocacy.actor import ANONYMOUS, Actor
from advocacy.errors import Forbidden, NotFound
from advocacy.extensions import db
from advocacy.roles import Role

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

ACTOR_KEY = "actor"


def current_actor() -> Actor:
    """The actor of this request (anonymous before sign-in).  Views only."""
    return g.get(ACTOR_KEY) or ANONYMOUS


def scoped(actor: Actor, stmt: Select[Any], column: InstrumentedAttribute[int], *roles: Role) -> Select[Any]:
    """Restrict ``stmt`` to rows whose ``column`` is one of the actor's agencies
    where it holds one of ``roles`` (any role when none is named)."""
    return stmt.where(column.in_(actor.agency_ids(*roles)))


def get_scoped(actor: Actor, model: type[T], object_id: int, *roles: Role) -> T:
    """The object, when it belongs to one of the actor's agencies with ``roles``; else NotFound."""
    obj = db.session.scalar(
        scoped(actor, select(model).where(model.id == object_id), model.agency_id, *roles)  # type: ignore[attr-defined]
    )
    if obj is None:
        raise NotFound()
    return obj


def require_role(actor: Actor, *roles: Role) -> None:
    """For services: the actor must hold one of ``roles`` somewhere."""
    if not actor.has_role(*roles):
        raise Forbidden()


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Refuse (403) a request whose actor holds none of ``roles`` in any agency."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_actor().has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator
