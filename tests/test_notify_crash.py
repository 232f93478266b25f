"""A worker process killed with SIGKILL in the middle of a batch, on PostgreSQL.

The worker runs in a real process of its own (``tests/notify_crash_worker.py``)
and sends through a stand-in for Twilio that writes every message it accepts
to a file: that file is what Twilio holds.  The process is killed after it
has claimed every row, sent some of them and had one accepted by "Twilio"
without hearing back.  A fresh worker and the reconciler (which asks
Twilio's Messages list, here read from the file) then finish the work: every
reminder ends sent, and "Twilio" received each exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from advocacy.clock import FrozenClock, use_clock
from advocacy.extensions import db
from advocacy.notify.models import OutboxMessage
from advocacy.notify.service.claim import DEFAULT_LEASE
from advocacy.notify.service.reconcile import RECONCILE_AFTER, reconcile_unknown
from advocacy.notify.service.worker import Worker
from advocacy.notify.transport import make_client
from tests import twilio_fake
from tests.notify_crash_worker import FileRecordingSender, recorded
from tests.test_notify_concurrency import due_reminders

pytestmark = pytest.mark.postgresql_only

ROOT = Path(__file__).resolve().parent.parent
COUNT = 8
#: Sends answered before "Twilio" accepts one and never answers.
FAST = 3


@pytest.fixture(params=["postgresql"])
def engine_name(request: pytest.FixtureRequest) -> str:
    """Only PostgreSQL: a second process writing to a SQLite file proves nothing more."""
    return request.param


def states() -> Counter[str]:
    db.session.expire_all()
    return Counter(str(m.state) for m in db.session.scalars(select(OutboxMessage)))


def wait_for(condition: Any, what: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(
                f"the worker exited ({proc.returncode}) before {what}: {proc.stderr.read()!r}"
            )  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)


def twilio_listing(record_file: Path) -> Any:
    """A Twilio client whose Messages list is what the killed worker's "Twilio" accepted."""

    def answer(request: twilio_fake.RecordedRequest) -> Any:
        assert request.method == "GET", "reconciling never sends"
        to = request.params.get("To", "")
        messages = [
            twilio_fake.message_json(
                sid=m["sid"],
                to=m["to"],
                body=m["body"],
                status="sent",
                created=datetime.fromisoformat(m["created"]),
            )
            for m in reversed(recorded(record_file))
            if m["to"] == to
        ]
        return twilio_fake.message_page(messages, to=to)

    http = twilio_fake.RecordingHttpClient(responder=answer)
    return make_client(twilio_fake.ACCOUNT_SID, twilio_fake.AUTH_TOKEN, http_client=http), http


def test_a_worker_killed_with_sigkill_mid_batch_loses_nothing_and_doubles_nothing(
    app: Any, tmp_path: Path
) -> None:
    due_reminders(COUNT, rate=1000.0)
    record_file = tmp_path / "twilio.jsonl"
    settings = app.config["SETTINGS"]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ADVOCACY_ENCRYPTION_KEYS": ",".join(settings.encryption_keys),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.notify_crash_worker",
            app.config["SQLALCHEMY_DATABASE_URI"],
            str(record_file),
            str(FAST),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # It claimed the whole batch, three sends came back, the fourth is at "Twilio" unanswered.
        wait_for(lambda: len(recorded(record_file)) == FAST + 1, "Twilio accepted a fourth text", proc)
        assert states() == {"sent": FAST, "claimed": COUNT - FAST}
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    db.session.remove()
    assert states() == {"sent": FAST, "claimed": COUNT - FAST}

    # Later, when the dead worker's lease has run out: a fresh worker and the reconciler.
    later = FrozenClock(datetime.now(UTC) + DEFAULT_LEASE + RECONCILE_AFTER + timedelta(seconds=5))

    with use_clock(later):
        fresh = FileRecordingSender(record_file)
        Worker(app, lambda: fresh, name="fresh").run_until_idle()
        assert fresh.sent == 0  # unknown rows are never resent blindly
        assert states() == {"sent": FAST, "unknown": COUNT - FAST}
        client, listing = twilio_listing(record_file)
        assert reconcile_unknown(client) == COUNT - FAST
        assert listing.requests and all(r.method == "GET" for r in listing.requests)
        # Twilio had the unanswered one: sent.  It lacked the others: queued again, sent now.
        assert states() == {"sent": FAST + 1, "queued": COUNT - FAST - 1}
        Worker(app, lambda: fresh, name="fresh").run_until_idle()
    assert fresh.sent == COUNT - FAST - 1
    assert states() == {"sent": COUNT}
    bodies = Counter(m["body"] for m in recorded(record_file))
    assert len(bodies) == COUNT and set(bodies.values()) == {1}
    sids = {m["sid"] for m in recorded(record_file)}
    db.session.expire_all()
    assert {m.provider_sid for m in db.session.scalars(select(OutboxMessage))} == sids
