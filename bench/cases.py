"""The case list at 100,000 cases: p50 and p95 of each search, and the plans behind them.

    .venv/bin/python bench/cases.py                 # PostgreSQL, 100,000 cases, 200 requests a search
    .venv/bin/python bench/cases.py --cases 20000 --requests 50
    .venv/bin/python bench/cases.py --sqlite        # the same on SQLite, in a temp file
    .venv/bin/python bench/cases.py --no-prepare    # psycopg never prepares a statement
    BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres  (the server; default shown)

Three agencies share the database; 80% of the cases are the big agency's,
whose advocate is signed in (password and code, as a person).  Cases are
bulk-inserted into the model's tables, so personal fields are encrypted by
their column type and the name's lookup hash is the one the search computes;
opened over five years, about 20% high danger, 10% not screened yet, 30%
closed (older cases more often), five advocates sharing the big agency's
cases.  High-danger cases have their screening and protocol steps, which the
list counts.

For each search the page is requested in process (the app's whole stack:
session, guards, the audit write, the template) and timed; the search alone
(:func:`advocacy.intake.service.search_cases`, no template) is timed too.
Then every statement one request of that search sends about cases is run
again under ``EXPLAIN ANALYZE``, on PostgreSQL twice: planned for its values,
and as the generic plan of a prepared statement (psycopg prepares a statement
after its fifth run on a connection, and PostgreSQL may then plan it once for
any value).  The script exits 1 if a plan uses no index or reads the whole
case table (``Seq Scan on case_file``; on SQLite ``SCAN case_file`` without an
index); with a few thousand cases (``--cases``) a Seq Scan can be the right
plan, so that verdict is meant for the full size.  Not a test: nothing here
asserts a time.  The database
``advocacy_bench_cases`` (``--database``) is dropped and made again on every
run, and dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import make_url

import advocacy.models  # noqa: F401  (every model in the app's order; one domain alone can meet an import cycle)
from advocacy import create_app
from advocacy.actor import Actor
from advocacy.auth.models import Role, User
from advocacy.clock import now as utcnow
from advocacy.extensions import db
from advocacy.intake import service
from advocacy.intake.models import (
    Case,
    CaseNameKey,
    CaseStatus,
    CloseReason,
    Danger,
    ProtocolOutcome,
    ProtocolStep,
    ProtocolStepKey,
    RiskScreening,
)
from advocacy.intake.names import keys_of
from advocacy.types import lookup_hash
from tests.conftest import make_settings
from tests.helpers import CSRFClient, login, make_agency, make_user

SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BIG_SHARE = 0.8
OWNERS_BIG = 5
YEARS = 5
CHUNK = 5000
LANGUAGES = ["en"] * 10 + ["es"] * 4 + ["so"] * 2 + ["hmn"] * 2 + ["ar", "om", "oj", "ksw", "vi"]
GIVEN = ("Ana", "Rosa", "Hodan", "Mai", "Winona", "Amina", "Luz", "Grace", "Dawn", "Halima", "Paw", "Yer")
FAMILY = (
    "Pérez",
    "Ali",
    "Xiong",
    "Lind",
    "Beaulieu",
    "Farah",
    "Vang",
    "Olson",
    "Morales",
    "Say",
    "Hassan",
    "Her",
)
CASE_TABLES = re.compile(r"\b(case_file|protocol_step)\b")
CASES, SCREENINGS, STEPS = Case.__table__, RiskScreening.__table__, ProtocolStep.__table__
#: What a statement of the list says when the page applied a filter.
FILTER_COLUMN = {
    "name": "case_name_key.key_hash IN",
    "number": "case_file.id =",
    "status": "case_file.status =",
    "danger": "case_file.danger =",
    "owner": "case_file.owner_id =",
}
FULL_SCAN = {
    "postgresql": re.compile(r"Seq Scan on case_file\b"),
    "sqlite": re.compile(r"\bSCAN case_file\b(?! USING)"),
}


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


@dataclass
class Fill:
    """What the measurements need to know about the data."""

    advocate: User
    big_cases: int = 0
    name: str = ""  # a name that exists in the big agency
    number: str = ""  # a case number of the big agency
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def fill(cases: int, seed: int = 11, *, owners: dict[int, list[int]] | None = None) -> Fill:
    """Agencies and advocates through the services; cases, screenings and steps by bulk insert.

    Rows are sorted by the moment the case opened before they are inserted,
    so ids grow with dates as in real use (the case number is year and id).
    ``owners`` (agency id: its advocates' ids, the big agency first) puts the
    cases into agencies that exist already (``bench/served.py`` does).
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    advocate: Any = None
    if owners is None:
        agencies = [make_agency(f"bench-{i}", f"Bench agency {i}") for i in range(3)]
        advocate = make_user(agencies[0], Role.ADVOCATE, "bench-advocate")
        owners = {
            agencies[0].id: [advocate.id]
            + [make_user(agencies[0], Role.ADVOCATE, f"bench-big-{i}").id for i in range(OWNERS_BIG - 1)],
            agencies[1].id: [make_user(agencies[1], Role.ADVOCATE, f"bench-b-{i}").id for i in range(2)],
            agencies[2].id: [make_user(agencies[2], Role.ADMIN, "bench-c-0").id],
        }
    big, *small = list(owners)
    now = utcnow()
    span = timedelta(days=365 * YEARS).total_seconds()
    closed_reasons = [r.value for r in CloseReason]

    rows: list[dict[str, Any]] = []
    for i in range(cases):
        agency_id = big if rng.random() < BIG_SHARE else rng.choice(small)
        age = rng.uniform(0, 1)
        opened = now - timedelta(seconds=age * span)
        roll = rng.random()
        danger = Danger.HIGH if roll < 0.2 else Danger.UNSCREENED if roll < 0.3 else Danger.STANDARD
        closed = rng.random() < 0.6 * age  # 30% overall, older cases more often
        # A given name, a family name and a number: the name index's lists are as long as real ones.
        alias = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)} {i:06d}"
        phone = f"+1218555{100 + i % 100:04d}"
        rows.append(
            {
                "agency_id": agency_id,
                "owner_id": rng.choice(owners[agency_id]),
                "alias": alias,
                "name_hash": lookup_hash(alias, service.NAME_PURPOSE),
                "language": rng.choice(LANGUAGES),
                "phone": phone,
                "phone_hash": lookup_hash(phone, service.PHONE_PURPOSE),
                "safe_to_text": rng.random() < 0.6,
                "contact_note": "Text only, after 6 pm." if rng.random() < 0.5 else None,
                "children_ages": " ".join(str(rng.randint(0, 17)) for _ in range(rng.choice((0, 0, 1, 2, 3))))
                or None,
                "status": (CaseStatus.CLOSED if closed else CaseStatus.OPEN).value,
                "close_reason": rng.choice(closed_reasons) if closed else None,
                "danger": danger.value,
                "opened_at": opened,
                "last_screened_at": None
                if danger is Danger.UNSCREENED
                else opened + timedelta(minutes=rng.uniform(5, 60)),
                "closed_at": opened + timedelta(days=rng.uniform(1, 90)) if closed else None,
            }
        )
    rows.sort(key=lambda r: r["opened_at"])
    # Inserts into the tables (the columns' types still encrypt) rather than the ORM's
    # bulk insert, which splits rows by which values are None, often one row a
    # statement; each row's id is found again by its own name hash.
    id_of: dict[str, int] = {}
    for i in range(0, len(rows), CHUNK):
        id_of.update(
            (name_hash, case_id)
            for case_id, name_hash in db.session.execute(
                insert(CASES).returning(CASES.c.id, CASES.c.name_hash), rows[i : i + CHUNK]
            )
        )
    ids = [id_of[row["name_hash"]] for row in rows]
    keys = [
        {
            "case_id": case_id,
            "agency_id": row["agency_id"],
            "key_hash": key.key_hash,
            "phonetic": key.phonetic,
        }
        for case_id, row in zip(ids, rows, strict=True)
        for key in keys_of(row["alias"], row["agency_id"])
    ]
    for i in range(0, len(keys), CHUNK):
        db.session.execute(insert(CaseNameKey.__table__), keys[i : i + CHUNK])

    # The screening of each high-danger case and its protocol steps, most of them done.
    answers = json.dumps({f"q{n}": "yes" if n in (2, 5) else "no" for n in range(1, 12)})
    high = [(case_id, row) for case_id, row in zip(ids, rows, strict=True) if row["danger"] == "high"]
    screenings = [
        {
            "case_id": case_id,
            "agency_id": row["agency_id"],
            "instrument_key": "lethality-screen",
            "instrument_version": "1",
            "screened_at": row["last_screened_at"],
            "screened_by_id": row["owner_id"],
            "answers": answers,
            "score": 2,
            "level": "high_danger",
            "screened_in": True,
        }
        for case_id, row in high
    ]
    screening_of: dict[int, int] = {}
    for i in range(0, len(screenings), CHUNK):
        screening_of.update(
            (case_id, screening_id)
            for screening_id, case_id in db.session.execute(
                insert(SCREENINGS).returning(SCREENINGS.c.id, SCREENINGS.c.case_id),
                screenings[i : i + CHUNK],
            )
        )
    steps = []
    for case_id, row in high:
        screening_id = screening_of[case_id]
        for n, step in enumerate(ProtocolStepKey):
            done = row["status"] == "closed" or rng.random() < 0.8 - 0.2 * n
            steps.append(
                {
                    "case_id": case_id,
                    "agency_id": row["agency_id"],
                    "screening_id": screening_id,
                    "step": step.value,
                    "outcome": ProtocolOutcome.DONE.value if done else None,
                    "done_at": row["last_screened_at"] + timedelta(minutes=15 * (n + 1)) if done else None,
                    "done_by_id": row["owner_id"] if done else None,
                }
            )
    for i in range(0, len(steps), CHUNK):
        db.session.execute(insert(STEPS), steps[i : i + CHUNK])
    db.session.commit()

    big_rows = [(case_id, row) for case_id, row in zip(ids, rows, strict=True) if row["agency_id"] == big]
    _name_id, name_row = big_rows[len(big_rows) // 3]
    number_id, number_row = big_rows[len(big_rows) // 2]
    result = Fill(advocate=advocate, big_cases=len(big_rows))
    result.name = name_row["alias"].upper()  # as typed, in other case: the lookup normalizes
    result.number = f"{number_row['opened_at'].year}-{number_id:06d}"
    result.counts = {"cases": len(ids), "screenings": len(screening_of), "protocol steps": len(steps)}
    result.seconds = time.perf_counter() - started
    return result


def analyze() -> None:
    """Fresh statistics, and on PostgreSQL a visibility map, as autovacuum keeps on a live table.

    Right after a bulk load no page is marked all-visible, so an index-only
    scan would still read the table: that is a loading artefact, not the
    state of a database in use.
    """
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    else:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


# --- measuring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Search:
    label: str
    args: dict[str, str]

    @property
    def path(self) -> str:
        return "/cases/" + (f"?{urlencode(self.args)}" if self.args else "")

    def send(self, client: CSRFClient) -> Any:
        """As the list's form does: a name only ever by POST (it never sits in a URL), other filters by GET."""
        if "name" in self.args:
            return client.post("/cases/", data=self.args)
        return client.get(self.path)

    def query(self) -> service.CaseQuery:
        args = dict(self.args)
        page = int(args.pop("page", "1"))
        return service.CaseQuery(page=page, **args)


def searches(data: Fill) -> list[Search]:
    return [
        Search("first page", {}),
        Search("page 500", {"page": "500"}),
        Search("status=open", {"status": "open"}),
        Search("danger=high", {"danger": "high"}),
        Search("owner=me", {"owner": "me"}),
        Search("danger=high&status=open", {"danger": "high", "status": "open"}),
        Search("name (exists)", {"name": data.name}),
        Search("a first name", {"name": data.name.split()[0].lower()}),
        Search("case number", {"number": data.number}),
    ]


def percentiles(timings: list[float]) -> tuple[float, float, float]:
    timings = sorted(timings)
    return (
        1000 / statistics.mean(timings),
        timings[len(timings) // 2],
        timings[min(len(timings) - 1, int(len(timings) * 0.95))],
    )


def time_page(client: CSRFClient, search: Search, rounds: int) -> tuple[float, float, float]:
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = search.send(client)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (search.label, response.status_code)
    return percentiles(timings)


def time_service(app: Flask, user: User, query: service.CaseQuery, rounds: int) -> tuple[str, float, float]:
    """Matches (as the list says them: "more than 10,000" past its count), p50 and p95 of
    the search alone (its audit write included, no template)."""
    timings = []
    actor = Actor.for_user(user)
    for _ in range(rounds):
        start = time.perf_counter()
        found = service.search_cases(actor, query)
        timings.append((time.perf_counter() - start) * 1000)
    _rps, p50, p95 = percentiles(timings)
    return f"{'more than ' if found.more else ''}{found.total:,}", p50, p95


@contextmanager
def captured() -> Iterator[list[tuple[str, Any]]]:
    """Every statement about cases sent while the block runs, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def listener(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        if not many and CASE_TABLES.search(statement) and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


@dataclass
class Plan:
    """One statement's plan: as planned for its values, and as prepared (PostgreSQL)."""

    search: str
    kind: str
    text: str
    ms: float | None = None
    generic: str = ""
    generic_ms: float | None = None

    @property
    def texts(self) -> list[str]:
        return [t for t in (self.text, self.generic) if t]

    @property
    def full_scan(self) -> bool:
        return any(FULL_SCAN[db.engine.dialect.name].search(t) for t in self.texts)

    @property
    def uses_index(self) -> bool:
        return all(
            re.search(r"Index|USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY", t) for t in self.texts
        )


def kind_of(statement: str) -> str:
    flat = " ".join(statement.split())
    if "FROM protocol_step" in flat:
        return "open protocol steps"
    if re.search(r"SELECT count\(\*\)", flat, re.I):
        return "count"
    if "FROM case_file" in flat and "LIMIT" in flat:
        return "page of rows"
    return "other"


def _timed(rows: list[Any]) -> tuple[str, float | None]:
    plan = "\n".join(row[0] for row in rows)
    found = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return plan, float(found.group(1)) if found else None


def explain(statement: str, parameters: Any) -> tuple[str, float | None]:
    """The plan for these values (what the first runs of a statement get)."""
    if db.engine.dialect.name != "postgresql":
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return "\n".join(str(row[-1]) for row in rows), None
    with db.engine.connect() as conn:
        return _timed(conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS OFF) " + statement, parameters).all())


def explain_generic(statement: str, parameters: dict[str, Any]) -> tuple[str, float | None]:
    """The plan PostgreSQL may keep for the statement once prepared, made without its values.

    psycopg prepares a statement on the server after its fifth run on a
    connection, and from then on PostgreSQL may use one generic plan for
    every value: with 80% of the rows in one agency, that plan can differ.
    """
    from psycopg.sql import Literal

    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    sql = re.sub(r"%\((\w+)\)s", placeholder, statement)
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        values = ", ".join(Literal(parameters[name]).as_string(raw) for name in names)
        raw.execute("SET plan_cache_mode = force_generic_plan")
        raw.execute(f"PREPARE bench_generic AS {sql}")  # type: ignore[arg-type]
        try:
            execute = f"EXECUTE bench_generic({values})" if names else "EXECUTE bench_generic"
            rows = raw.execute(f"EXPLAIN (ANALYZE, BUFFERS OFF) {execute}").fetchall()  # type: ignore[arg-type]
        finally:
            raw.execute("DEALLOCATE bench_generic")
            raw.execute("RESET plan_cache_mode")
        conn.rollback()
    return _timed(rows)


def plans_of(client: CSRFClient, search: Search) -> list[Plan]:
    """The plans of what one request of the search sends about cases."""
    with captured() as seen:
        assert search.send(client).status_code == 200
    sent = " ".join(statement for statement, _ in seen)
    for arg in search.args:
        if arg != "page" and FILTER_COLUMN[arg] not in sent:
            raise SystemExit(f"{search.path}: the page sent no condition on {FILTER_COLUMN[arg]}")
    out, done = [], set()
    for statement, parameters in seen:
        key = (statement, repr(parameters))
        if key in done:
            continue
        done.add(key)
        plan = Plan(search.label, kind_of(statement), *explain(statement, parameters))
        if db.engine.dialect.name == "postgresql":
            plan.generic, plan.generic_ms = explain_generic(statement, parameters)
        out.append(plan)
    return out


def scans(plan: str) -> str:
    """The plan's scans, shortened, for the summary table."""
    nodes = [line.strip().removeprefix("->").strip() for line in plan.splitlines()]
    found = [re.sub(r"\s+\(cost=.*", "", n) for n in nodes if re.search(r"Scan|SEARCH|SCAN", n)]
    return "; ".join(found[:2]) or nodes[0]


def case_rows_read(plan: str) -> int:
    """Rows of case_file a PostgreSQL plan went through: returned plus filtered out."""
    total, loops, on_cases = 0, 1, False
    for line in plan.splitlines():
        if node := re.search(r"\(actual time=\S+ rows=(\d+) loops=(\d+)\)", line):
            on_cases = bool(re.search(r"Scan.* on case_file\b", line))
            loops = int(node.group(2))
            if on_cases:
                total += int(node.group(1)) * loops
        elif on_cases and (removed := re.search(r"Rows Removed by (?:Filter|Index Recheck): (\d+)", line)):
            total += int(removed.group(1)) * loops
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per search")
    parser.add_argument("--database", default="advocacy_bench_cases")
    parser.add_argument("--sqlite", action="store_true", help="run on SQLite in a temp dir instead")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    parser.add_argument(
        "--no-prepare",
        action="store_true",
        help="psycopg never prepares statements (every run is planned for its values)",
    )
    args = parser.parse_args(argv)

    server_url = os.environ.get("BENCH_POSTGRES_URL", SERVER_URL)
    if args.sqlite:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench-cases.sqlite3"
    else:
        url = reset_database(server_url, args.database)
    extra: dict[str, Any] = {}
    if args.no_prepare and not args.sqlite:
        extra["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            "connect_args": {"prepare_threshold": None},
        }
    app = create_app(make_settings(url, log_level="WARNING", extra=extra))
    app.test_client_class = CSRFClient
    try:
        with app.app_context():
            return run(app, args)
    finally:
        if not args.sqlite and not args.keep:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            drop_database(server_url, args.database)


def run(app: Flask, args: argparse.Namespace) -> int:
    db.create_all()
    data = fill(args.cases)
    started = time.perf_counter()
    analyze()
    counts = ", ".join(f"{n:,} {what}" for what, n in data.counts.items())
    engine = db.engine.dialect.name
    print(
        f"engine: {engine}; {counts}; filled in {data.seconds:.1f} s, analyzed in {time.perf_counter() - started:.1f} s"
    )
    print(
        f"signed in: an advocate of the agency with {data.big_cases:,} cases; {args.requests} requests a search"
        + ("; statements never prepared" if args.no_prepare else "")
    )
    print()

    client: CSRFClient = app.test_client()  # type: ignore[assignment]
    login(client, data.advocate)
    client.get("/cases/")  # warm up: templates compiled, caches filled

    every: list[Search] = searches(data)
    figures: list[tuple[Search, int, float, float, float, float, float]] = []
    for search in every:
        total, s50, s95 = time_service(app, data.advocate, search.query(), args.requests)
        rps, p50, p95 = time_page(client, search, args.requests)
        figures.append((search, total, rps, p50, p95, s50, s95))

    print("| search | matches | page req/s | page p50 ms | page p95 ms | search p50 ms | search p95 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for search, total, rps, p50, p95, s50, s95 in figures:
        print(f"| {search.label} | {total} | {rps:.0f} | {p50:.1f} | {p95:.1f} | {s50:.1f} | {s95:.1f} |")
    print()

    plans = [plan for search in every for plan in plans_of(client, search)]
    if engine == "postgresql":
        print(
            "| search | statement | plan | case rows read | DB ms | prepared (generic) plan | rows read | DB ms |"
        )
        print("|---|---|---|---:|---:|---|---:|---:|")
        for plan in plans:
            generic = "same" if scans(plan.generic) == scans(plan.text) else scans(plan.generic)
            print(
                f"| {plan.search} | {plan.kind} | {scans(plan.text)} | {case_rows_read(plan.text):,} | "
                f"{plan.ms:.2f} | {generic} | {case_rows_read(plan.generic):,} | {plan.generic_ms:.2f} |"
            )
    else:
        print("| search | statement | plan | index |")
        print("|---|---|---|---|")
        for plan in plans:
            print(
                f"| {plan.search} | {plan.kind} | {scans(plan.text)} | {'yes' if plan.uses_index else 'no'} |"
            )
    print()
    for plan in plans:
        print(f"-- {plan.search}: {plan.kind}")
        print(plan.text)
        if plan.generic and scans(plan.generic) != scans(plan.text):
            print(f"-- {plan.search}: {plan.kind}, prepared (generic plan)")
            print(plan.generic)
        print()
    bad = [plan for plan in plans if plan.full_scan or not plan.uses_index]
    for plan in plans:
        verdict = (
            "reads the whole case table" if plan.full_scan else "index" if plan.uses_index else "no index"
        )
        print(f"{plan.search}, {plan.kind}: {verdict}")
    if bad:
        print(f"{len(bad)} plan(s) without an index or with a Seq Scan on case_file")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
