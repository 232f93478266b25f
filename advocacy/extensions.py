"""Every Flask extension is created here, once, and bound in ``create_app``.

Keeping them in one module avoids import cycles between blueprints and makes
the list of moving parts visible at a glance.
"""

from __future__ import annotations

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase

from advocacy.i18n import RegistryBabel

# Named constraints make Alembic revisions reproducible on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def is_postgresql() -> bool:
    """Row locks, advisory locks and upserts differ by engine; SQLite has one writer anyway."""
    return db.session.get_bind().dialect.name == "postgresql"


migrate = Migrate()
csrf = CSRFProtect()
babel = RegistryBabel()
login_manager = LoginManager()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """SQLite enforces foreign keys only when asked, per connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_transaction_before_savepoint(conn: Connection, _name: str) -> None:
    """pysqlite opens a transaction only before a write, so a SAVEPOINT sent first
    would start one of its own, and releasing it would commit everything so far
    (the caller's later rollback could not undo it).  Open the real transaction
    first, as a write transaction: a savepoint is always about to write."""
    if conn.dialect.name == "sqlite":
        dbapi_connection = conn.connection.dbapi_connection
        if dbapi_connection is not None and not dbapi_connection.in_transaction:  # type: ignore[attr-defined]
            dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[attr-defined]
