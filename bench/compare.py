"""Two versions of the code on the same data, in turns: the CPU per request of each, paired.

    .venv/bin/python bench/compare.py --base /tmp/base11 /cases/ /cases/{case}
    .venv/bin/python bench/compare.py --base /tmp/base11 --rounds 40 --batch 20 /healthz /shelters/network

A shared virtual machine runs at a speed that drifts by half within minutes
(other tenants), so two versions measured one after the other say more about
the minute than the code.  Here each version is a process of its own (this
checkout and ``--base``, a worktree of another commit), both signed in on the
data of ``bench/profile_page.py``'s last fill (``--reuse``'s state), and the
driver asks them in turns for a batch of requests of one page, the order
swapped every round, so both see the same minutes.  Printed per page: the
median and the least CPU per request (``process_time``) of each, and the
median of the rounds' ratios (this version's CPU over the base's, so 0.7 is
30% less).  In process through Flask's test client, PostgreSQL; the served
figures are ``bench/served.py``'s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def serve(root: Path, paths: list[str], batch: int) -> None:
    """The worker: one version's app, a signed-in client per role; a path's index in, CPU ms out."""
    sys.path[:0] = [str(root), str(root / "bench")]
    import benchapp
    import profile_page

    from advocacy import create_app
    from config import load_settings

    state = json.loads(profile_page.STATE.read_text())
    env, data = state["env"], state["data"]
    app = create_app(load_settings(env, log_level="WARNING"))
    benchapp.add_bare_endpoints(app)
    clients: dict[str, Any] = {}
    urls = []
    for path in paths:
        staff = "{shelter}" in path or "board" in path
        username, secret = (data["staff"] if staff else data["advocates"])[-1]
        if username not in clients:
            clients[username] = app.test_client()
            profile_page._sign_in(clients[username], username, secret)
        url = path.format(shelter=data["staff_shelters"][1], case=data["case_ids"][1])
        urls.append((clients[username], url))
        for _ in range(5):
            status = clients[username].get(url).status_code
            if status != 200:
                raise SystemExit(f"{root}: {url} answered {status}")
    import advocacy

    print(f"{root}: serving advocacy from {Path(advocacy.__file__).parent}", file=sys.stderr)
    print("ready", flush=True)
    for line in sys.stdin:
        client, url = urls[int(line)]
        started = time.process_time()
        for _ in range(batch):
            client.get(url)
        print(f"{(time.process_time() - started) / batch * 1000:.4f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--base", help="the other version's checkout (a git worktree)")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--batch", type=int, default=20, help="requests per turn")
    parser.add_argument("--serve", metavar="ROOT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(Path(args.serve), args.paths, args.batch)
        return 0
    if not args.base:
        parser.error("--base is needed")

    def start(root: Path) -> subprocess.Popen[str]:
        command = [sys.executable, __file__, "--serve", str(root), "--batch", str(args.batch), *args.paths]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise SystemExit(f"{root}: the worker did not start")
        return process

    base = start(Path(args.base).resolve())
    time.sleep(31 - time.time() % 30)  # the next two-step code: a code is refused a second time
    this = start(ROOT)

    def ask(process: subprocess.Popen[str], index: int) -> float:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(f"{index}\n")
        process.stdin.flush()
        return float(process.stdout.readline())

    print("| page | base median / least ms | this median / least ms | this / base (median of rounds) |")
    print("|---|---:|---:|---:|")
    for index, path in enumerate(args.paths):
        mine, theirs, ratios = [], [], []
        for round_ in range(args.rounds):
            if round_ % 2:
                a, b = ask(this, index), ask(base, index)
            else:
                b, a = ask(base, index), ask(this, index)
            mine.append(a)
            theirs.append(b)
            ratios.append(a / b)
        print(
            f"| {path} | {statistics.median(theirs):.2f} / {min(theirs):.2f} "
            f"| {statistics.median(mine):.2f} / {min(mine):.2f} | {statistics.median(ratios):.2f} |",
            flush=True,
        )
    for process in (base, this):
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
