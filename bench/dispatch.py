"""The SMS dispatcher on PostgreSQL: messages per second, and the claim query's plan.

    .venv/bin/python bench/dispatch.py                          # 100,000 due among 1,000,000 stored
    .venv/bin/python bench/dispatch.py --due 5000 --stored 50000 # small, for a shared machine
    .venv/bin/python bench/dispatch.py --workers 4 --latency 150 --threads 24
    BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres  (the server; default shown)

The database ``bench_dispatch`` (``--database``) is dropped and made again on
the server of ``BENCH_POSTGRES_URL``, and dropped at the end unless
``--keep``.  It holds ``--stored`` outbox rows of one agency's sender:
``--due`` reminders due now, a tenth of the rest queued for later, and the
others sent long ago (what a year of reminders leaves behind).  The rows are
written by one ``INSERT ... SELECT`` over ``generate_series`` in the server,
their encrypted template values taken from a small table of ciphertexts the
app's column type made (so every text renders as in production, each with
its own hearing time).

Each run starts ``--workers`` worker processes (spawned, as ``flask notify
work`` runs on separate machines), each with ``--threads`` sending threads
(one Twilio client each), and times them from the moment all are ready to
the last send.  The transport is the real ``twilio.rest.Client`` with an
injected ``HttpClient`` (as ``tests/twilio_fake.py``) answering 201 after
``--latency`` milliseconds; with a latency the sender's rate limit is
``--rate`` per second (100), without one it is set out of the way, so that
the figure is the dispatcher's own.  Between runs the due rows are queued
again and the table vacuumed.  At 150 ms a thread sends at most about 6.7
texts a second, so the printed ceiling (threads x workers / latency) says
when the threads, not the dispatcher, are the limit.  "busiest second" is
the most requests in any sliding one-second window (at most the rate + 1);
"slots missed" counts sends that would have left more than 0.9 of a slot
(at least 10 ms) late and reserved a new slot instead.

Before the runs the script prints ``EXPLAIN (ANALYZE, BUFFERS)`` of the
claim's query (:func:`advocacy.notify.service.claim.due_statement`, the
statement the workers send) and the sizes of the table and of the partial
index it reads (queued rows only), and exits 1 when the plan does not scan
that index.  Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from twilio.http import HttpClient
from twilio.http.response import Response

from advocacy.notify.cli import DEFAULT_THREADS

SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DUE_SOURCE = "bench_due"
#: Distinct template values (hearing times), so texts differ as real ones do.
DISTINCT_PARAMS = 1000
#: Cases, each with one confirmed subscription the rows are spread over.
SUBSCRIPTIONS = 200
UNLIMITED_RATE = 1_000_000.0


# --- the database -----------------------------------------------------------------------------


def reset_database(server_url: str, name: str) -> str:
    """Drop and create ``name`` on the server; return its URL."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_app(url: str, key: str) -> Any:
    """The app on ``url`` with the encryption key every process of the run shares."""
    import advocacy.models  # noqa: F401  (every model in the app's order; one domain alone can meet an import cycle)
    from advocacy import create_app
    from config import load_settings

    env = {"ADVOCACY_ENV": "testing", "DATABASE_URL": url, "ADVOCACY_ENCRYPTION_KEYS": key}
    return create_app(load_settings(env, log_level="WARNING"))


