"""What each page costs when served as in production: app CPU per request, latency, statements.

    .venv/bin/python bench/served.py                    # 100,000 cases, 50 shelters / 2,000 beds
    .venv/bin/python bench/served.py --cases 20000 --seconds 5
    BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres  (the server; default shown)

The app runs under gunicorn (2 sync workers by default) on PostgreSQL with a
realistic network (``bench/shelters.py``'s fill: 50 shelters of five
agencies, 2,000 beds, a month of history) and 100,000 cases
(``bench/cases.py``'s fill, 80% of them in the advocates' agency).  The load
comes from a separate process: 8 clients (``--clients``), each signed in as
its own advocate or staff member, ask for one page at a time as fast as
answers come, for ``--seconds`` per page.  The clients are ``wrk``'s
connections (one per thread, each with its own session cookie and page,
through ``bench/served.lua``) when ``wrk`` is installed, as the issue's
first figures were taken; otherwise (or with ``--load python``) threads of
``requests`` sessions, whose own CPU, on a machine of two cores, is taken
from the server's.

For each page it prints requests per second, p50 and p95, **app CPU per
request** (the user and system time of the gunicorn workers, read from
``/proc/<pid>/stat`` before and after, divided by the requests answered: a
figure the other processes on the machine barely move, unlike latency),
**database CPU per request** (the same, over every PostgreSQL process of
the machine: backends, WAL writer, checkpointer; a local server only),
SQL statements per request (counted by ``bench/benchapp.py`` and sent back
in a header), and the ratio of the page's CPU to its bare JSON endpoint's
(what the template costs on top of the data; higher is better, 1.0 would be
a free template); then memory per worker.  The same figures go to
``bench/results.json``.  Not a test: nothing here asserts a number.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import shelters as shelter_bench  # noqa: E402  (bench/shelters.py)

RESULTS = ROOT / "bench" / "results.json"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Page:
    name: str
    who: str  # "advocate" or "staff"
    path: str  # "{shelter}" and "{case}" are the client's own
    bare: str | None = None  # the name of the page's bare endpoint


PAGES = (
    Page("signed-in health check", "advocate", "/healthz"),
    Page("home", "advocate", "/"),
    Page("network board, bare JSON", "advocate", "/shelters/network.json"),
    Page("network board", "advocate", "/shelters/network", bare="network board, bare JSON"),
    Page("staff board, bare JSON", "staff", "/shelters/{shelter}/board.json"),
    # What the opened page reads and writes (its ETag, its audit row, holds, referrals,
    # stays), as JSON: the bench app's own; the product's JSON above has only the beds.
    Page("staff board, bare JSON as opened", "staff", "/bench/shelters/{shelter}/board.json"),
    Page(
        "staff board (40 beds)", "staff", "/shelters/{shelter}/board", bare="staff board, bare JSON as opened"
    ),
    Page("case list, bare JSON", "advocate", "/bench/cases.json"),
    Page("case list, first page", "advocate", "/cases/", bare="case list, bare JSON"),
    Page("case page, bare JSON", "advocate", "/bench/cases/{case}.json"),
    Page("case page", "advocate", "/cases/{case}", bare="case page, bare JSON"),
)


# --- the server's processes ------------------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    """gunicorn's worker processes: the master's children."""
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / CLOCK_TICKS


def postgres_pids() -> list[int]:
    """Every PostgreSQL process of this machine (a local server: its backends, WAL
    writer and checkpointer), for the database's share of a page's CPU."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def cpu_seconds_alive(pids: list[int]) -> dict[int, float]:
    """``cpu_seconds`` of each process still there (a backend may end mid-run)."""
    times = {}
    for pid in pids:
        try:
            times[pid] = cpu_seconds([pid])
        except OSError:
            continue
    return times


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_server(env: dict[str, str], workers: int, port: int, log: Path) -> Any:
    """The benchmark's app under gunicorn, once every worker has booted."""
    process = shelter_bench.start_gunicorn(
        env,
        workers,
        port,
        log,
        app="benchapp:create_bench_app()",
        options=("--pythonpath", str(ROOT / "bench")),
    )
    deadline = time.monotonic() + 60
    while len(worker_pids(process.pid)) < workers and time.monotonic() < deadline:
        time.sleep(0.2)
    return process


# --- the data -------------------------------------------------------------------------------------


