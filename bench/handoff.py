"""Paging a partner through 100,000 hand-off records: time per page, and whether it grows with the cursor.

    .venv/bin/python bench/handoff.py                      # PostgreSQL, 100,000 records, pages of 200
    .venv/bin/python bench/handoff.py --records 20000 --limit 50
    .venv/bin/python bench/handoff.py --sqlite             # the same on SQLite, in a temp file
    BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres  (the server; default shown)

One agency, one partner, one case with a consent; the records are
bulk-inserted into the model's table (bodies encrypted by their column
type, as a release stores them).  Then a partner token pages through every
record with ``GET /api/v1/handoff/?cursor=...`` in process (the whole stack:
the token guard, the audit write, decrypting the page's bodies) and each page
is timed.  It prints p50 and p95 over all pages, and over the first and last
tenth apart: with the ``(partner_id, id)`` index the two are the same, which
is what "cost independent of the cursor's position" means.  The location
guard's throughput on 10,000 summaries is ``bench/guard.py``.  Not a test:
nothing here asserts a time.  The database ``advocacy_bench_handoff`` is
dropped and made again on every run, and dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from advocacy import create_app
from advocacy.clock import now as utcnow
from advocacy.extensions import db
from advocacy.handoff import serialize, service
from advocacy.handoff.models import HandoffRecord, RecordState
from advocacy.handoff.vocabulary import EventType
from tests import factories
from tests.conftest import make_settings
from tests.helpers import CSRFClient

SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "advocacy_bench_handoff"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _database(sqlite: bool) -> tuple[str, str | None]:
    if sqlite:
        return f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3", None
    server = make_url(os.environ.get("BENCH_POSTGRES_URL", SERVER_URL))
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE}"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    engine.dispose()
    return server.set(database=DATABASE).render_as_string(hide_password=False), server.render_as_string(
        hide_password=False
    )


def run(records: int, limit: int, sqlite: bool) -> dict[str, float]:
    url, server = _database(sqlite)
    app = create_app(make_settings(url))
    app.test_client_class = CSRFClient
    try:
        with app.app_context():
            db.create_all()
            agency = factories.agency("bench")
            advocate = factories.user(agency, username="bench-advocate")
            case = factories.case(advocate)
            partner = service.create_partner(
                factories.system(agency), "Tracking", [e.value for e in EventType]
            )
            now = utcnow()
            consent = service.record_consent(
                factories.system(agency),
                case,
                partner,
                [EventType.VICTIM_CONTACTED.value],
                given_at=now - timedelta(days=1),
                means="signed_paper",
                form_reference="bench",
                expires_at=now + timedelta(days=300),
            )
            token = service.issue_token(factories.system(agency), partner).plaintext
            factories.commit()
            reference = service.victim_reference(partner, case.id)
            started = time.perf_counter()
            batch = []
            for i in range(records):
                record_id = str(uuid.uuid4())
                draft = serialize.Draft(
                    record_id=record_id,
                    event_type=EventType.VICTIM_CONTACTED,
                    event_date=now.date(),
                    partner_case_reference=f"27-CR-26-{i:06d}",
                    victim_reference=reference,
                    choices={"method": "phone"},
                    summary="Reached her after the hearing; she wants the order kept.",
                )
                body = serialize.to_bytes(dict((n, g(draft)) for n, g in serialize.AUDIENCES["partner"]))
                batch.append(
                    {
                        "uuid": record_id,
                        "schema_version": 1,
                        "agency_id": agency.id,
                        "case_id": case.id,
                        "partner_id": partner.id,
                        "consent_id": consent.id,
                        "partner_case_reference": draft.partner_case_reference,
                        "victim_reference": reference,
                        "event_type": EventType.VICTIM_CONTACTED,
                        "event_date": now.date(),
                        "choices": {"method": "phone"},
                        "summary": draft.summary,
                        "body": body.decode(),
                        "state": RecordState.RELEASED,
                        "released_at": now,
                    }
                )
                if len(batch) == 5000:
                    db.session.execute(insert(HandoffRecord), batch)
                    batch = []
            if batch:
                db.session.execute(insert(HandoffRecord), batch)
            db.session.commit()
            if server:
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            print(f"{records} records inserted in {time.perf_counter() - started:.1f} s")

            client = app.test_client()
            headers = {"Authorization": f"Bearer {token}"}
            times: list[float] = []
            cursor, seen = "", 0
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
            assert seen == records, (seen, records)
            tenth = max(1, len(times) // 10)
            figures = {
                "pages": len(times),
                "p50_ms": statistics.median(times),
                "p95_ms": _percentile(times, 0.95),
                "first_tenth_p95_ms": _percentile(times[:tenth], 0.95),
                "last_tenth_p95_ms": _percentile(times[-tenth:], 0.95),
            }
            db.session.remove()
            db.engine.dispose()
    finally:
        if server:
            engine = create_engine(server, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE}"))
            engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    figures = run(args.records, args.limit, args.sqlite)
    print(
        f"{figures['pages']:.0f} pages of {args.limit}: p50 {figures['p50_ms']:.1f} ms, "
        f"p95 {figures['p95_ms']:.1f} ms; p95 of the first tenth {figures['first_tenth_p95_ms']:.1f} ms, "
        f"of the last tenth {figures['last_tenth_p95_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()