def fill(due: int, stored: int) -> dict[str, float]:
    """The agency, its sender, cases with confirmed numbers (through the
    models), then ``stored`` outbox rows in one statement.  Seconds taken."""
    from advocacy import clock
    from advocacy.extensions import db
    from advocacy.intake import service as intake
    from advocacy.notify.models import OutboxMessage, SmsSender, Subscription, SubscriptionState
    from advocacy.roles import Role
    from tests import factories, twilio_fake
    from tests.helpers import make_agency, make_user

    started = time.perf_counter()
    agency = make_agency("bench-sms", "Bench SMS")
    owner = make_user(agency, Role.ADVOCATE, "bench-sms-advocate")
    system = factories.system(agency)
    now = clock.now()
    db.session.add(
        SmsSender(
            agency_id=agency.id,
            program_name="Reminders",
            help_contact="",
            messaging_service_sid=twilio_fake.SERVICE_SID,
            rate_per_second=UNLIMITED_RATE,
            quiet_start=0,
            quiet_end=0,
        )
    )
    subs: list[int] = []
    for i in range(SUBSCRIPTIONS):
        case = intake.open_case(system, agency.id, owner.id, f"Bench {i:04d}", phone=f"+1218555{i:04d}")
        sub = Subscription(
            agency_id=agency.id,
            case_id=case.id,
            phone=f"+1218555{i:04d}",
            phone_hash=f"{i:064d}",
            locale="en",
            time_zone="America/Chicago",
            quiet_start=0,
            quiet_end=0,
            state=SubscriptionState.CONFIRMED,
            confirmed_at=now,
        )
        db.session.add(sub)
        db.session.flush()
        subs.append(sub.id)
    # Ciphertexts as the column type writes them, for the server to reuse.
    encrypt = OutboxMessage.__table__.c.params.type.process_bind_param
    base = now + timedelta(days=3)
    db.session.execute(text("CREATE TABLE bench_params (k integer PRIMARY KEY, params text NOT NULL)"))
    db.session.execute(
        text("INSERT INTO bench_params (k, params) VALUES (:k, :params)"),
        [
            {
                "k": k,
                "params": encrypt(
                    f'{{"starts_at": "{(base + timedelta(minutes=k)).isoformat()}"}}', db.engine.dialect
                ),
            }
            for k in range(DISTINCT_PARAMS)
        ],
    )
    db.session.commit()
    people = time.perf_counter() - started

    started = time.perf_counter()
    later = max(0, (stored - due) // 10)
    db.session.execute(
        text(
            """
            INSERT INTO sms_outbox (agency_id, subscription_id, kind, params, planned_at, send_after,
                                    valid_until, source_type, source_id, state, attempts, provider_sid,
                                    provider_status, segments, sent_at, created_at)
            SELECT :agency, :first_sub + (g % :subs), 'reminder', p.params, t.at, t.at,
                   t.at + interval '1 day',
                   CASE WHEN g <= :due THEN :due_source ELSE 'court_event' END, g,
                   CASE WHEN g <= :due + :later THEN 'queued' ELSE 'delivered' END, 0,
                   CASE WHEN g > :due + :later THEN 'SM' || md5(g::text) END,
                   CASE WHEN g > :due + :later THEN 'delivered' END,
                   CASE WHEN g > :due + :later THEN 1 END,
                   CASE WHEN g > :due + :later THEN t.at END,
                   :now
            FROM generate_series(1, :stored) AS g
            JOIN bench_params AS p ON p.k = g % :distinct
            CROSS JOIN LATERAL (
                SELECT CASE
                    WHEN g <= :due THEN :now - (:due - g + 1) * interval '1 millisecond'
                    WHEN g <= :due + :later THEN :now + interval '1 day' + g * interval '1 second'
                    ELSE :now - interval '400 days' + g * interval '20 seconds'
                END AS at
            ) AS t
            """
        ),
        {
            "agency": agency.id,
            "first_sub": subs[0],
            "subs": len(subs),
            "due": due,
            "later": later,
            "stored": stored,
            "distinct": DISTINCT_PARAMS,
            "due_source": DUE_SOURCE,
            "now": now,
        },
    )
    db.session.commit()
    rows = time.perf_counter() - started
    started = time.perf_counter()
    vacuum()
    return {"people": people, "rows": rows, "vacuum": time.perf_counter() - started}


def vacuum() -> None:
    from advocacy.extensions import db

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE sms_outbox"))


def queue_again(rate: float) -> None:
    """The due rows back to ``queued``, the sender's rate and its slot reset."""
    from advocacy.extensions import db

    db.session.execute(
        text(
            """
            UPDATE sms_outbox SET state = 'queued', attempts = 0, claimed_by = NULL, claimed_at = NULL,
                   lease_until = NULL, provider_sid = NULL, provider_status = NULL, error_code = NULL,
                   segments = NULL, sent_at = NULL, updated_at = NULL
            WHERE source_type = :source
            """
        ),
        {"source": DUE_SOURCE},
    )
    db.session.execute(text("UPDATE sms_sender SET rate_per_second = :rate"), {"rate": rate})
    db.session.execute(text("DELETE FROM sms_send_rate"))
    db.session.commit()
    vacuum()


def counts() -> dict[str, int]:
    from advocacy.extensions import db

    return dict(db.session.execute(text("SELECT state, count(*) FROM sms_outbox GROUP BY state")).all())  # type: ignore[arg-type]


# --- the claim's plan -------------------------------------------------------------------------


def claim_plan(batch: int) -> tuple[str, bool]:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the claim's query, in a transaction
    rolled back (the query locks what it finds); and whether it scans the
    partial index of queued rows."""
    from advocacy import clock
    from advocacy.extensions import db
    from advocacy.notify.service.claim import due_statement

    compiled = due_statement(clock.now(), batch).compile(dialect=postgresql.dialect())
    params = {
        key: (value.value if hasattr(value, "value") else value) for key, value in compiled.params.items()
    }
    with db.engine.connect() as conn:
        lines = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), params).scalars().all()
        conn.rollback()
    plan = "\n".join(lines)
    return plan, "Index Scan using ix_sms_outbox_due" in plan


def sizes() -> str:
    from advocacy.extensions import db

    row = db.session.execute(
        text(
            "SELECT pg_size_pretty(pg_relation_size('sms_outbox')), "
            "pg_size_pretty(pg_relation_size('ix_sms_outbox_due')), "
            "(SELECT count(*) FROM sms_outbox WHERE state = 'queued')"
        )
    ).one()
    return f"table sms_outbox {row[0]}; partial index ix_sms_outbox_due {row[1]} (holds the {row[2]:,} queued rows only)"


# --- the workers --------------------------------------------------------------------------------


class SlowTwilio(HttpClient):
    """Twilio's Messages create, answered 201 after ``latency`` seconds; keeps
    the wall time of each request (for the rate check) and nothing else."""

    def __init__(self, latency: float) -> None:
        super().__init__(logger=None, is_async=False, timeout=None)  # type: ignore[arg-type]
        self.latency = latency
        self.times: list[float] = []

    def request(self, method: str, uri: str, params: Any = None, data: Any = None, **_kw: Any) -> Response:
        from advocacy.notify.transport import fake_sid
        from tests import twilio_fake

        self.times.append(time.time())
        if self.latency:
            time.sleep(self.latency)
        data = data or {}
        return twilio_fake.created(sid=fake_sid(), to=data.get("To", ""), body=data.get("Body", ""))


def worker_process(
    url: str, key: str, name: str, threads: int, batch: int, latency: float, ready: Any, go: Any, out: Any
) -> None:
    """One ``flask notify work``: its app, ``threads`` sending threads, until nothing is due."""
    from advocacy.notify.service.worker import Worker, run_workers
    from advocacy.notify.transport import TwilioSender
    from tests import twilio_fake

    app = make_app(url, key)
    http = SlowTwilio(latency)

    def make() -> TwilioSender:
        return TwilioSender(twilio_fake.ACCOUNT_SID, twilio_fake.AUTH_TOKEN, http_client=http)

    worker = Worker(app, make, name=name, batch_size=batch, threads=threads)
    with app.app_context():
        from advocacy.extensions import db

        db.session.execute(text("SELECT 1"))  # connected before the clock starts
        db.session.remove()
    ready.put(name)
    go.wait()
    (stats,) = run_workers([worker])
    out.put((name, stats.sent, stats.rereserved, time.time(), http.times))


@dataclass
class Run:
    workers: int
    threads: int
    latency_ms: int
    rate: float
    sent: int
    seconds: float
    busiest_second: int
    rereserved: int

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    @property
    def ceiling(self) -> float | None:
        return self.workers * self.threads / (self.latency_ms / 1000) if self.latency_ms else None


def busiest_second(times: list[float]) -> int:
    """The most requests that started within any sliding one-second window."""
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def run_once(url: str, key: str, workers: int, threads: int, batch: int, latency_ms: int, rate: float) -> Run:
    ctx = mp.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(
            target=worker_process,
            args=(url, key, f"bench{w}", threads, batch, latency_ms / 1000, ready, go, out),
        )
        for w in range(workers)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=120)  # a worker that cannot start fails the run here
    started = time.time()
    go.set()
    results: list[Any] = []
    while len(results) < len(procs):
        try:
            results.append(out.get(timeout=1))
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in procs):
                for proc in procs:
                    proc.kill()
                raise RuntimeError("a worker process failed (its traceback is above)") from None
    for proc in procs:
        proc.join()
    times = [t for r in results for t in r[4]]
    return Run(
        workers=workers,
        threads=threads,
        latency_ms=latency_ms,
        rate=rate,
        sent=sum(r[1] for r in results),
        seconds=max(r[3] for r in results) - started,
        busiest_second=busiest_second(times),
        rereserved=sum(r[2] for r in results),
    )


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=100_000, help="reminders due now")
    parser.add_argument("--stored", type=int, default=1_000_000, help="outbox rows in all (due included)")
    parser.add_argument("--workers", default="1,4", help="worker processes, a comma-separated list")
    parser.add_argument("--latency", default="0,150", help="transport latency in ms, a comma-separated list")
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help="sending threads per worker (flask notify work's default)",
    )
    parser.add_argument("--batch", type=int, default=50, help="rows a thread claims at a time")
    parser.add_argument(
        "--rate", type=float, default=100.0, help="the sender's limit (per second) with a latency"
    )
    parser.add_argument("--database", default="bench_dispatch")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if not 0 < args.due <= args.stored:
        parser.error("--due must be positive and at most --stored")

    server_url = os.environ.get("BENCH_POSTGRES_URL", SERVER_URL)
    url = reset_database(server_url, args.database)
    key = Fernet.generate_key().decode()
    app = make_app(url, key)
    try:
        with app.app_context():
            return run(url, key, args)
    finally:
        from advocacy.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if not args.keep:
            drop_database(server_url, args.database)


def run(url: str, key: str, args: argparse.Namespace) -> int:
    from advocacy.extensions import db

    db.create_all()
    took = fill(args.due, args.stored)
    print(
        f"PostgreSQL: {args.stored:,} outbox rows, {args.due:,} due; {SUBSCRIPTIONS} numbers of one sender; "
        f"filled in {took['people'] + took['rows']:.1f} s (rows {took['rows']:.1f} s), "
        f"vacuumed in {took['vacuum']:.1f} s; {os.cpu_count()} cores"
    )
    print(counts())
    print(sizes())
    plan, indexed = claim_plan(args.batch)
    print(f"\nThe claim's query (batch {args.batch}), EXPLAIN (ANALYZE, BUFFERS):\n{plan}\n")
    print(
        "plan: index scan of the partial index of queued rows" if indexed else "plan: NOT the partial index"
    )

    runs: list[Run] = []
    first = True
    for latency in [int(x) for x in args.latency.split(",")]:
        rate = args.rate if latency else UNLIMITED_RATE
        for workers in [int(x) for x in args.workers.split(",")]:
            if not first or rate != UNLIMITED_RATE:
                queue_again(rate)
            first = False
            db.session.remove()
            runs.append(run_once(url, key, workers, args.threads, args.batch, latency, rate))
            done = counts()
            if done.get("sent", 0) != args.due:
                print(f"!! expected {args.due} sent, found {done}")
                indexed = False
            r = runs[-1]
            print(
                f"  {r.workers} worker(s) x {r.threads} threads, {r.latency_ms} ms: {r.sent:,} in {r.seconds:.1f} s"
                f" = {r.per_second:,.0f}/s"
            )

    print(
        "\n| workers | threads each | transport | rate limit /s | sent | seconds | messages/s | busiest second"
        " | slots missed | ceiling /s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        limit = "none" if r.rate == UNLIMITED_RATE else f"{r.rate:g}"
        ceiling = f"{r.ceiling:,.0f}" if r.ceiling else "-"
        print(
            f"| {r.workers} | {r.threads} | {r.latency_ms} ms | {limit} | {r.sent:,} | {r.seconds:.1f} | "
            f"{r.per_second:,.0f} | {r.busiest_second} | {r.rereserved} | {ceiling} |"
        )
    return 0 if indexed else 1


if __name__ == "__main__":
    sys.exit(main())
