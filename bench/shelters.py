"""The shelter boards over HTTP: gunicorn workers, PostgreSQL, a network of 2,000 beds.

    .venv/bin/python bench/shelters.py                       # defaults: 300 requests, 8 clients, 4 workers
    .venv/bin/python bench/shelters.py --requests 1000 --concurrency 16 --workers 4
    BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres  (the server; default shown)

What a shelter network costs at its busiest hour, end to end: 50 shelters of
five agencies, 2,000 beds, a month of availability history (about 24,000
events), holds, stays and referrals.  The app runs as in production under
gunicorn (several processes sharing one database, as README says), bound to
127.0.0.1 on a free port; the load comes from a separate process whose client
threads each sign in as their own advocate or staff member (password, then
the TOTP code, with the CSRF token taken from the page, as a browser does).

For each board it prints requests per second, p50 and p95 of the HTML page,
of the same rows as bare JSON (no template: the cost of the query alone), and
of a poll answered 304 from the ETag; then the HTML/JSON ratio, which is what
rendering costs on top of the data.  Not a test: nothing here asserts a
number.  The database ``advocacy_bench`` (``--database``) is dropped and made
again on every run.

On a small machine the client threads, gunicorn's workers and PostgreSQL share
the same cores: compare figures from one machine, not across machines.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHELTERS = 50
AGENCIES = 5
BEDS_PER_ROOM = 4
ROOMS_PER_SHELTER = 10  # 50 x 10 x 4 = 2,000 beds
HISTORY_DAYS = 35
PASSWORD = "bench passphrase for load testing only 42"


# --- the database ------------------------------------------------------------------------------


def reset_database(server_url: str, name: str) -> str:
    """Drop and create ``name`` on the server; return its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def server_env(database_url: str) -> dict[str, str]:
    """The environment of every process of the run (migrations, fill, gunicorn).

    Development settings (plain-HTTP cookies on 127.0.0.1, the production
    password hashing), with the secrets given explicitly: every gunicorn
    worker must decrypt what the fill encrypted.
    """
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update(
        ADVOCACY_ENV="development",
        FLASK_APP="advocacy:create_app",
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(48),
        ADVOCACY_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ADVOCACY_HASH_KEY=secrets.token_urlsafe(48),
        ADVOCACY_LOG_LEVEL="WARNING",
    )
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@dataclass
class Fill:
    """What the load process needs to know about the data."""

    advocates: list[tuple[str, str]] = field(default_factory=list)  # (user name, TOTP secret)
    staff: list[tuple[str, str]] = field(default_factory=list)
    staff_shelters: list[int] = field(default_factory=list)
    beds: int = 0
    events: int = 0