def fill(env: dict[str, str], clients: int, cases: int) -> dict[str, Any]:
    """The shelter network, then the cases into the advocates' agency (and two others)."""
    from sqlalchemy import select

    import advocacy.models  # noqa: F401  (every model in the app's order; one domain alone can meet an import cycle)
    from advocacy import create_app
    from advocacy.auth.models import Membership, Role
    from advocacy.extensions import db
    from config import load_settings

    network = shelter_bench.fill(env, clients)
    import cases as case_bench  # bench/cases.py

    app = create_app(load_settings(env, log_level="WARNING"))
    with app.app_context():
        advocate_ids = list(
            db.session.scalars(
                select(Membership.user_id)
                .where(Membership.role == Role.ADVOCATE.value)
                .order_by(Membership.id)
            )
        )
        agency_of = dict(
            db.session.execute(
                select(Membership.user_id, Membership.agency_id).where(Membership.user_id.in_(advocate_ids))
            ).all()
        )
        big = agency_of[advocate_ids[0]]
        staff_agency = db.session.scalar(
            select(Membership.agency_id).where(Membership.role == Role.SHELTER_STAFF.value).limit(1)
        )
        others = [staff_agency, *[a for a in range(1, 6) if a not in (big, staff_agency)][:1]]
        owners = {big: advocate_ids, **{a: advocate_ids[:1] for a in others}}
        filled = case_bench.fill(cases, owners=owners)
        case_bench.analyze()
        from advocacy.intake.models import Case

        case_ids = list(
            db.session.scalars(
                select(Case.id).where(Case.agency_id == big).order_by(Case.id.desc()).limit(clients)
            )
        )
        db.session.remove()
        db.engine.dispose()
    return {
        "advocates": network.advocates,
        "staff": network.staff,
        "staff_shelters": network.staff_shelters,
        "case_ids": case_ids,
        "beds": network.beds,
        "cases": filled.counts.get("cases", cases),
        "big_cases": filled.big_cases,
    }


# --- the load (a separate process) ------------------------------------------------------------------


@dataclass
class Figures:
    name: str
    requests: int
    seconds: float
    p50: float
    p95: float
    errors: int
    statements: float
    cpu_ms: float = 0.0
    db_cpu_ms: float = 0.0
    ratio: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_page(
    page: Page, base: str, clients: list[tuple[Any, int, int]], seconds: float, pids: list[int], load: str
) -> Figures:
    def url_for(shelter: int, case: int) -> str:
        return base + page.path.format(shelter=shelter, case=case)

    for session, shelter, case in clients:  # warm: templates, caches, connections
        session.get(url_for(shelter, case), timeout=60)
    database = postgres_pids()
    db_before = cpu_seconds_alive(database)
    cpu_before = cpu_seconds(pids)
    if load == "wrk":
        figures = _wrk_load(page, base, clients, seconds)
    else:
        figures = _python_load(page, url_for, clients, seconds)
    cpu = cpu_seconds(pids) - cpu_before
    db_after = cpu_seconds_alive(database)
    db_cpu = sum(db_after[pid] - db_before[pid] for pid in db_after if pid in db_before)
    if figures.requests:
        figures.cpu_ms = 1000 * cpu / figures.requests
        figures.db_cpu_ms = 1000 * db_cpu / figures.requests
    return figures


WRK_SCRIPT = ROOT / "bench" / "served.lua"


