"""Where one page's CPU goes: the served benchmark's data, the page in process under cProfile.

    .venv/bin/python bench/profile_page.py --cases 20000 /shelters/network /cases/
    .venv/bin/python bench/profile_page.py --reuse /cases/{case}      # the data of the last run
    .venv/bin/python bench/profile_page.py --reuse --no-profile --repeat 3 /cases/ /bench/cases.json

The data is ``bench/served.py``'s fill (the shelter network, the cases) in a
database of its own (``--database``); the page is asked for ``--rounds``
times by a test client signed in as the fill's first advocate (or staff
member, for a path with ``{shelter}``), and the functions that cost most are
printed.  A tool for finding what to change; with ``--no-profile --repeat N``
it prints the least CPU (``process_time``) per request of N batches, an
in-process figure to compare two versions on the same data.  The served
figures are ``bench/served.py``'s.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import benchapp  # noqa: E402  (bench/benchapp.py)
import served  # noqa: E402  (bench/served.py)
import shelters as shelter_bench  # noqa: E402  (bench/shelters.py)

STATE = Path(tempfile.gettempdir()) / "advocacy-bench-profile.json"


def _sign_in(client: Any, username: str, secret: str) -> None:
    import pyotp

    page = client.get("/auth/login").get_data(as_text=True)
    client.post(
        "/auth/login",
        data={
            "username": username,
            "password": shelter_bench.PASSWORD,
            "csrf_token": shelter_bench._csrf(page),
        },
    )
    for _attempt in range(2):
        page = client.get("/auth/two-factor").get_data(as_text=True)
        response = client.post(
            "/auth/two-factor",
            data={"code": pyotp.TOTP(secret).now(), "csrf_token": shelter_bench._csrf(page)},
        )
        if response.status_code == 302:
            return
        # A code is refused a second time: a run just after another waits for the next one.
        time.sleep(30.5 - time.time() % 30)
    raise RuntimeError(f"sign-in failed for {username}")


def _print_statements(app: Any, client: Any, url: str) -> None:
    """One request's statements as the database received them, each with its time
    from the cursor's execute to its return (rows fetched included)."""
    from sqlalchemy import event

    from advocacy.extensions import db

    timings: list[tuple[float, str]] = []
    with app.app_context():
        engine = db.engine

    def before(conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        conn.info["bench.started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        timings.append((time.perf_counter() - conn.info.pop("bench.started"), statement))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    print(f"\n=== {url}: {len(timings)} statements, {sum(t for t, _ in timings) * 1000:.2f} ms ===")
    for took, statement in timings:
        print(f"{took * 1000:7.2f} ms  {' '.join(statement.split())[:400]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--database", default="advocacy_bench_profile")
    parser.add_argument("--reuse", action="store_true", help="the data (and secrets) of the last run")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--no-profile", action="store_true", help="only the CPU per request, no profile")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="batches of --rounds without the profiler; the least CPU is printed",
    )
    parser.add_argument("--dump", metavar="FILE", help="write the profile there (pstats), for print_callers")
    parser.add_argument(
        "--save", metavar="DIR", help="write each page's HTML there (to compare two versions)"
    )
    parser.add_argument(
        "--statements",
        action="store_true",
        help="print each SQL statement of one request, with its time",
    )
    parser.add_argument(
        "--state",
        type=Path,
        default=STATE,
        help="the state file of the data to reuse (bench/served.py --keep leaves one per database)",
    )
    args = parser.parse_args(argv)
    server = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

    if args.reuse and args.state.exists():
        state = json.loads(args.state.read_text())
        env, data = state["env"], state["data"]
    else:
        url = shelter_bench.reset_database(server, args.database)
        env = shelter_bench.server_env(url)
        shelter_bench.migrate(env)
        data = served.fill(env, 2, args.cases)
        STATE.write_text(json.dumps({"env": env, "data": data}))

    from advocacy import create_app
    from config import load_settings

    app = create_app(load_settings(env, log_level="WARNING"))
    benchapp.add_bare_endpoints(app)  # /bench/cases.json, /bench/cases/<id>.json: the pages' baselines
    clients: dict[str, Any] = {}  # one sign-in per person: a code is refused a second time
    for path in args.paths:
        staff = "{shelter}" in path or "board" in path
        username, secret = (data["staff"] if staff else data["advocates"])[0]
        if username not in clients:
            clients[username] = app.test_client()
            _sign_in(clients[username], username, secret)
        client = clients[username]
        url = path.format(shelter=data["staff_shelters"][0], case=data["case_ids"][0])
        for _ in range(5):  # warm
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        if args.save:
            name = path.strip("/").replace("/", "_").replace("{", "").replace("}", "") or "root"
            Path(args.save, f"{name}.html").write_text(response.get_data(as_text=True))
        if args.statements:
            _print_statements(app, client, url)
        if not args.no_profile:
            profiler = cProfile.Profile(time.process_time)
            started = time.process_time()
            profiler.enable()
            for _ in range(args.rounds):
                client.get(url)
            profiler.disable()
            cpu = (time.process_time() - started) / args.rounds * 1000
            print(f"\n=== {url}: {cpu:.1f} ms CPU per request under the profiler ===")
            stats = pstats.Stats(profiler)
            if args.dump:
                stats.dump_stats(args.dump)
            calls = stats.total_calls / args.rounds  # type: ignore[attr-defined]
            print(f"{url}: {calls:,.0f} function calls per request (not moved by load)")
            stats.sort_stats(args.sort).print_stats(args.top)
            stats.sort_stats("cumulative").print_stats(args.top)
        # Without the profiler.  CPU time (not wall time), least of the batches: on a
        # shared machine other processes lengthen a batch, they rarely shorten one.
        batches = []
        for _ in range(max(1, args.repeat)):
            started = time.process_time()
            for _ in range(args.rounds):
                client.get(url)
            batches.append((time.process_time() - started) / args.rounds * 1000)
        shown = " ".join(f"{b:.2f}" for b in batches)
        print(
            f"{url}: {min(batches):.2f} ms CPU per request (least of {len(batches)} x {args.rounds}: {shown})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