def fill(env: dict[str, str], clients: int) -> Fill:
    """Agencies and users through the services (passwords, TOTP, memberships),
    shelters through ``add_shelter``; rooms, beds, stays, holds, referrals and
    the history by bulk insert, consistent with each other: every bed's
    events form one chain that ends in its state."""
    from sqlalchemy import insert, select

    import advocacy.models  # noqa: F401  (every model in the app's order; one domain alone can meet an import cycle)
    from advocacy import create_app
    from advocacy.actor import Actor
    from advocacy.auth.models import Role
    from advocacy.auth.service import create_agency, create_user
    from advocacy.clock import now as utcnow
    from advocacy.extensions import db
    from advocacy.shelters.models import (
        AvailabilityEvent,
        Bed,
        BedState,
        BedType,
        Hold,
        HoldStatus,
        OutOfServiceReason,
        Referral,
        ReferralStatus,
        Room,
        RoomType,
        Shelter,
        Stay,
    )
    from advocacy.shelters.service import add_shelter, new_token
    from config import load_settings

    rng = random.Random(7)
    app = create_app(load_settings(env, log_level="WARNING"))
    result = Fill()
    with app.app_context():
        agencies = [create_agency(f"Bench agency {i}", f"bench-{i}") for i in range(AGENCIES)]
        db.session.commit()
        for i in range(clients):
            for role, agency, into in (
                (Role.ADVOCATE, agencies[1], result.advocates),
                (Role.SHELTER_STAFF, agencies[0], result.staff),
            ):
                user = create_user(
                    Actor.system("bench", agency.id),
                    f"bench-{role.value}-{i}",
                    "Bench",
                    PASSWORD,
                    [(agency, role)],
                    enrol_totp=True,
                )
                assert user.totp_secret
                into.append((user.username, user.totp_secret))
        db.session.commit()

        now = utcnow()
        shelters = []
        for i in range(SHELTERS):
            agency = agencies[i % AGENCIES]
            shelters.append(
                add_shelter(
                    Actor.system("bench", agency.id),
                    agency.id,
                    f"Bench shelter {i}",
                    f"B-{i:02d}",
                    f"Region {i % 7}",
                    address=f"{i} Nowhere Rd",
                    languages=rng.sample(["en", "es", "so", "hmn", "ksw", "om", "oj", "ar"], 3),
                    boys_age_limit=rng.choice([None, 12, 14, 17]),
                    max_stay_days=rng.choice([None, 30, 60, 90]),
                )
            )
        db.session.commit()
        shelter_rows = [(s.id, s.agency_id) for s in shelters]
        result.staff_shelters = [sid for sid, aid in shelter_rows if aid == agencies[0].id]

        rooms: list[dict[str, Any]] = []
        for shelter_id, agency_id in shelter_rows:
            for r in range(ROOMS_PER_SHELTER):
                rooms.append(
                    {
                        "shelter_id": shelter_id,
                        "agency_id": agency_id,
                        "label": f"{r + 1:02d}",
                        "room_type": (RoomType.FAMILY if r % 3 else RoomType.SINGLE).value,
                        "accessible": r % 5 == 0,
                        "pets_allowed": r % 4 == 1,
                    }
                )
        room_ids = list(
            db.session.scalars(insert(Room).returning(Room.id, sort_by_parameter_order=True), rooms)
        )

        # Final state per room: a household in some, a hold in a few, repairs, the rest free.
        agency_of = dict(shelter_rows)
        stays: list[dict[str, Any]] = []
        holds: list[dict[str, Any]] = []
        plan: list[tuple[int, dict[str, Any], str]] = []  # (room id, room, final state)
        for room_id, room in zip(room_ids, rooms, strict=True):
            roll = rng.random()
            state = (
                BedState.OCCUPIED
                if roll < 0.6
                else BedState.HELD
                if roll < 0.68
                else BedState.OUT_OF_SERVICE
                if roll < 0.72
                else BedState.AVAILABLE
            )
            plan.append((room_id, room, state.value))
            moment = now - timedelta(minutes=rng.uniform(5, 60 * 24 * 10))
            if state is BedState.OCCUPIED:
                stays.append(
                    {
                        "shelter_id": room["shelter_id"],
                        "agency_id": room["agency_id"],
                        "adults": 1,
                        "children": BEDS_PER_ROOM - 1,
                        "checked_in_at": moment,
                    }
                )
            elif state is BedState.HELD:
                moment = now - timedelta(minutes=rng.uniform(1, 60))
                holds.append(
                    {
                        "shelter_id": room["shelter_id"],
                        "agency_id": room["agency_id"],
                        "status": HoldStatus.ACTIVE.value,
                        "created_at": moment,
                        # Far enough ahead that no hold expires (a write) during the run.
                        "expires_at": now + timedelta(hours=12),
                    }
                )
        stay_ids = iter(
            db.session.scalars(insert(Stay).returning(Stay.id, sort_by_parameter_order=True), stays)
        )
        hold_rows = list(
            db.session.execute(
                insert(Hold).returning(
                    Hold.id, Hold.shelter_id, Hold.created_at, sort_by_parameter_order=True
                ),
                holds,
            )
        )
        hold_iter = iter(hold_rows)
        stays_iter = iter(stays)

        beds: list[dict[str, Any]] = []
        finals: list[dict[str, Any]] = []  # the transition into the final state, per bed
        for room_id, room, state in plan:
            stay_id = hold_id = None
            moment = now - timedelta(minutes=rng.uniform(5, 600))
            if state == BedState.OCCUPIED.value:
                stay_id, moment = next(stay_ids), next(stays_iter)["checked_in_at"]
            elif state == BedState.HELD.value:
                hold_id, _shelter, moment = next(hold_iter)
            for b in range(BEDS_PER_ROOM):
                bed_type = (BedType.ADULT if b == 0 or room["room_type"] == "single" else BedType.CHILD).value
                if room["room_type"] == "family" and b == BEDS_PER_ROOM - 1 and room_id % 2:
                    bed_type = BedType.CRIB.value
                beds.append(
                    {
                        "room_id": room_id,
                        "shelter_id": room["shelter_id"],
                        "agency_id": room["agency_id"],
                        "label": f"{room['label']}{'ABCD'[b]}",
                        "bed_type": bed_type,
                        "state": state,
                        "out_of_service_reason": OutOfServiceReason.REPAIR.value
                        if state == BedState.OUT_OF_SERVICE.value
                        else None,
                        "hold_id": hold_id,
                        "stay_id": stay_id,
                        "state_changed_at": moment,
                    }
                )
                finals.append({"state": state, "at": moment, "hold_id": hold_id, "stay_id": stay_id})
        bed_ids = list(db.session.scalars(insert(Bed).returning(Bed.id, sort_by_parameter_order=True), beds))
        result.beds = len(bed_ids)

        # A referral from another agency for half of the holds.
        referrals = []
        for hold_id, shelter_id, created_at in hold_rows[::2]:
            agency_id = agency_of[shelter_id]
            referrals.append(
                {
                    "token": new_token(),
                    "shelter_id": shelter_id,
                    "agency_id": agency_id,
                    "from_agency_id": agencies[1].id if agency_id != agencies[1].id else agencies[2].id,
                    "hold_id": hold_id,
                    "adults": 1,
                    "children_ages": "3 8",
                    "status": ReferralStatus.PENDING.value,
                    "created_at": created_at,
                }
            )
        if referrals:
            db.session.execute(insert(Referral), referrals)

        # The history: each bed added before the month, then stays and repairs, then its final state.
        start = now - timedelta(days=HISTORY_DAYS + 5)
        events: list[dict[str, Any]] = []

        def event(
            bed: dict[str, Any], bed_id: int, at: datetime, action: str, src: str | None, dst: str
        ) -> None:
            events.append(
                {
                    "occurred_at": at,
                    "shelter_id": bed["shelter_id"],
                    "agency_id": bed["agency_id"],
                    "bed_id": bed_id,
                    "action": action,
                    "from_state": src,
                    "to_state": dst,
                }
            )

        free, occupied, out = BedState.AVAILABLE.value, BedState.OCCUPIED.value, BedState.OUT_OF_SERVICE.value
        for bed_id, bed, final in zip(bed_ids, beds, finals, strict=True):
            event(bed, bed_id, start, "bed.added", None, free)
            at = start
            while True:
                at += timedelta(hours=rng.uniform(12, 60))
                stay = timedelta(days=rng.uniform(1, 9))
                if at + stay >= final["at"]:
                    break
                if rng.random() < 0.08:
                    event(bed, bed_id, at, "bed.out_of_service", free, out)
                    event(bed, bed_id, at + stay / 3, "bed.back_in_service", out, free)
                else:
                    event(bed, bed_id, at, "stay.checked_in", free, occupied)
                    event(bed, bed_id, at + stay, "stay.checked_out", occupied, free)
                at += stay
            if final["state"] != free:
                action = {
                    occupied: "stay.checked_in",
                    BedState.HELD.value: "hold.placed",
                    out: "bed.out_of_service",
                }[final["state"]]
                event(bed, bed_id, final["at"], action, free, final["state"])
                events[-1].update(hold_id=final["hold_id"], stay_id=final["stay_id"])
        for i in range(0, len(events), 5000):
            db.session.execute(insert(AvailabilityEvent), events[i : i + 5000])
        result.events = len(events)

        # "Updated N minutes ago"; five shelters nobody confirmed for two days (stale).
        for i, shelter in enumerate(db.session.scalars(select(Shelter).order_by(Shelter.id))):
            shelter.board_version = 100 + i
            shelter.availability_updated_at = now - (
                timedelta(days=2) if i % 10 == 9 else timedelta(minutes=rng.uniform(1, 300))
            )
        db.session.commit()
    return result


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(
    env: dict[str, str],
    workers: int,
    port: int,
    log: Path,
    *,
    app: str = "advocacy:create_app()",
    options: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    """gunicorn serving ``app`` on 127.0.0.1:``port``, once /healthz answers."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "--config",
                "python:advocacy.serving",  # as the README's production start
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                *options,
                app,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200:
                return process
        except requests.RequestException:  # not listening yet, or a worker still booting
            pass
        time.sleep(0.2)
    process.terminate()
    process.wait(timeout=30)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


# --- the load (a separate process) --------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|<meta name="csrf-token" content="([^"]+)"')


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    if match is None:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1) or match.group(2)


def sign_in(base: str, username: str, totp_secret: str) -> Any:
    """Sign in as a browser does: the login form, then the two-step form, each
    with the CSRF token of the page.  Returns a signed-in ``requests.Session``."""
    import pyotp
    import requests

    session = requests.Session()
    page = session.get(f"{base}/auth/login", timeout=30)
    response = session.post(
        f"{base}/auth/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _csrf(page.text)},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302 or "/auth/two-factor" not in response.headers.get("Location", ""):
        raise RuntimeError(f"password step failed for {username}: {response.status_code}")
    page = session.get(f"{base}/auth/two-factor", timeout=30)
    response = session.post(
        f"{base}/auth/two-factor",
        data={"code": pyotp.TOTP(totp_secret).now(), "csrf_token": _csrf(page.text)},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302:
        raise RuntimeError(f"code step failed for {username}: {response.status_code}")
    return session


@dataclass(frozen=True)
class Case:
    """One row of the table: which clients ask for what, and what counts as an answer."""

    name: str
    who: str  # "advocate" or "staff"
    path: str  # "{shelter}" is the client's own shelter
    conditional: bool = False
    background: bool = False


CASES = (
    Case("network board, HTML", "advocate", "/shelters/network"),
    Case("network board, bare JSON", "advocate", "/shelters/network.json"),
    Case("network board, poll 304", "advocate", "/shelters/network", conditional=True, background=True),
    Case("staff board, HTML (opened)", "staff", "/shelters/{shelter}/board"),
    Case("staff board, HTML (poll)", "staff", "/shelters/{shelter}/board", background=True),
    Case("staff board, bare JSON", "staff", "/shelters/{shelter}/board.json"),
    Case("staff board, poll 304", "staff", "/shelters/{shelter}/board", conditional=True, background=True),
)


@dataclass
class Figures:
    name: str
    count: int
    seconds: float
    timings: list[float]
    errors: int
    not_modified: int

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.timings)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def run_case(case: Case, base: str, clients: list[tuple[Any, int]], total: int, time_limit: float) -> Figures:
    """``total`` requests from one thread per client, as fast as answers come,
    stopped early at ``time_limit`` seconds."""
    counter = itertools.count()
    lock = threading.Lock()
    timings: list[float] = []
    errors = not_modified = 0

    def worker(session: Any, shelter: int) -> None:
        nonlocal errors, not_modified
        url = base + case.path.format(shelter=shelter)
        headers = {"X-Advocacy-Background": "1"} if case.background else {}
        etag = None
        if case.conditional:
            first = session.get(url, headers=headers, timeout=30)
            etag = first.headers.get("ETag")
        mine: list[float] = []
        bad = hits = 0
        while next(counter) < total and time.monotonic() < deadline:
            if etag:
                headers["If-None-Match"] = etag
            start = time.perf_counter()
            response = session.get(url, headers=headers, allow_redirects=False, timeout=30)
            _ = response.content
            mine.append((time.perf_counter() - start) * 1000)
            if response.status_code == 304:
                hits += 1
            elif response.status_code == 200:
                if case.conditional:  # the minute turned: a new version, then 304 again
                    etag = response.headers.get("ETag")
            else:
                bad += 1
        with lock:
            timings.extend(mine)
            errors += bad
            not_modified += hits

    # Warm every worker process and connection first (imports, caches, templates).
    for session, shelter in clients:
        session.get(base + case.path.format(shelter=shelter), timeout=30)
    started = time.monotonic()
    deadline = started + time_limit
    threads = [threading.Thread(target=worker, args=client) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Figures(case.name, len(timings), time.monotonic() - started, timings, errors, not_modified)


def load_process(config: dict[str, Any], results: Any) -> None:
    """The client side, in its own process: sign in, then every case in turn."""
    try:
        base = config["base"]
        advocates = [(sign_in(base, name, secret), 0) for name, secret in config["advocates"]]
        shelters = config["staff_shelters"]
        staff = [
            (sign_in(base, name, secret), shelters[i % len(shelters)])
            for i, (name, secret) in enumerate(config["staff"])
        ]
        figures = []
        for case in CASES:
            clients = advocates if case.who == "advocate" else staff
            figures.append(run_case(case, base, clients, config["requests"], config["time_limit"]))
        results.put(("ok", figures))
    except Exception as exc:  # noqa: BLE001 (report anything to the parent rather than hang it)
        results.put(("error", repr(exc)))


# --- main ---------------------------------------------------------------------------------------


def print_table(figures: list[Figures], args: argparse.Namespace, fill_info: Fill) -> None:
    print()
    print(
        f"{SHELTERS} shelters, {fill_info.beds} beds, {fill_info.events} availability events; "
        f"gunicorn {args.workers} sync workers, {args.concurrency} client threads in a separate process, "
        f"{os.cpu_count()} CPUs, PostgreSQL"
    )
    print()
    print("| request | n | req/s | p50 ms | p95 ms | 304s | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for f in figures:
        print(
            f"| {f.name} | {f.count} | {f.rps:.0f} | {f.pct(0.5):.1f} | {f.pct(0.95):.1f} "
            f"| {f.not_modified} | {f.errors} |"
        )
    by_name = {f.name: f for f in figures}
    print()
    print("| board | HTML/JSON p50 | JSON/HTML req/s | 304 p50 / HTML p50 |")
    print("|---|---:|---:|---:|")
    for board, html, bare, poll in (
        ("network", "network board, HTML", "network board, bare JSON", "network board, poll 304"),
        ("staff (opened)", "staff board, HTML (opened)", "staff board, bare JSON", "staff board, poll 304"),
        ("staff (poll)", "staff board, HTML (poll)", "staff board, bare JSON", "staff board, poll 304"),
    ):
        h, j, p = by_name[html], by_name[bare], by_name[poll]
        print(
            f"| {board} | {h.pct(0.5) / j.pct(0.5):.2f} | {j.rps / h.rps:.2f} | {p.pct(0.5) / h.pct(0.5):.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per row of the table")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (each its own session)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--time-limit", type=float, default=15.0, help="seconds at most per row")
    parser.add_argument("--database", default="advocacy_bench")
    args = parser.parse_args()
    server = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

    started = time.monotonic()
    database_url = reset_database(server, args.database)
    env = server_env(database_url)
    migrate(env)
    fill_info = fill(env, args.concurrency)
    print(
        f"database {args.database}: migrated and filled in {time.monotonic() - started:.0f} s "
        f"({fill_info.beds} beds, {fill_info.events} events)"
    )

    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="bench-shelters-")) / "gunicorn.log"
    process = start_gunicorn(env, args.workers, port, log)
    try:  # the server is stopped whatever happens to the load
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        config = {
            "base": f"http://127.0.0.1:{port}",
            "advocates": fill_info.advocates,
            "staff": fill_info.staff,
            "staff_shelters": fill_info.staff_shelters,
            "requests": args.requests,
            "time_limit": args.time_limit,
        }
        client = context.Process(target=load_process, args=(config, results))
        client.start()
        status, payload = results.get(timeout=args.time_limit * (len(CASES) + 2) + 120)
        client.join(timeout=30)
    finally:
        process.terminate()
        process.wait(timeout=30)
    if status != "ok":
        print(f"load process failed: {payload}; server log: {log}", file=sys.stderr)
        sys.exit(1)
    print_table(payload, args, fill_info)
    print(f"\ntotal {time.monotonic() - started:.0f} s; server log: {log}")


if __name__ == "__main__":
    main()
