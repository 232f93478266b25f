"""gunicorn's settings module: a worker freezes what it holds once the app is loaded."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from advocacy import serving

ROOT = Path(__file__).resolve().parent.parent


def test_a_worker_moves_its_startup_objects_out_of_the_collectors_generations() -> None:
    gc.unfreeze()
    try:
        serving.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_gunicorn_serves_the_app_with_the_settings_module(tmp_path: Path) -> None:
    """The production start of the README, on SQLite: the worker boots with the hook and answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "ADVOCACY_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serving.db'}",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [
            str(gunicorn),
            "--config",
            "python:advocacy.serving",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "advocacy:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/auth/login", timeout=5) as response:
                    status = response.status
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200, process.stdout.read().decode() if process.poll() is not None else "no answer"
    finally:
        process.terminate()
        process.wait(timeout=30)
