"""``flask handoff deliver``: push the records that are due, from an outside scheduler (cron, a timer)."""

from __future__ import annotations

import click
from flask import current_app

from advocacy.extensions import db
from advocacy.handoff import bp
from advocacy.handoff.service import push


@bp.cli.command("deliver", help="Push released hand-off records that are due to their partners' URLs.")
@click.option("--limit", default=100, show_default=True, help="At most this many deliveries in one run.")
def deliver(limit: int) -> None:
    production = bool(current_app.config["SETTINGS"].is_production)
    try:
        # Each delivery commits on its own, so a crash costs at most one repeat (same webhook-id).
        outcome = push.deliver_due(production=production, limit=limit, each=db.session.commit)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    click.echo(
        f"delivered {outcome.delivered}, retried {outcome.retried}, failed {outcome.failed}, "
        f"cancelled {outcome.cancelled}"
    )
