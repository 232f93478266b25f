"""The audit append under concurrency: 32 case views at once across 4 agencies, per-agency chains against one lock.

    .venv/bin/python bench/audit.py                          # 32 views at once, 20 s a run, commit delays 0, 10 and 25 ms
    .venv/bin/python bench/audit.py --seconds 10 --commit-delay-ms 0
    .venv/bin/python bench/audit.py --json bench/audit.json
    BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres  (the server; default shown)

The database ``bench_audit`` (``--database``) is dropped and made again on
the server of ``BENCH_POSTGRES_URL``, and dropped at the end unless
``--keep``.  It holds ``--agencies`` (4) agencies, each with one advocate
per concurrent view and ``--cases`` (50) cases, opened through the intake
service (so every agency's chain already has entries).

A view is ``GET /cases/<id>`` of a case of the advocate's own agency, through
the Flask test client of an advocate signed in with password and code: the
whole stack of a served page (session, guards, the case query, the audit
entry, the page's other queries, the template, the commit).  The entry is
recorded when the case is read, before the page is rendered, and appended
when the transaction commits (``advocacy.audit.service``), so its chain's
lock is held for the append and the commit alone: that hold time is what an
agency's other views queue behind.

Processes, not threads: ``--processes`` (32) forked workers, one view at a
time each (``--threads`` 1), as sync gunicorn workers serve.  32 threads in
one process would run one at a time under the GIL, so a view holding a lock
would wait for the interpreter behind 31 others and the figure would be the
GIL's, not the lock's.  All workers start together and view for
``--seconds`` (20); views/s counts the views that finished in that window.

Each run is made twice:

* "per-agency chains": the code as it is; an append locks its agency's
  ``audit_chain`` row (``advocacy.audit.service._claim_next``).
* "one deployment-wide lock": the before.  Inside this script only,
  ``_claim_next`` first locks the deployment chain's head row (``audit_chain``
  0, ``SELECT ... FOR UPDATE``), so every append of every agency queues behind
  one row lock held until commit, as the deployment-wide advisory lock of the
  earlier ``record`` did.  Each agency's entries still go to its own chain,
  so verification means the same in both runs.

"lock wait" is the time spent in ``_claim_next`` (the statement that waits
for the lock and claims the place; uncontended it takes a fraction of a
millisecond), per view, and its share of the view's time.  "held" is the
time from the claim to the commit's return, the lock's hold time.

``--commit-delay-ms`` (``0,10,25``) adds that much ``pg_sleep`` in the
transaction of every view that appended, just before the commit, so the lock
is held that much longer.  It models what this machine lacks: in a real
deployment the database is across a network (every statement after the
claim is a round trip, 0.5-1 ms each, see "statements after claim") and the
commit waits for a durable write on network storage (1-5 ms): about 10 ms
for this page's statements; 25 ms is a database in another zone or on slow
storage.  On this machine both are near zero, and 32 views on 2 cores make
CPU, not the lock, the limit.  The raw figures (0 ms) are printed beside the delayed ones.

After every run every chain is verified (``advocacy.audit.verify.verify_chains``)
and the script prints that they are intact and how many entries they hold;
the run fails (exit 1) if a chain is broken, a view failed, or the entries
appended are not the views made.  That an edit after a concurrent run is
detected is a test (``tests/test_audit_concurrency.py``).  Not a test:
nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue
import random
import statistics
import sys
import threading
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import advocacy.models  # noqa: F401  (every model in the app's order; one domain alone can meet an import cycle)
from advocacy import create_app
from advocacy.audit import service as audit_service
from advocacy.audit.models import DEPLOYMENT_CHAIN, AuditChain, AuditEvent
from advocacy.audit.verify import verify_chains
from advocacy.auth.models import Role, User
from advocacy.extensions import db
from advocacy.intake import service as intake
from config import load_settings
from tests import factories
from tests.helpers import CSRFClient, login, make_agency, make_user

SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PER_AGENCY = "per-agency chains"
ONE_LOCK = "one deployment-wide lock"
MODES = (PER_AGENCY, ONE_LOCK)


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
    env = {"ADVOCACY_ENV": "testing", "DATABASE_URL": url, "ADVOCACY_ENCRYPTION_KEYS": key}
    app = create_app(load_settings(env, log_level="WARNING"))
    app.test_client_class = CSRFClient
    return app


def fill(agencies: int, advocates: int, cases: int) -> list[tuple[int, list[int]]]:
    """Agencies, advocates and cases through the services; [(advocate id, the agency's case ids)] in agency turn.

    Also the deployment chain's head row, which the "one lock" run locks.
    """
    made: list[list[tuple[int, list[int]]]] = []
    for a in range(agencies):
        agency = make_agency(f"bench-audit-{a}", f"Bench audit agency {a}")
        users = [make_user(agency, Role.ADVOCATE, f"bench-audit-{a}-{u}") for u in range(advocates)]
        system = factories.system(agency)
        ids = [
            intake.open_case(system, agency.id, users[i % advocates].id, f"Bench {a}-{i:04d}").id
            for i in range(cases)
        ]
        made.append([(user.id, ids) for user in users])
    # No agency: the deployment chain's first entry makes the head row "one lock" locks.
    audit_service.record(system, "bench.start")
    db.session.commit()
    # Interleaved, so that worker n views agency n % agencies.
    return [made[a][u] for u in range(advocates) for a in range(agencies)]


def entries() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


# --- the workers --------------------------------------------------------------------------------


class Probe(threading.local):
    """What one thread's current request has done since its audit append (hooks below)."""

    claimed_at: float | None = None
    wait: float = 0.0
    statements: int = 0
    held: float | None = None


PROBE = Probe()
SETTINGS: dict[str, Any] = {"mode": PER_AGENCY, "delay": 0.0}


def instrument() -> None:
    """Time the claim, optionally lock one shared row first, and delay the commit of an appending transaction."""
    original = audit_service._claim_next

    def claim(chain_id: int) -> tuple[int, str]:
        started = time.perf_counter()
        if SETTINGS["mode"] == ONE_LOCK:
            db.session.execute(
                select(AuditChain.chain_id).where(AuditChain.chain_id == DEPLOYMENT_CHAIN).with_for_update()
            )
        result = original(chain_id)
        PROBE.claimed_at = time.perf_counter()
        PROBE.wait = PROBE.claimed_at - started
        PROBE.statements = 0
        return result

    audit_service._claim_next = claim  # type: ignore[assignment]

    @event.listens_for(Session, "before_commit")
    def delay(session: Session) -> None:
        if PROBE.claimed_at is not None and SETTINGS["delay"]:
            page_statements = PROBE.statements  # the delay is not one of the page's
            session.execute(text("SELECT pg_sleep(:s)"), {"s": SETTINGS["delay"]})
            PROBE.statements = page_statements

    @event.listens_for(Session, "after_commit")
    def committed(_session: Session) -> None:
        if PROBE.claimed_at is not None:
            PROBE.held = time.perf_counter() - PROBE.claimed_at
            PROBE.claimed_at = None

    @event.listens_for(Session, "after_rollback")
    def rolled_back(_session: Session) -> None:
        PROBE.claimed_at = None


def count_statements(app: Any) -> None:
    with app.app_context():

        @event.listens_for(db.engine, "before_cursor_execute")
        def counted(*_args: Any) -> None:
            if PROBE.claimed_at is not None:
                PROBE.statements += 1


def viewer(app: Any, user_id: int, case_ids: list[int], seed: int, commands: Any, out: Any) -> None:
    """One signed-in advocate viewing cases of their agency, run by run, until told to stop."""
    try:
        view_cases(app, user_id, case_ids, seed, commands, out)
    except BaseException:  # the parent stops the run and prints it
        out.put(("failed", traceback.format_exc()))
        raise


def view_cases(app: Any, user_id: int, case_ids: list[int], seed: int, commands: Any, out: Any) -> None:
    rng = random.Random(seed)
    client: CSRFClient = app.test_client()  # type: ignore[assignment]
    with app.app_context():
        login(client, db.session.get(User, user_id))
        db.session.remove()
    for case_id in case_ids[:3]:  # templates compiled, statements prepared
        assert client.get(f"/cases/{case_id}").status_code == 200
    out.put(("ready", None))
    while True:
        command = commands.get()
        if command is None:
            return
        start, end = command
        views: list[tuple[float, float, float, float, int]] = []
        errors: list[str] = []
        time.sleep(max(0.0, start - time.time()))
        while time.time() < end:
            case_id = rng.choice(case_ids)
            PROBE.held, PROBE.wait = None, 0.0
            began = time.perf_counter()
            response = client.get(f"/cases/{case_id}")
            took = time.perf_counter() - began
            if response.status_code != 200 or PROBE.held is None:
                errors.append(f"case {case_id}: {response.status_code}, appended {PROBE.held is not None}")
                continue
            views.append((time.time(), took, PROBE.wait, PROBE.held, PROBE.statements))
        out.put(("done", (views, errors)))


def worker(url: str, key: str, jobs: list[tuple[int, list[int], int]], commands: Any, out: Any) -> None:
    """One process (forked after the parent let go of its connections): its own app, ``jobs`` threads."""
    try:
        app = make_app(url, key)
        instrument()
        count_statements(app)
        per_thread = [queue.Queue() for _ in jobs]  # type: ignore[var-annotated]
        threads = [
            threading.Thread(target=viewer, args=(app, user_id, case_ids, seed, q, out), daemon=True)
            for (user_id, case_ids, seed), q in zip(jobs, per_thread, strict=True)
        ]
        for thread in threads:
            thread.start()
        while True:
            command = commands.get()
            if command is not None:
                SETTINGS.update(command["settings"])
            for q in per_thread:
                q.put(None if command is None else command["window"])
            if command is None:
                break
        for thread in threads:
            thread.join()
    except BaseException as exc:  # the parent reports it, then sees the exit code
        out.put(("failed", repr(exc)))
        raise


# --- a run ------------------------------------------------------------------------------------


@dataclass
class Run:
    mode: str
    delay_ms: int
    seconds: float
    views: int
    views_per_second: float
    p50_ms: float
    p95_ms: float
    lock_wait_mean_ms: float
    lock_wait_p95_ms: float
    lock_wait_share: float
    held_mean_ms: float
    statements_after_claim: float
    load_average: float
    chains_intact: bool
    chain_entries: int
    errors: int


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def run_once(
    commands: list[Any], out: Any, threads: int, mode: str, delay_ms: int, seconds: float, procs: list[Any]
) -> Run:
    before = entries()
    db.session.remove()
    start = time.time() + 1.0
    end = start + seconds
    for q in commands:
        q.put({"settings": {"mode": mode, "delay": delay_ms / 1000}, "window": (start, end)})
    views: list[tuple[float, float, float, float, int]] = []
    errors: list[str] = []
    for _ in range(threads):
        kind, payload = collect(out, procs)
        if kind != "done":
            raise RuntimeError(f"a worker failed: {payload}")
        views += payload[0]
        errors += payload[1]
    load = os.getloadavg()[0]
    report = verify_chains()
    appended = entries() - before
    db.session.remove()
    counted = [v for v in views if v[0] <= end]
    took = [v[1] for v in views]
    waits = [v[2] for v in views]
    run = Run(
        mode=mode,
        delay_ms=delay_ms,
        seconds=seconds,
        views=len(counted),
        views_per_second=len(counted) / seconds,
        p50_ms=1000 * percentile(took, 0.5),
        p95_ms=1000 * percentile(took, 0.95),
        lock_wait_mean_ms=1000 * statistics.fmean(waits) if waits else 0.0,
        lock_wait_p95_ms=1000 * percentile(waits, 0.95),
        lock_wait_share=sum(waits) / sum(took) if took else 0.0,
        held_mean_ms=1000 * statistics.fmean(v[3] for v in views) if views else 0.0,
        statements_after_claim=statistics.fmean(v[4] for v in views) if views else 0.0,
        load_average=load,
        chains_intact=report.ok and appended == len(views),
        chain_entries=report.checked,
        errors=len(errors),
    )
    chains = ", ".join(f"{c.chain} {c.checked}" for c in report.chains if c.chain.startswith("audit:"))
    verdict = "intact" if report.ok else "BROKEN"
    print(
        f"  {mode}, commit delay {delay_ms} ms: {run.views} views in {seconds:g} s = {run.views_per_second:.1f}/s; "
        f"chains {verdict} ({chains}); {appended} entries appended for {len(views)} views; load {load:.2f}"
    )
    for line in errors[:5]:
        print(f"  !! {line}")
    return run


def collect(out: Any, procs: list[Any]) -> tuple[str, Any]:
    while True:
        try:
            return out.get(timeout=1)
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in procs):
                raise RuntimeError("a worker process died (its traceback is above)") from None


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=32, help="worker processes")
    parser.add_argument("--threads", type=int, default=1, help="viewing threads per process")
    parser.add_argument("--agencies", type=int, default=4)
    parser.add_argument("--cases", type=int, default=50, help="cases per agency")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run")
    parser.add_argument(
        "--commit-delay-ms",
        default="0,10,25",
        help="pg_sleep before an appending commit, a comma-separated list",
    )
    parser.add_argument(
        "--modes", default=",".join(MODES), help=f"a comma-separated list of: {', '.join(MODES)}"
    )
    parser.add_argument("--database", default="bench_audit")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",")]
    if set(modes) - set(MODES):
        parser.error(f"--modes: one of {MODES}")
    delays = [int(x) for x in args.commit_delay_ms.split(",")]
    concurrent = args.processes * args.threads
    if concurrent % args.agencies:
        parser.error("processes x threads must be a multiple of --agencies (the same views per agency)")

    server_url = os.environ.get("BENCH_POSTGRES_URL", SERVER_URL)
    url = reset_database(server_url, args.database)
    key = Fernet.generate_key().decode()
    app = make_app(url, key)
    ctx = mp.get_context("fork")
    procs: list[Any] = []
    try:
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            people = fill(args.agencies, concurrent // args.agencies, args.cases)
            print(
                f"PostgreSQL: {args.agencies} agencies, {concurrent // args.agencies} advocates and {args.cases} "
                f"cases each, filled in {time.perf_counter() - started:.1f} s; {concurrent} concurrent views "
                f"({args.processes} processes x {args.threads} threads) on {os.cpu_count()} cores"
            )
            db.session.remove()
            db.engine.dispose()  # the children open their own connections
            out = ctx.Queue()
            commands = []
            for p in range(args.processes):
                jobs = [(*people[p * args.threads + t], p * args.threads + t) for t in range(args.threads)]
                q = ctx.Queue()
                commands.append(q)
                procs.append(ctx.Process(target=worker, args=(url, key, jobs, q, out)))
            for proc in procs:
                proc.start()
            for _ in range(concurrent):
                kind, payload = collect(out, procs)
                if kind != "ready":
                    raise RuntimeError(f"a worker failed: {payload}")
            runs = [
                run_once(commands, out, concurrent, mode, delay, args.seconds, procs)
                for delay in delays
                for mode in modes
            ]
            for q in commands:
                q.put(None)
            for proc in procs:
                proc.join(timeout=30)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if not args.keep:
            drop_database(server_url, args.database)

    print(
        "\n| audit append | commit delay | views/s | p50 ms | p95 ms | lock wait mean / p95 ms | share of view"
        " | held ms | load | chains |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in runs:
        print(
            f"| {r.mode} | {r.delay_ms} ms | {r.views_per_second:.1f} | {r.p50_ms:.0f} | {r.p95_ms:.0f} | "
            f"{r.lock_wait_mean_ms:.1f} / {r.lock_wait_p95_ms:.1f} | {100 * r.lock_wait_share:.0f}% | "
            f"{r.held_mean_ms:.1f} | {r.load_average:.1f} | {'intact' if r.chains_intact else 'BROKEN'} |"
        )
    print(
        f"\nstatements after the claim, per view: {statistics.fmean(r.statements_after_claim for r in runs):.1f}"
    )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=2) + "\n")
    return 0 if all(r.chains_intact and not r.errors for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
