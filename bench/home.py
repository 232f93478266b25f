"""The advocate's home page at 100,000 cases: p50 and p95, statements, and the plans of its panels.

    .venv/bin/python bench/home.py                          # PostgreSQL, 100,000 cases, 200 requests
    .venv/bin/python bench/home.py --cases 5000 --requests 20 --sqlite

The data is ``bench/cases.py``'s fill (three agencies, 80% of the cases in the
big one, five advocates sharing them, 20% high danger).  One of those
advocates (about 16,000 cases of their own at full size) signs in and opens
the home page; every statement it sends about cases is run again under
``EXPLAIN`` (and ``EXPLAIN ANALYZE`` on PostgreSQL).  The script exits 1 if a
plan of the "my open cases" panel uses no index or reads the whole case
table.  Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask

from advocacy import create_app
from advocacy.extensions import db
from bench.cases import (
    FULL_SCAN,
    SERVER_URL,
    analyze,
    captured,
    drop_database,
    explain,
    fill,
    percentiles,
    reset_database,
    scans,
)
from tests.conftest import make_settings
from tests.helpers import CSRFClient, login


def time_home(client: CSRFClient, rounds: int) -> tuple[float, float, float]:
    """req/s, p50 and p95 (ms) of the home page, asked for ``rounds`` times."""
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get("/")
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return percentiles(timings)


def run(app: Flask, args: argparse.Namespace) -> int:
    db.create_all()
    data = fill(args.cases)
    analyze()
    client: CSRFClient = app.test_client()  # type: ignore[assignment]
    login(client, data.advocate)
    client.get("/")  # warm up
    rps, p50, p95 = time_home(client, args.requests)
    with captured() as seen:
        assert client.get("/").status_code == 200
    engine = db.engine.dialect.name
    print(f"engine: {engine}; {data.big_cases:,} cases in the advocate's agency; {args.requests} requests")
    print("| page | req/s | p50 ms | p95 ms | statements about cases |")
    print("|---|---:|---:|---:|---:|")
    print(f"| `/` (advocate) | {rps:.0f} | {p50:.1f} | {p95:.1f} | {len(seen)} |")
    bad = 0
    for statement, parameters in seen:
        plan, ms = explain(statement, parameters)
        full = bool(FULL_SCAN[engine].search(plan))
        indexed = "Index" in plan or "INDEX" in plan
        bad += full or not indexed
        timing = f", {ms:.2f} ms" if ms is not None else ""
        print(f"- {scans(plan)}{timing}{' (READS THE WHOLE CASE TABLE)' if full else ''}")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database", default="advocacy_bench_home")
    parser.add_argument("--sqlite", action="store_true", help="run on SQLite in a temp dir instead")
    args = parser.parse_args(argv)
    server_url = os.environ.get("BENCH_POSTGRES_URL", SERVER_URL)
    url: Any = (
        f"sqlite:///{tempfile.mkdtemp()}/bench-home.sqlite3"
        if args.sqlite
        else reset_database(server_url, args.database)
    )
    app = create_app(make_settings(url, log_level="WARNING"))
    app.test_client_class = CSRFClient
    try:
        with app.app_context():
            return run(app, args)
    finally:
        if not args.sqlite:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            drop_database(server_url, args.database)


if __name__ == "__main__":
    sys.exit(main())
