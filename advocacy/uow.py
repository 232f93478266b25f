"""One unit of work: a caller's transaction commits on success and rolls back on any error.

Services flush and never commit, so that a caller can put several of them
in one transaction (a court event and the reminders it plans, a hand-off
and its audit entry).  The callers are:

* every view, through :func:`install`, which wraps each view function of the
  app once, so no view has to remember to commit;
* the request guards that write (ending an idle session), and CLI commands
  and workers, with ``with unit_of_work():``.

A service that must refuse after it has written something undoes only its
own part with :func:`savepoint`, leaving the caller's transaction usable
(the audit entry of the page view that showed the refusal commits, say).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy.orm import Session, SessionTransaction

from advocacy.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """Commit what the block did, or roll all of it back if the block raises."""
    session = db.session()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    session.commit()


@contextmanager
def savepoint() -> Iterator[SessionTransaction]:
    """A part of the caller's transaction that is undone alone when it raises.

    On SQLite, :mod:`advocacy.extensions` makes sure a real transaction is
    open first (pysqlite would otherwise let the savepoint's release commit).
    """
    with db.session.begin_nested() as nested:
        yield nested


def transactional(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with unit_of_work():
            return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def install(app: Flask) -> None:
    """Run every view of the app in a unit of work (static files need none)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = transactional(view)
