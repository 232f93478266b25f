"""The location guard's throughput: how many 500-character summaries it scans per second.

    .venv/bin/python bench/guard.py                      # 10,000 summaries, 20% with something to catch
    .venv/bin/python bench/guard.py --summaries 50000 --catch-share 0.5 --seed 7

Every hand-off summary is scanned when the advocate previews it, again when
it is sent and again on every push retry, so the guard sits on the path of
each of those requests.  The summaries are built from the phrasings of the
test corpus (``tests/data/location_guard_corpus.json``), whole, joined while
they fit in 500 characters (the schema's limit); a share of
them includes at least one phrasing that must be caught.  That makes them
denser in numbers, addresses and case references than most real summaries,
so the figures are on the pessimistic side.

It prints summaries per second and the time per summary (mean, p50, p95,
p99, max), for all summaries and for the benign and blocked ones apart.  Not
a test: nothing here asserts a number.  Compare figures from one machine.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from advocacy.handoff.guard import KnownPlaces, scan

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "location_guard_corpus.json"
LENGTH = 500


def summaries(count: int, catch_share: float, seed: int) -> list[tuple[str, bool]]:
    """``count`` summaries of about 500 characters, and whether each was given something to catch."""
    corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
    benign = [entry["text"] for entry in corpus["pass"]]
    caught = [entry["text"] for entry in corpus["catch"]]
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        leak = rng.random() < catch_share
        parts = [rng.choice(caught)] if leak else []
        while True:
            candidate = rng.choice(benign)
            if sum(len(p) + 1 for p in parts) + len(candidate) > LENGTH:
                break
            parts.append(candidate)
        rng.shuffle(parts)
        out.append((" ".join(parts), leak))
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(name: str, times: list[float]) -> None:
    if not times:
        return
    total = sum(times)
    us = [t * 1e6 for t in times]
    print(
        f"{name:8} {len(times):7d} summaries  {len(times) / total:9.0f}/s   "
        f"mean {statistics.fmean(us):6.0f} us  p50 {percentile(us, 0.50):6.0f}  "
        f"p95 {percentile(us, 0.95):6.0f}  p99 {percentile(us, 0.99):6.0f}  max {max(us):6.0f}"
    )


def measure(count: int = 10_000, catch_share: float = 0.2, seed: int = 1) -> dict[str, float]:
    """Scan ``count`` corpus-built summaries, print the figures and return the headline ones."""
    corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
    places = KnownPlaces.build(tuple(p) for p in corpus["known_places"])
    work = summaries(count, catch_share, seed)
    scan("warm up 218-555-0143 at 44 Sample St", known_places=places)

    every, clean, blocked = [], [], []
    missed = 0
    for text, leak in work:
        started = time.perf_counter()
        hits = scan(text, known_places=places)
        elapsed = time.perf_counter() - started
        every.append(elapsed)
        (blocked if hits else clean).append(elapsed)
        missed += leak and not hits
    mean_chars = statistics.fmean(len(text) for text, _ in work)
    print(
        f"{len(work)} summaries of {mean_chars:.0f} characters on average, {len(places.entries)} shelter parts"
    )
    report("all", every)
    report("passed", clean)
    report("blocked", blocked)
    print(
        f"blocked {len(blocked)}, of which given something to catch: {sum(1 for _, leak in work if leak) - missed}"
    )
    us = [t * 1e6 for t in every]
    return {
        "summaries": len(work),
        "per_second": len(every) / sum(every),
        "p50_us": percentile(us, 0.50),
        "p95_us": percentile(us, 0.95),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summaries", type=int, default=10_000)
    parser.add_argument("--catch-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    measure(args.summaries, args.catch_share, args.seed)


if __name__ == "__main__":
    main()
