"""The migrations build exactly the models' schema, on SQLite and PostgreSQL,
and every revision goes down and up again (SecureDrop's test_alembic.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def _triggers_on(table: str) -> set[str]:
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"
        else:
            query = "SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal"
        return set(conn.execute(text(query), {"t": table}).scalars())


def test_migrated_handoff_records_are_frozen_as_create_all_makes_them(empty_app: Flask) -> None:
    """0015b adds the frozen-record triggers the model gives create_all, over the same columns,
    and its downgrade takes them away again."""
    import importlib.util
    import re

    from advocacy.appendonly import frozen_columns_statements
    from advocacy.handoff.models import RECORD_FROZEN_COLUMNS

    spec = importlib.util.spec_from_file_location(
        "revision_0015b", Path(MIGRATIONS) / "versions" / "0015b_frozen_handoff_records.py"
    )
    assert spec is not None and spec.loader is not None
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    assert revision.FROZEN == RECORD_FROZEN_COLUMNS

    upgrade(directory=MIGRATIONS)
    statements = frozen_columns_statements("handoff_record", RECORD_FROZEN_COLUMNS, db.engine.dialect.name)
    made = {m.group(1) for s in statements if (m := re.match(r"CREATE TRIGGER (\w+)", s))}
    assert made and _triggers_on("handoff_record") == made
    downgrade(directory=MIGRATIONS, revision="0014")
    assert _triggers_on("handoff_record") == set()


def test_migrated_audit_chains_move_their_heads_as_create_all_makes_them(empty_app: Flask) -> None:
    """0016 adds the trigger that moves a chain's head, with the model's statements, and an
    entry written after the upgrade moves its chain's head; its downgrade takes it away."""
    import importlib.util

    from advocacy.audit.models import drop_head_trigger_statements, head_trigger_statements

    spec = importlib.util.spec_from_file_location(
        "revision_0016", Path(MIGRATIONS) / "versions" / "0016_audit_head_trigger.py"
    )
    assert spec is not None and spec.loader is not None
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    dialect = db.engine.dialect.name
    assert revision.UPGRADE[dialect] == head_trigger_statements(dialect)
    assert revision.DOWNGRADE[dialect] == drop_head_trigger_statements(dialect)

    upgrade(directory=MIGRATIONS)
    assert "audit_event_moves_head" in _triggers_on("audit_event")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_chain (chain_id, length, head) VALUES (7, 1, 'genesis')"))
        conn.execute(
            text(
                "INSERT INTO audit_event (occurred_at, action, prev_hash, entry_hash, chain_id, seq) "
                "VALUES (CURRENT_TIMESTAMP, 'x', 'genesis', 'first', 7, 1)"
            )
        )
        assert conn.execute(text("SELECT head FROM audit_chain WHERE chain_id = 7")).scalar() == "first"
    downgrade(directory=MIGRATIONS, revision="0015b")
    assert "audit_event_moves_head" not in _triggers_on("audit_event")


def test_a_worker_finds_the_migrations_its_database_lacks(empty_app: Flask, caplog: Any) -> None:
    """What advocacy.serving refuses to serve: a database behind the code's head.  One
    newer than the code (a code rolled back) is served, with a warning."""
    from alembic.script import ScriptDirectory

    from advocacy import serving

    heads = set(ScriptDirectory(MIGRATIONS).get_heads())
    assert serving.missing_revisions(empty_app) == heads  # nothing applied
    upgrade(directory=MIGRATIONS, revision="0015b")
    assert serving.missing_revisions(empty_app) == heads
    upgrade(directory=MIGRATIONS)
    assert serving.missing_revisions(empty_app) == set()
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    assert serving.missing_revisions(empty_app) == set()
    assert "newer than this code" in caplog.text


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


def test_entries_written_before_the_hardening_revision_verify_as_one_legacy_chain(empty_app: Flask) -> None:
    """0005 gives every agency its own chain; what the single chain held before
    stays verifiable as the legacy chain, and new entries start the agency's own."""
    from types import SimpleNamespace

    from advocacy.audit import service
    from advocacy.uow import unit_of_work
    from tests import factories

    upgrade(directory=MIGRATIONS, revision="0004")
    nobody = SimpleNamespace(user_id=None)
    with audit_as_before_0005():
        factories.agency("north")
        with unit_of_work():
            for n in range(12):
                service.record(nobody, "case.view", "case", n)
    upgrade(directory=MIGRATIONS)
    assert_the_old_chain_verifies_and_new_entries_chain_per_agency()


@contextmanager
def audit_as_before_0005() -> Iterator[None]:
    """Audit entries as the code before 0005 wrote them: one chain, no ``chain_id`` or ``seq``."""
    import sys
    from types import SimpleNamespace

    from advocacy import clock
    from advocacy.audit import service

    def legacy_record(
        actor: Any, action: str, object_type: Any = None, object_id: Any = None, *, agency_id: Any = None
    ) -> None:
        prev = db.session.execute(
            text("SELECT entry_hash FROM audit_event ORDER BY id DESC LIMIT 1")
        ).scalar()
        event = SimpleNamespace(
            occurred_at=clock.now().replace(microsecond=0),
            actor_id=actor.user_id,
            agency_id=agency_id,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            seq=None,
        )
        values = dict(vars(event), prev_hash=prev or service.GENESIS)
        values["entry_hash"] = service._digest(values["prev_hash"], event)
        del values["seq"]
        db.session.execute(
            text(
                "INSERT INTO audit_event (occurred_at, actor_id, agency_id, action, object_type, object_id, "
                "prev_hash, entry_hash) VALUES (:occurred_at, :actor_id, :agency_id, :action, :object_type, "
                ":object_id, :prev_hash, :entry_hash)"
            ),
            values,
        )

    original = service.record
    from advocacy.shelters.service import referrals

    patched = [m for m in list(sys.modules.values()) if getattr(m, "record", None) is original]
    for module in patched:
        module.record = legacy_record  # type: ignore[attr-defined]
    limits = referrals.check_referral_limits  # 0005's referral limits are not there yet
    referrals.check_referral_limits = lambda *_args: None  # type: ignore[assignment]
    try:
        yield
    finally:
        referrals.check_referral_limits = limits  # type: ignore[assignment]
        for module in patched:
            module.record = original  # type: ignore[attr-defined]


def assert_the_old_chain_verifies_and_new_entries_chain_per_agency() -> None:
    from advocacy.audit.service import record
    from advocacy.audit.verify import LEGACY, verify_chains
    from advocacy.auth.models import Agency
    from tests.factories import system

    old = db.session.execute(text("SELECT count(*) FROM audit_event")).scalar()
    agency = db.session.scalars(select(Agency)).first()
    assert agency is not None
    record(system(agency), "case.list", agency_id=agency.id)
    db.session.commit()
    report = verify_chains()
    assert report.ok, report
    legacy = report.chain(LEGACY)
    assert legacy is not None and legacy.checked == old > 10
    mine = report.chain(f"audit:{agency.id}")
    assert mine is not None and mine.checked == 1
