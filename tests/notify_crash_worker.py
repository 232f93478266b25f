"""A worker in a process of its own, for the SIGKILL test (``tests/test_notify_crash.py``).

``python -m tests.notify_crash_worker DATABASE_URL RECORD_FILE FAST``
(with the test app's keys in ``ADVOCACY_ENCRYPTION_KEYS``) runs the real :class:`~advocacy.notify.service.worker.Worker` loop against
the database, through :class:`FileRecordingSender`: a stand-in for Twilio
that writes each message it accepts to ``RECORD_FILE`` (one JSON line,
flushed and fsynced, so a killed process leaves a true record of what
"Twilio" holds).  The first ``FAST`` sends answer at once; after them
"Twilio" accepts the message and never answers, so the process is killed
with a message that exists at Twilio and is not recorded in the database.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from advocacy.notify.transport import Outcome, SendResult, check_send_arguments, fake_sid


class FileRecordingSender:
    """What "Twilio" accepted, appended to a file before the answer goes back."""

    def __init__(self, path: Path, fast: int | None = None, hang: float = 600.0) -> None:
        self.path = Path(path)
        self.fast = fast
        self.hang = hang
        self.sent = 0

    def send(
        self,
        to: str,
        body: str,
        *,
        status_callback: str | None = None,
        validity_seconds: int | None = None,
        messaging_service_sid: str | None = None,
        from_number: str | None = None,
    ) -> SendResult:
        check_send_arguments(
            to,
            body,
            validity_seconds=validity_seconds,
            messaging_service_sid=messaging_service_sid,
            from_number=from_number,
        )
        sid = fake_sid()
        line = {
            "sid": sid,
            "to": to,
            "body": body,
            "messaging_service_sid": messaging_service_sid,
            "from": from_number,
            "created": datetime.now(UTC).isoformat(),
        }
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
            out.flush()
            os.fsync(out.fileno())
        self.sent += 1
        if self.fast is not None and self.sent > self.fast:
            time.sleep(self.hang)  # accepted, but the answer never comes back
        return SendResult(Outcome.SENT, sid=sid, status="queued")


def recorded(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(database_url: str, record_file: str, fast: str) -> None:
    from advocacy import create_app
    from advocacy.notify.service.worker import Worker
    from config import load_settings

    app = create_app(
        load_settings(
            {
                "ADVOCACY_ENV": "testing",
                "DATABASE_URL": database_url,
                "ADVOCACY_ENCRYPTION_KEYS": os.environ["ADVOCACY_ENCRYPTION_KEYS"],
            }
        )
    )
    sender = FileRecordingSender(Path(record_file), fast=int(fast))
    Worker(app, lambda: sender, name="doomed", batch_size=50).run_until_idle()


if __name__ == "__main__":
    main(*sys.argv[1:4])
