"""``flask notify work``: the SMS worker (a loop; ``--once`` for cron;
``--reconcile`` to resolve unknown sends by asking Twilio)."""

from __future__ import annotations

import logging
import os
import socket
import threading

import click
from flask import current_app

from advocacy.notify import bp
from advocacy.notify.service.reconcile import reconcile_unknown
from advocacy.notify.service.worker import Worker
from advocacy.notify.transport import ConsoleSender, Sender, TwilioSender, make_client

log = logging.getLogger(__name__)

#: Enough for 100 texts a second through a Twilio answering in 150 ms
#: (15 threads busy at any moment) with room for slower answers.
DEFAULT_THREADS = 24

#: One console "phone company" per process: the outbox page reads the database.
_CONSOLE = ConsoleSender()


def sender_factory() -> tuple[callable, bool]:  # type: ignore[valid-type]
    """A function that makes one sender per thread, and whether deliveries are simulated."""
    settings = current_app.config["SETTINGS"]
    if settings.sms_backend == "twilio":

        def make() -> Sender:
            return TwilioSender(settings.twilio_account_sid, settings.twilio_auth_token)

        return make, False
    return (lambda: _CONSOLE), True


def _reconcile_once() -> int:
    settings = current_app.config["SETTINGS"]
    client = None
    if settings.sms_backend == "twilio":
        client = make_client(settings.twilio_account_sid, settings.twilio_auth_token)
    return reconcile_unknown(client)


@bp.cli.command("work")
@click.option("--once", is_flag=True, help="Send what is due now, then stop (for cron).")
@click.option("--reconcile", "reconcile_only", is_flag=True, help="Only resolve unknown sends, then stop.")
@click.option(
    "--threads",
    default=DEFAULT_THREADS,
    show_default=True,
    help="Sending threads (one Twilio client each); at least the rate times Twilio's latency, plus spare.",
)
@click.option("--batch", default=50, show_default=True, help="Rows claimed at a time.")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between looks at an empty queue.")
def work(once: bool, reconcile_only: bool, threads: int, batch: int, poll: float) -> None:
    """Send due texts.  Any number of these may run, on any machine."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if reconcile_only:
        click.echo(f"reconciled {_reconcile_once()}")
        return
    make, simulate = sender_factory()
    name = f"{socket.gethostname()}:{os.getpid()}"
    worker = Worker(app, make, name=name, batch_size=batch, simulate_delivery=simulate, threads=threads)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                claimed = worker.run_batch()
            except Exception:
                log.exception("sms worker batch failed", extra={"action": "sms.worker_error"})
                claimed = 0
            if once and not claimed:
                return
            if not claimed:
                stop.wait(poll)

    runner = threading.Thread(target=loop, daemon=True)
    runner.start()
    try:
        while runner.is_alive():
            if not once:
                with app.app_context():
                    _reconcile_once()
            runner.join(timeout=poll if not once else 0.1)
    except KeyboardInterrupt:
        stop.set()
    runner.join(timeout=5)
    worker.close()
    click.echo(f"sent {worker.stats.sent}")


#: ``flask sms worker``: the name the issue gives the same command.
sms_cli = click.Group("sms", help="Text reminders (the same as `flask notify`).")
sms_cli.add_command(work, "worker")
bp.record_once(lambda state: state.app.cli.add_command(sms_cli))
