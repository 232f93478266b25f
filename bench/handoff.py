"""Paging a partner through 100,000 hand-off records, and the location guard on 10,000 summaries.

    .venv/bin/python bench/handoff.py                          # PostgreSQL, 100,000 records, pages of 200
    .venv/bin/python bench/handoff.py --records 5000 --limit 50
    .venv/bin/python bench/handoff.py --sqlite                 # the same on SQLite, in a temp file
    .venv/bin/python bench/handoff.py --json bench/handoff.json
    BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres  (the server; default shown)

One agency, one case, the measured partner and ``--other-partners`` (1)
more, each with a consent and as many records, interleaved, so that the
page query must pick the partner's own rows out of a shared table (the
``(partner_id, id)`` index).  The records are made as
a release makes them (the partner serializer's bytes, the summary and body
encrypted by their column types) but written in bulk: ``COPY`` on
PostgreSQL, one multi-row INSERT per 5,000 on SQLite, so that 100,000 take
seconds, not the minutes of 100,000 releases.  Then a partner token pages
through every record with ``GET /api/v1/handoff/?cursor=...`` in process
(the whole stack: the token guard, the cursor lookup, the page query, the
audit write, decrypting the page's bodies) and each page is timed.

"Cost independent of the cursor's position" is shown three ways: p50/p95
of the first tenth of the pages against the last tenth; the first ten pages
against the last ten; and the database's own plan and timing of the page
query (``advocacy.handoff.service.pull.page_statement``, the statement the
API runs) from the start, from the middle and from the last page, with
``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL (``EXPLAIN QUERY PLAN`` on
SQLite): an index range scan that reads one page's rows wherever it starts,
never the rows before the cursor.

Last, the location guard's throughput on ``--summaries`` (10,000)
corpus-built 500-character summaries (``bench/guard.py``).  Not a test:
nothing here asserts a time.  The database (``--database``, default
``advocacy_bench_handoff``) is dropped and made again on every run, and
dropped at the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

import advocacy.models  # noqa: F401  (every model in the app's order; one domain alone can meet an import cycle)
from advocacy import create_app
from advocacy.clock import now as utcnow
from advocacy.extensions import db
from advocacy.handoff import serialize, service
from advocacy.handoff.models import HandoffRecord, RecordState
from advocacy.handoff.service.pull import page_statement
from advocacy.handoff.vocabulary import EventType
from bench.guard import measure as measure_guard
from tests import factories
from tests.conftest import make_settings
from tests.helpers import CSRFClient

SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "advocacy_bench_handoff"
BATCH = 5000
SUMMARY = "Reached her after the hearing; she wants the order kept."


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _database(sqlite: bool, name: str) -> tuple[str, str | None]:
    if sqlite:
        return f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3", None
    server = make_url(os.environ.get("BENCH_POSTGRES_URL", SERVER_URL))
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return server.set(database=name).render_as_string(hide_password=False), server.render_as_string(
        hide_password=False
    )


def _rows(count: int, partners: list[dict[str, Any]]) -> Any:
    """Each record's column values as a release stores them (before the column types bind them).

    The ``count`` records go round the partners in turn, so that one
    partner's records are interleaved with the others' as in a real table.
    """
    for i in range(count):
        fixed = partners[i % len(partners)]
        record_id = str(uuid.uuid4())
        draft = serialize.Draft(
            record_id=record_id,
            event_type=EventType.VICTIM_CONTACTED,
            event_date=fixed["released_at"].date(),
            partner_case_reference=f"27-CR-26-{i:06d}",
            victim_reference=fixed["victim_reference"],
            choices={"method": "phone"},
            summary=SUMMARY,
        )
        body = serialize.to_bytes({name: get(draft) for name, get in serialize.AUDIENCES["partner"]})
        yield {
            **fixed,
            "uuid": record_id,
            "partner_case_reference": draft.partner_case_reference,
            "event_date": draft.event_date,
            "body": body.decode(),
        }


def _copy(rows: Any) -> None:
    """PostgreSQL: COPY, each value bound by its column's type first (encryption, enums, JSON)."""
    first = next(rows, None)
    if first is None:
        return
    table = HandoffRecord.__table__
    dialect = db.engine.dialect
    names = list(first)
    processors = [table.c[n].type.bind_processor(dialect) for n in names]
    columns = ", ".join(f'"{n}"' for n in names)
    connection = db.session.connection().connection.driver_connection
    assert connection is not None
    with connection.cursor() as cursor, cursor.copy(f"COPY handoff_record ({columns}) FROM STDIN") as copy:
        for row in itertools.chain([first], rows):
            copy.write_row([p(row[n]) if p else row[n] for n, p in zip(names, processors, strict=True)])


