"""gunicorn's settings module: a worker freezes what it holds once the app is loaded."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import time
import urllib.error
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


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ADVOCACY_ENV": "development",
        "FLASK_APP": "advocacy:create_app",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serving.db'}",
    }


def _upgrade(env: dict[str, str], revision: str = "head") -> None:
    flask = Path(sys.executable).parent / "flask"
    subprocess.run(
        [str(flask), "db", "upgrade", revision], cwd=ROOT, env=env, check=True, capture_output=True
    )


def _gunicorn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen(
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _first_answer(process: subprocess.Popen[bytes], url: str) -> int:
    """The status of ``url`` once the server answers (an error status included)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - http://127.0.0.1 only
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            time.sleep(0.3)
    raise AssertionError(process.stdout.read().decode() if process.poll() is not None else "no answer")


def test_gunicorn_serves_the_app_with_the_settings_module(tmp_path: Path) -> None:
    """The production start of the README, on SQLite: the database upgraded, the worker
    boots with the hook and answers."""
    env, port = _env(tmp_path), _free_port()
    _upgrade(env)
    process = _gunicorn(env, port)
    try:
        assert _first_answer(process, f"http://127.0.0.1:{port}/auth/login") == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_worker_starts_while_its_database_is_down_and_says_so(tmp_path: Path) -> None:
    """No database at the start is not a reason to stop serving: the health check answers
    that the database is unavailable (and answers "ok" once it is back)."""
    env, port = _env(tmp_path), _free_port()
    env["DATABASE_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/nothing"
    process = _gunicorn(env, port)
    try:
        assert _first_answer(process, f"http://127.0.0.1:{port}/healthz") == 503
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert b"migrations could not be checked at start (OperationalError)" in output
    # The error's kind, not the driver's message: no host, user or traceback in the log.
    assert b"Traceback" not in output and b'127.0.0.1", port' not in output


def test_gunicorn_refuses_a_database_its_migrations_have_not_reached(tmp_path: Path) -> None:
    """`flask db upgrade` forgotten: the worker says so and exits as unable to boot, and the
    master stops rather than serve audit appends that no trigger would chain."""
    env, port = _env(tmp_path), _free_port()
    _upgrade(env, "0015b")
    process = _gunicorn(env, port)
    try:
        output, _ = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == serving.WORKER_BOOT_ERROR, output.decode()
    assert b"the database lacks migrations" in output and b"flask db upgrade" in output
