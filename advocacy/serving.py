"""gunicorn's settings for this app: ``gunicorn --config python:advocacy.serving``.

Only what a worker of this app needs beyond gunicorn's defaults; the
workers, the bind address and the rest stay on the command line.

A worker refuses to serve a database its migrations have not all reached
(``flask db upgrade`` forgotten before a start): the schema carries rules the
code relies on.  Since revision 0016 a trigger moves each audit chain's head,
and this code on an older database would move none, chaining every entry
after the first to a stale predecessor; the next verification would report
the chains broken.  The worker exits with gunicorn's boot-error status, so
the master stops instead of starting workers that fail in turn.  A database
newer than the code (a code rolled back) is served, with a warning: whether
that is safe is the operator's call, made when rolling back.  A database that
does not answer at the worker's start is not a reason to stop: the worker
starts, says so, and its health check reports the database unavailable.

After a worker has loaded the app, everything it holds for its life
(modules, the app, its compiled templates, SQLAlchemy's statement cache,
catalogs) is moved out of the cyclic garbage collector's generations
(:func:`gc.freeze`).  Otherwise every oldest-generation collection walks
those 170,000 objects again: about 130 ms once every hundred requests or so,
1 to 1.5 ms of CPU per request on average, paid by whichever request was
unlucky (``bench/served.py`` figures in the README).  Reference counting
still frees what a request leaves; the collector still collects the
request's own cycles; what is frozen would have lived as long as the
process anyway.  Not in ``create_app``: tests and commands make apps by
the thousand, and frozen apps would never be freed.
"""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path
from typing import Any

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

#: gunicorn's exit status for a worker that cannot boot: the master then stops.
WORKER_BOOT_ERROR = 3

log = logging.getLogger("advocacy.serving")


def missing_revisions(app: Any) -> set[str]:
    """The migrations' heads the app's database has not reached (empty: up to date,
    or newer than the code)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from advocacy.extensions import db

    script = ScriptDirectory(str(MIGRATIONS))
    with app.app_context(), db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    known = {revision.revision for revision in script.walk_revisions()}
    if current - known:
        log.warning("database revisions %s are newer than this code's", sorted(current - known))
        return set()
    reached: set[str] = set()
    for head in current:
        reached |= {revision.revision for revision in script.iterate_revisions(head, "base")}
    return set(script.get_heads()) - reached


def post_worker_init(worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    if app is not None:
        out = getattr(worker, "log", log)
        try:
            missing = missing_revisions(app)
        except Exception as exc:  # noqa: BLE001 - the database is down: /healthz says so
            # The error's kind only: a driver's message can name the host and the user.
            out.warning("the database's migrations could not be checked at start (%s)", type(exc).__name__)
            missing = set()
        if missing:
            out.error(
                "the database lacks migrations %s: run `flask db upgrade` before starting", sorted(missing)
            )
            sys.exit(WORKER_BOOT_ERROR)
    gc.freeze()
