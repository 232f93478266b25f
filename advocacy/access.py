"""The one place that decides who may see what.

Every query for agency-owned data goes through :func:`scoped` or
:func:`get_scoped_or_404`; a view never filters by agency on its own.  An
object of another agency is answered with 404, not 403, so that a user cannot
even learn that it exists.  Role checks for whole views use
:func:`roles_required`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute

from advocacy.auth.models import Role
from advocacy.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class AgencyOwned(Protocol):
    agency_id: Any


def agency_ids(*roles: Role) -> list[int]:
    """The agencies the current user belongs to (with one of ``roles``, if given)."""
    if not current_user.is_authenticated:
        return []
    return current_user.agency_ids(*roles)


def scoped(stmt: Select[Any], column: InstrumentedAttribute[int], *roles: Role) -> Select[Any]:
    """Restrict ``stmt`` to rows whose ``column`` is one of the user's agencies."""
    return stmt.where(column.in_(agency_ids(*roles)))


def get_scoped_or_404(model: type[T], object_id: int, *roles: Role) -> T:
    obj = db.session.scalar(
        scoped(select(model).where(model.id == object_id), model.agency_id, *roles)  # type: ignore[attr-defined]
    )
    if obj is None:
        abort(404)
    return obj


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Refuse (403) a signed-in user who holds none of ``roles`` in any agency."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated or not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator
