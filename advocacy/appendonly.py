"""Tables that only grow: the database itself refuses UPDATE and DELETE.

The audit chain and the bed-availability history are evidence; a bug or a
hand-typed query must not be able to rewrite them.  The same statements are
run by the Alembic revision that creates such a table and, through
:func:`make_append_only`, by ``metadata.create_all`` (which the tests use).
``TRUNCATE`` is not a row operation and fires no row trigger, so PostgreSQL
gets a statement-level trigger that refuses it too (SQLite has no TRUNCATE).
The test suite empties tables with triggers switched off for its session
(``session_replication_role = replica``, which needs a superuser).

Rows that are evidence but carry a state (a released hand-off record) get
:func:`make_columns_frozen` instead: what they say is refused an UPDATE, the
state columns are not.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import DDL, Table, event


def append_only_statements(table: str, dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        ]
    if dialect == "postgresql":
        return [
            f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
        ]
    raise ValueError(f"no append-only triggers for {dialect}")


def drop_append_only_statements(table: str, dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete"]
    return [f"DROP TRIGGER {table}_no_change ON {table}", f"DROP FUNCTION {table}_append_only()"]


def no_truncate_statements(table: str, dialect: str) -> list[str]:
    """A statement-level trigger refusing TRUNCATE (PostgreSQL; reuses the append-only function)."""
    if dialect != "postgresql":
        return []
    return [
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
    ]


def drop_no_truncate_statements(table: str, dialect: str) -> list[str]:
    if dialect != "postgresql":
        return []
    return [f"DROP TRIGGER {table}_no_truncate ON {table}"]


def make_append_only(table: Table) -> None:
    """Have ``create_all`` add the triggers right after it creates ``table``."""
    for dialect in ("sqlite", "postgresql"):
        statements = append_only_statements(table.name, dialect) + no_truncate_statements(table.name, dialect)
        for statement in statements:
            event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))


# --- Rows frozen once written: some columns may still move, the rest never ---------------------


def frozen_columns_statements(table: str, columns: Sequence[str], dialect: str) -> list[str]:
    """Triggers refusing an UPDATE that changes any of ``columns``, and every DELETE (and TRUNCATE).

    For tables whose rows are evidence but carry a state that moves on (a
    hand-off record is released, then delivered or withheld): the state
    columns stay writable, what the row says does not.  PostgreSQL compares
    the columns as text, because ``json`` has no equality operator.
    """
    message = f"{table} rows are frozen once written"
    if dialect == "sqlite":
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
        return [
            f"CREATE TRIGGER {table}_frozen BEFORE UPDATE ON {table} WHEN {changed} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        ]
    if dialect == "postgresql":
        changed = " OR ".join(f"OLD.{c}::text IS DISTINCT FROM NEW.{c}::text" for c in columns)
        return [
            f"CREATE OR REPLACE FUNCTION {table}_frozen() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{message}'; END; $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {table}_frozen BEFORE UPDATE ON {table} "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {table}_frozen()",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_frozen()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_frozen()",
        ]
    raise ValueError(f"no frozen-row triggers for {dialect}")


def drop_frozen_columns_statements(table: str, dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER {table}_frozen", f"DROP TRIGGER {table}_no_delete"]
    return [
        f"DROP TRIGGER {table}_no_truncate ON {table}",
        f"DROP TRIGGER {table}_no_delete ON {table}",
        f"DROP TRIGGER {table}_frozen ON {table}",
        f"DROP FUNCTION {table}_frozen()",
    ]


def make_columns_frozen(table: Table, columns: Sequence[str]) -> None:
    """Have ``create_all`` add the frozen-row triggers right after it creates ``table``."""
    unknown = set(columns) - set(table.columns.keys())
    if unknown:
        raise ValueError(f"{table.name} has no columns {sorted(unknown)}")
    for dialect in ("sqlite", "postgresql"):
        for statement in frozen_columns_statements(table.name, columns, dialect):
            event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))
