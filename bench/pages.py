"""Latency of the foundation's pages, in process, on SQLite or PostgreSQL.

    .venv/bin/python bench/pages.py                     # SQLite in a temp dir
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/pages.py

Prints requests per second, p50 and p95 for each page: the cost of our own
stack (guards, session, templates, audit writes), without network or server.
Not a test: nothing here asserts a number.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

import advocacy.models  # noqa: F401  (every model in the app's order; one domain alone can meet an import cycle)
from advocacy import create_app
from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.intake.service import open_case
from tests.conftest import make_settings
from tests.factories import system
from tests.helpers import CSRFClient, login, make_agency, make_user

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))


def measure(client: CSRFClient, path: str) -> tuple[float, float, float]:
    timings = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    timings.sort()
    return 1000 / statistics.mean(timings), timings[len(timings) // 2], timings[int(len(timings) * 0.95)]


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app(make_settings(url, log_level="WARNING"))
    app.test_client_class = CSRFClient
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        db.create_all()
        agency = make_agency("bench")
        user = make_user(agency, Role.ADMIN)
        for i in range(2000):
            open_case(system(agency), agency.id, user.id, f"Person {i}", phone=f"+1218555{i:04d}")
        db.session.commit()
        client = app.test_client()
        login(client, user)
        print(f"engine: {db.engine.dialect.name}, {ROUNDS} requests per page")
        print(f"{'page':28} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
        for path in ("/healthz", "/", "/cases/", "/cases/1", "/admin/users", "/auth/account"):
            rps, p50, p95 = measure(client, path)
            print(f"{path:28} {rps:8.0f} {p50:8.2f} {p95:8.2f}")


if __name__ == "__main__":
    main()
