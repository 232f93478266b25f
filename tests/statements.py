"""Counting the SQL statements a request sends, so that a page keeps its budget.

    with counted() as statements:
        client.get("/cases/")
    assert len(statements) <= 6, statements

A page that grows an N+1 query fails its test instead of growing slower in
production.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from advocacy.extensions import db


@contextmanager
def counted() -> Iterator[list[str]]:
    """The statements sent while the block runs (their SQL, for the failure message)."""
    seen: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text = statement.lstrip()
        # Transaction control and savepoints are not the page's queries.
        if not text.upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "PRAGMA")):
            seen.append(" ".join(text.split())[:200])

    engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)
