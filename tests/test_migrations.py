"""The migrations build exactly the models' schema, on SQLite and PostgreSQL,
and every revision goes down and up again (SecureDrop's test_alembic.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from advocacy import create_app
from advocacy.extensions import db
from tests.conftest import create_postgresql_database, drop_postgresql_database, make_settings

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


@pytest.fixture
def empty_app(engine_name: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on a database that nothing has touched yet."""
    if engine_name == "sqlite":
        url, name = f"sqlite:///{tmp_path / 'migrations.sqlite3'}", None
    else:
        name = f"advocacy_migrations_{secrets.token_hex(4)}"
        url = create_postgresql_database(name)
    app = create_app(make_settings(url))
    try:
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        if name:
            drop_postgresql_database(name)


def _schema_differences() -> list[object]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrations_build_the_models_schema(empty_app: Flask) -> None:
    upgrade(directory=MIGRATIONS)
    assert _schema_differences() == []


def test_every_revision_goes_down_and_up(empty_app: Flask) -> None:
    upgrade(directory=MIGRATIONS)
    downgrade(directory=MIGRATIONS, revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade(directory=MIGRATIONS)
    assert _schema_differences() == []


def test_migrated_audit_table_refuses_updates(empty_app: Flask) -> None:
    """The append-only triggers come from the migration, not only from create_all."""
    upgrade(directory=MIGRATIONS)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_event (occurred_at, action, prev_hash, entry_hash) "
                "VALUES (CURRENT_TIMESTAMP, 'x', 'p', 'h')"
            )
        )
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET action = 'y'"))
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event"))


def test_the_states_revision_applies_to_a_database_holding_the_demo(empty_app: Flask) -> None:
    """0004 adds CHECK constraints and composite keys to tables that already hold a
    network with five weeks of history and two dozen cases: every row already
    keeps the rules, so the revision applies, and then the database enforces them.
    The demo is loaded by today's code at the head and the database taken back to
    0003 (without the later columns and the name index), then upgraded again: the
    day-one revision builds the name index for those cases."""
    from advocacy.demo import load_demo
    from advocacy.intake.models import Case, CaseNameKey
    from advocacy.uow import unit_of_work

    upgrade(directory=MIGRATIONS)
    with unit_of_work():
        assert load_demo() is not None
    downgrade(directory=MIGRATIONS, revision="0003")
    upgrade(directory=MIGRATIONS)
    with db.engine.connect() as conn:
        cases = conn.execute(select(func.count()).select_from(Case.__table__)).scalar()
        indexed = conn.execute(select(func.count(CaseNameKey.case_id.distinct()))).scalar()
    assert cases and indexed == cases
    assert _schema_differences() == []
    with pytest.raises(Exception, match=r"(?i)check"), db.engine.begin() as conn:
        conn.execute(text("UPDATE bed SET state = 'held' WHERE hold_id IS NULL"))
    with db.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM bed WHERE state = 'held' AND hold_id IS NULL")).scalar()
            == 0
        )
