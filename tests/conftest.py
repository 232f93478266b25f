"""Fixtures: a fresh app and a clean database for every test, on every engine.

The ``app`` fixture is parametrized by engine: SQLite always (a new file per
test) and PostgreSQL when ``TEST_DATABASE_URL`` is set (the schema is created
once per run and every table is truncated after each test).  CSRF stays on:
:class:`tests.helpers.CSRFClient` adds the token the way a browser form does.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, g
from sqlalchemy import create_engine, text

from advocacy import create_app
from advocacy.clock import FrozenClock, use_clock
from advocacy.extensions import db
from config import load_settings
from tests.helpers import CSRFClient

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def _own_database_per_worker(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own on the same server
    (tests truncate after themselves, so two workers on one database would wipe each
    other).  Child processes that tests start read the environment, so it is set too."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    own = base.set(database=name).render_as_string(hide_password=False)
    os.environ["TEST_DATABASE_URL"] = own
    return own


TEST_DATABASE_URL = _own_database_per_worker(TEST_DATABASE_URL)
ENGINES = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])

_pg_schema_ready = False


def _prepare_postgresql(app: Flask) -> None:
    """Create the schema once per run (after dropping whatever a crashed run left)."""
    global _pg_schema_ready
    if _pg_schema_ready:
        return
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.create_all()
    _pg_schema_ready = True


def _truncate_postgresql(app: Flask) -> None:
    """Empty what the test wrote and restart every sequence it moved.

    Truncating all sixty-odd tables after every test cost more than most tests
    themselves; a test touches a handful, so one statement finds those (rows
    present, or a sequence advanced by a rolled-back insert) and only they are reset.
    """
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables]
        probe = " UNION ALL ".join(
            f"SELECT '{name}' FROM (SELECT 1 FROM \"{name}\" LIMIT 1) AS x"  # noqa: S608 (the models' own names)
            for name in tables
        )
        with db.engine.begin() as conn:
            filled = [row[0] for row in conn.execute(text(probe))]
            moved = [
                row[0]
                for row in conn.execute(
                    text(
                        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"
                    )
                )
            ]
            # The append-only tables refuse TRUNCATE; a superuser's replica role skips triggers.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            if filled:
                names = ", ".join(f'"{name}"' for name in filled)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for sequence in moved:
                conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
        db.engine.dispose()


_sqlite_template: str | None = None


def _sqlite_schema_into(path: str) -> None:
    """Give a test's SQLite file the schema by copying one built once per run (create_all
    on every test was a tenth of a second each, a few minutes a run)."""
    global _sqlite_template
    if _sqlite_template is None:
        template = os.path.join(tempfile.mkdtemp(prefix="advocacy-schema-"), "schema.sqlite3")
        builder = create_app(make_settings(f"sqlite:///{template}"))
        with builder.app_context():
            db.create_all()
            db.engine.dispose()
        _sqlite_template = template
    shutil.copyfile(_sqlite_template, path)


def make_settings(database_url: str, **overrides: object):  # type: ignore[no-untyped-def]
    return load_settings({"ADVOCACY_ENV": "testing", "DATABASE_URL": database_url}, **overrides)


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(engine_name: str, tmp_path: Path) -> str:
    if engine_name == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return TEST_DATABASE_URL


@pytest.fixture
def settings(database_url: str):  # type: ignore[no-untyped-def]
    return make_settings(database_url)


def _fresh_request_globals() -> None:
    """Give every test request an empty ``g``, as a served request has.

    The fixture keeps one app context pushed for the whole test (so tests can
    use the database directly), and Flask reuses a pushed app context for the
    requests of the test client: without this, Flask-Login's cached user and
    Flask-Babel's cached locale would leak from one client's request into
    another's.
    """
    for name in list(g):
        g.pop(name)


def configure_test_app(app: Flask) -> Flask:
    app.test_client_class = CSRFClient
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_globals)
    return app


@pytest.fixture
def app(settings, engine_name: str) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    sqlite_path = settings.database_url.removeprefix("sqlite:///")
    copied = (
        engine_name == "sqlite" and sqlite_path != settings.database_url and not os.path.exists(sqlite_path)
    )
    if copied:
        _sqlite_schema_into(sqlite_path)
    app = configure_test_app(create_app(settings))
    if engine_name == "postgresql":
        _prepare_postgresql(app)
    elif not copied:
        with app.app_context():
            db.create_all()
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        ctx.pop()
        if engine_name == "postgresql":
            _truncate_postgresql(app)
        else:
            with app.app_context():
                db.engine.dispose()


@pytest.fixture
def clock(app: Flask) -> Iterator[FrozenClock]:
    """The app's clock, stopped at the real time; the test sets or moves it."""
    frozen = FrozenClock()
    with use_clock(frozen):
        yield frozen


@pytest.fixture
def client(app: Flask) -> CSRFClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def other_client(app: Flask) -> CSRFClient:
    """A second browser, for tests about two people or two sessions."""
    return app.test_client()  # type: ignore[return-value]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if TEST_DATABASE_URL:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL")
    for item in items:
        if "postgresql_only" in item.keywords:
            item.add_marker(skip)


def postgresql_url_for(database: str) -> str:
    """The TEST_DATABASE_URL server, another database on it (for migration tests)."""
    from sqlalchemy.engine import make_url

    return make_url(TEST_DATABASE_URL).set(database=database).render_as_string(hide_password=False)


def create_postgresql_database(name: str) -> str:
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return postgresql_url_for(name)


def drop_postgresql_database(name: str) -> None:
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
