"""The in-process benchmarks still run: each, tiny and on SQLite, prints its table.

The benchmarks are not tests and assert no time, but they share helpers with
each other (``bench/home.py`` times its page with ``bench/cases.py``'s
helpers), so a change to one can break another unnoticed until the next
``make bench``. Each runs here as ``make bench`` runs it, in its own process,
with a few rows and requests; a plan judged on so few rows may differ from
the real one, so the exit code is not asserted, only that the script ran to
its table without a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

RUNS = {
    "home": (["bench/home.py", "--sqlite", "--cases", "300", "--requests", "3"], "| `/` (advocate) |"),
    "cases": (["bench/cases.py", "--sqlite", "--cases", "300", "--requests", "3"], "| first page |"),
    "handoff": (
        ["bench/handoff.py", "--sqlite", "--records", "300", "--summaries", "50"],
        "The location guard on 50 summaries",
    ),
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_benchmark_runs_to_its_table(name: str) -> None:
    args, table = RUNS[name]
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert table in done.stdout, (done.stdout[-2000:], done.stderr[-2000:])