def _wrk_load(page: Page, base: str, clients: list[tuple[Any, int, int]], seconds: float) -> Figures:
    """``wrk``, one thread and connection per client, each with its session's cookie
    and its own page (``bench/served.lua`` reads them from the environment)."""
    env = dict(os.environ)
    for number, (session, shelter, case) in enumerate(clients, start=1):
        env[f"BENCH_COOKIE_{number}"] = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        env[f"BENCH_PATH_{number}"] = page.path.format(shelter=shelter, case=case)
    count = str(len(clients))
    done = subprocess.run(
        [
            "wrk",
            "-t",
            count,
            "-c",
            count,
            "-d",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "60s",
            "-s",
            str(WRK_SCRIPT),
            base,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("{"))
    got = json.loads(line)
    return Figures(
        name=page.name,
        requests=got["requests"],
        seconds=got["seconds"],
        p50=got["p50"],
        p95=got["p95"],
        errors=got["bad"] + got["errors"],
        statements=got["statements"] / got["responses"] if got["responses"] else 0.0,
    )


def _python_load(page: Page, url_for: Any, clients: list[tuple[Any, int, int]], seconds: float) -> Figures:
    lock = threading.Lock()
    timings: list[float] = []
    statements: list[int] = []
    errors = 0

    def worker(session: Any, shelter: int, case: int) -> None:
        nonlocal errors
        url = url_for(shelter, case)
        mine: list[float] = []
        counts: list[int] = []
        bad = 0
        while time.monotonic() < deadline:
            start = time.perf_counter()
            response = session.get(url, allow_redirects=False, timeout=60)
            _ = response.content
            mine.append((time.perf_counter() - start) * 1000)
            counts.append(int(response.headers.get("X-Bench-Statements", "0")))
            if response.status_code != 200:
                bad += 1
        with lock:
            timings.extend(mine)
            statements.extend(counts)
            errors += bad

    started = time.monotonic()
    deadline = started + seconds
    threads = [threading.Thread(target=worker, args=client) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    ordered = sorted(timings)
    return Figures(
        name=page.name,
        requests=len(timings),
        seconds=elapsed,
        p50=ordered[len(ordered) // 2] if ordered else float("nan"),
        p95=ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] if ordered else float("nan"),
        errors=errors,
        statements=statistics.mean(statements) if statements else 0.0,
    )


def load_process(config: dict[str, Any], results: Any) -> None:
    try:
        base = config["base"]
        case_ids = config["case_ids"]
        shelters = config["staff_shelters"]
        advocates = [
            (shelter_bench.sign_in(base, name, secret), 0, case_ids[i % len(case_ids)])
            for i, (name, secret) in enumerate(config["advocates"])
        ]
        staff = [
            (shelter_bench.sign_in(base, name, secret), shelters[i % len(shelters)], 0)
            for i, (name, secret) in enumerate(config["staff"])
        ]
        figures = []
        pages = [page for page in PAGES if page.name in config["pages"]]
        for page in pages:
            clients = advocates if page.who == "advocate" else staff
            figures.append(run_page(page, base, clients, config["seconds"], config["pids"], config["load"]))
        by_name = {f.name: f for f in figures}
        for page, f in zip(pages, figures, strict=True):
            if page.bare and page.bare in by_name:
                f.ratio = by_name[page.bare].cpu_ms / f.cpu_ms if f.cpu_ms else None
        results.put(("ok", figures))
    except Exception as exc:  # noqa: BLE001 (report anything to the parent rather than hang it)
        results.put(("error", repr(exc)))


# --- main ------------------------------------------------------------------------------------------------


def print_table(figures: list[Figures], memory: list[float], header: str) -> None:
    print()
    print(header)
    print()
    print(
        "| page | req/s | p50 ms | p95 ms | app CPU ms/req | database CPU ms/req | statements/req "
        "| bare/HTML CPU | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for f in figures:
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
        print(
            f"| {f.name} | {f.rps:.0f} | {f.p50:.1f} | {f.p95:.1f} | {f.cpu_ms:.1f} | {f.db_cpu_ms:.1f} "
            f"| {f.statements:.1f} "
            f"| {ratio} | {f.errors} |"
        )
    print()
    print("memory per worker (RSS, MiB): " + ", ".join(f"{m:.0f}" for m in memory))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        help="only the pages whose names hold this text (repeatable): --page 'case list'",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of load per page")
    parser.add_argument("--database", default="advocacy_bench_http")
    parser.add_argument(
        "--load",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="the clients: wrk (the default when installed) or threads of requests sessions",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="serve the database a --keep run left (its secrets and sign-ins are in a state file), "
        "so that two versions of the code are measured on the same data, one after the other",
    )
    parser.add_argument(
        "--fill-only", action="store_true", help="fill (and keep) the database, serve nothing"
    )
    args = parser.parse_args(argv)
    server = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    state_file = Path(tempfile.gettempdir()) / f"advocacy-bench-served-{args.database}.json"

    started = time.monotonic()
    if args.reuse:
        state = json.loads(state_file.read_text())
        env, data = state["env"], state["data"]
        if args.clients > min(len(data["advocates"]), len(data["staff"])):
            parser.error(f"{args.database} was filled for {len(data['advocates'])} clients")
        # Fewer clients than the fill signed up: the first of them.
        data = {
            **data,
            "advocates": data["advocates"][: args.clients],
            "staff": data["staff"][: args.clients],
        }
        print(f"database {args.database}: reused (filled by an earlier run)")
    else:
        url = shelter_bench.reset_database(server, args.database)
        env = shelter_bench.server_env(url)
        shelter_bench.migrate(env)
        data = fill(env, args.clients, args.cases)
        print(f"database {args.database}: migrated and filled in {time.monotonic() - started:.0f} s")
        if args.keep or args.fill_only:
            state_file.write_text(json.dumps({"env": env, "data": data}))
    if args.fill_only:
        return 0
    keep = args.keep or args.reuse

    port = shelter_bench.free_port()
    log = Path(tempfile.mkdtemp(prefix="bench-http-")) / "gunicorn.log"
    process = start_server(env, args.workers, port, log)
    try:
        pids = worker_pids(process.pid)
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        config = {
            **data,
            "base": f"http://127.0.0.1:{port}",
            "seconds": args.seconds,
            "pids": pids,
            "load": args.load,
            "pages": [page.name for page in PAGES if not args.page or any(p in page.name for p in args.page)],
        }
        client = context.Process(target=load_process, args=(config, results))
        client.start()
        status, payload = results.get(timeout=args.seconds * len(PAGES) * 3 + 300)
        client.join(timeout=30)
        memory = [rss_mib(pid) for pid in pids]
    finally:
        process.terminate()
        process.wait(timeout=30)
        if not keep:
            from sqlalchemy import create_engine, text

            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
            admin.dispose()
    if status != "ok":
        print(f"load process failed: {payload}; server log: {log}", file=sys.stderr)
        return 1
    header = (
        f"{data['cases']:,} cases ({data['big_cases']:,} in the advocates' agency), {data['beds']:,} beds; "
        f"gunicorn {args.workers} sync workers, {args.clients} clients ({args.load}) in a separate process, "
        f"{args.seconds:.0f} s per page, {os.cpu_count()} CPUs, PostgreSQL"
    )
    print_table(payload, memory, header)
    if args.page:
        return 0  # a few pages: not the table bench/results.json holds
    RESULTS.write_text(
        json.dumps(
            {
                "setup": header,
                "pages": [{**asdict(f), "rps": f.rps} for f in payload],
                "memory_mib": memory,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