def _insert(rows: Any) -> None:
    """SQLite: one multi-row INSERT per batch, through the column types."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            db.session.execute(insert(HandoffRecord), batch)
            batch = []
    if batch:
        db.session.execute(insert(HandoffRecord), batch)


def _explain(partner_id: int, agency_id: int, after: int | None, limit: int, postgresql: bool) -> str:
    stmt = page_statement(partner_id, agency_id, after, limit + 1)
    compiled = stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " if postgresql else "EXPLAIN QUERY PLAN "
    rows = db.session.execute(text(prefix + str(compiled))).all()
    return "\n".join(f"    {row[-1]}" for row in rows)


def run(records: int, limit: int, sqlite: bool, database: str, summaries: int, others: int) -> dict[str, Any]:
    url, server = _database(sqlite, database)
    app = create_app(make_settings(url, log_level="WARNING"))
    app.test_client_class = CSRFClient
    try:
        with app.app_context():
            db.create_all()
            agency = factories.agency("bench")
            advocate = factories.user(agency, username="bench-advocate")
            case = factories.case(advocate)
            now = utcnow()
            system = factories.system(agency)
            every_type = [e.value for e in EventType]
            partners = []
            for name in ["Tracking", *(f"Other {n}" for n in range(others))]:
                made = service.create_partner(system, name, every_type)
                consent = service.record_consent(
                    system,
                    case,
                    made,
                    [EventType.VICTIM_CONTACTED.value],
                    given_at=now - timedelta(days=1),
                    means="signed_paper",
                    form_reference="bench",
                    expires_at=now + timedelta(days=300),
                )
                partners.append((made, consent))
            partner = partners[0][0]
            token = service.issue_token(system, partner).plaintext
            factories.commit()
            partner_id, agency_id = partner.id, agency.id
            columns = [
                {
                    "schema_version": 1,
                    "agency_id": agency_id,
                    "case_id": case.id,
                    "partner_id": made.id,
                    "consent_id": consent.id,
                    "victim_reference": service.victim_reference(made, case.id),
                    "event_type": EventType.VICTIM_CONTACTED,
                    "choices": {"method": "phone"},
                    "summary": SUMMARY,
                    "state": RecordState.RELEASED,
                    "released_at": now,
                }
                for made, consent in partners
            ]
            started = time.perf_counter()
            (_insert if sqlite else _copy)(_rows(records * len(partners), columns))
            db.session.commit()
            # Statistics for the planner, as autovacuum (or a nightly ANALYZE) would have them.
            db.session.execute(text("ANALYZE handoff_record"))
            db.session.commit()
            fill_seconds = time.perf_counter() - started
            print(
                f"{records * len(partners)} records of {len(partners)} partners written in {fill_seconds:.1f} s "
                f"({'INSERT' if sqlite else 'COPY'}); the first partner pages through its {records}"
            )

            client = app.test_client()
            headers = {"Authorization": f"Bearer {token}"}
            times: list[float] = []
            cursor, seen = "", 0
            began_all = time.perf_counter()
            while True:
                began = time.perf_counter()
                response = client.get(f"/api/v1/handoff/?limit={limit}&cursor={cursor}", headers=headers)
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.data
                page = json.loads(response.data)
                seen += len(page["records"])
                if not page["next_cursor"]:
                    break
                cursor = page["next_cursor"]
            paging_seconds = time.perf_counter() - began_all
            assert seen == records, (seen, records)
            tenth = max(1, len(times) // 10)

            ids = db.session.scalars(
                page_statement(partner_id, agency_id, None, records).with_only_columns(HandoffRecord.id)
            ).all()
            assert len(ids) == records
            plans = {
                "first page": _explain(partner_id, agency_id, None, limit, not sqlite),
                "middle page": _explain(partner_id, agency_id, ids[len(ids) // 2], limit, not sqlite),
                "last page": _explain(
                    partner_id, agency_id, ids[-limit - 1] if len(ids) > limit else None, limit, not sqlite
                ),
            }
            figures: dict[str, Any] = {
                "records": records,
                "records_in_table": records * len(partners),
                "limit": limit,
                "engine": "sqlite" if sqlite else "postgresql",
                "fill_s": fill_seconds,
                "paging_s": paging_seconds,
                "pages": len(times),
                "p50_ms": statistics.median(times),
                "p95_ms": _percentile(times, 0.95),
                "first_tenth_p50_ms": statistics.median(times[:tenth]),
                "first_tenth_p95_ms": _percentile(times[:tenth], 0.95),
                "last_tenth_p50_ms": statistics.median(times[-tenth:]),
                "last_tenth_p95_ms": _percentile(times[-tenth:], 0.95),
                "first_10_pages_ms": [round(t, 2) for t in times[:10]],
                "last_10_pages_ms": [round(t, 2) for t in times[-10:]],
                "plans": plans,
            }
            db.session.remove()
            db.engine.dispose()
    finally:
        if server:
            engine = create_engine(server, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {database}"))
            engine.dispose()
    print(
        f"{figures['pages']} pages of {limit} in {paging_seconds:.1f} s: p50 {figures['p50_ms']:.1f} ms, "
        f"p95 {figures['p95_ms']:.1f} ms\n"
        f"  first tenth of the pages: p50 {figures['first_tenth_p50_ms']:.1f} ms, "
        f"p95 {figures['first_tenth_p95_ms']:.1f} ms\n"
        f"  last tenth of the pages:  p50 {figures['last_tenth_p50_ms']:.1f} ms, "
        f"p95 {figures['last_tenth_p95_ms']:.1f} ms\n"
        f"  first 10 pages (ms): {figures['first_10_pages_ms']}\n"
        f"  last 10 pages (ms):  {figures['last_10_pages_ms']}"
    )
    for where, plan in figures["plans"].items():
        print(f"The page query from the {where}:\n{plan}")
    print(f"\nThe location guard on {summaries} summaries:")
    figures["guard"] = measure_guard(summaries)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="records to page through (100,000)")
    parser.add_argument("--limit", type=int, default=200, help="records per page (200, the API's maximum)")
    parser.add_argument("--summaries", type=int, default=10_000, help="summaries for the guard (10,000)")
    parser.add_argument(
        "--other-partners",
        type=int,
        default=1,
        help="partners whose records (as many each) are interleaved with the measured one's (1)",
    )
    parser.add_argument("--sqlite", action="store_true", help="SQLite in a temp file instead of PostgreSQL")
    parser.add_argument("--database", default=DATABASE, help="PostgreSQL database to make and drop")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.records < 1 or not 1 <= args.limit <= 200 or args.other_partners < 0:
        parser.error("--records must be at least 1, --limit from 1 to 200, --other-partners 0 or more")
    figures = run(args.records, args.limit, args.sqlite, args.database, args.summaries, args.other_partners)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
