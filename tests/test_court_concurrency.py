"""Two advocates move the same court date at once, on PostgreSQL with real threads:
the changes apply one after the other, and the reminders left queued are exactly
those of the time the court date ends at, never the old ones, never twice."""

from __future__ import annotations

import threading
import traceback
from datetime import UTC, date, datetime, time
from itertools import pairwise
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from advocacy.court import service
from advocacy.court.models import CourtEvent, CourtEventKind, CourtEventStatus
from advocacy.court.schedule import ARRIVE_BY
from advocacy.errors import Refused
from advocacy.extensions import db
from advocacy.notify.models import MessageKind, MessageState, OutboxMessage
from advocacy.roles import Role
from advocacy.uow import unit_of_work
from tests import factories
from tests.test_court import NOW, subscribe

pytestmark = pytest.mark.postgresql_only

ROUNDS = 6


@pytest.fixture(params=["postgresql"])
def engine_name(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only: SQLite has one writer at a time, so nothing here would race."""
    return request.param


def at_once(app: Flask, *acts: Any) -> list[Any]:
    """Each act in its own thread and session, started together, each in a unit of work."""
    barrier = threading.Barrier(len(acts))
    results: list[Any] = [None] * len(acts)
    errors: list[str] = []

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                with unit_of_work():
                    results[i] = acts[i]()
            except Refused as refusal:
                results[i] = refusal.message
            except BaseException:  # noqa: BLE001 (reported to the main thread)
                errors.append(traceback.format_exc())
            finally:
                db.session.remove()

    db.session.commit()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(acts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a thread is stuck (a deadlock?)"
    assert not errors, "\n".join(errors)
    db.session.expire_all()
    return results


def queued_reminders(event_id: int) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.source_id == event_id,
                OutboxMessage.kind == MessageKind.REMINDER,
                OutboxMessage.state == MessageState.QUEUED,
            )
        )
    )


def test_two_advocates_continue_the_same_court_date_to_different_days(app: Flask, clock: Any) -> None:
    clock.set(NOW)
    north = factories.agency("north")
    court = service.add_court(factories.system(north), north.id, "District Court", "America/Chicago")
    first, second = factories.user(north, Role.ADVOCATE), factories.user(north, Role.ADVOCATE)
    case = factories.case(first, "Maple")
    subscribe(case)
    first_actor, second_actor = factories.actor(first), factories.actor(second)
    court_id = court.id
    for round_ in range(ROUNDS):
        event = service.add_event(
            factories.actor(first),
            case,
            kind=CourtEventKind.TRIAL,
            court_id=court.id,
            courtroom=None,
            day=date(2026, 12, 15),
            at=time(9, 0),
        )
        factories.commit()

        def move(who: Any, day: date, event_id: int = event.id) -> Any:
            return service.change_event(
                who,
                event_id,
                court_id=court_id,
                courtroom=None,
                day=day,
                at=time(9, 0),
                continued=True,
                notice=False,
            ).starts_at

        def cancel(event_id: int = event.id) -> Any:
            return service.cancel_event(second_actor, event_id, notice=False).status

        if round_ % 2 == 0:
            at_once(
                app,
                lambda: move(first_actor, date(2027, 1, 12)),
                lambda: move(second_actor, date(2027, 2, 9)),
            )
        else:
            at_once(app, lambda: move(first_actor, date(2027, 1, 12)), cancel)
        final = db.session.get(CourtEvent, event.id)
        assert final is not None
        rows = queued_reminders(event.id)
        if final.status == CourtEventStatus.CANCELLED:
            assert rows == []
        else:
            # Three reminders, all for the time the court date ended at.
            assert len(rows) == 3
            assert {r.valid_until for r in rows} == {final.starts_at - ARRIVE_BY}
            assert final.starts_at > datetime(2027, 1, 1, tzinfo=UTC)
        # Both changes are in the history, or the second was refused for a cancelled date.
        history = service.event_history(final)
        actions = [c.action for c in history]
        # Each change started from the state the other one left: none was lost.
        for newer, older in pairwise(history):
            assert newer.from_status == older.to_status
            assert newer.action == "cancel" or newer.from_starts_at == older.starts_at
        assert actions in (
            ["continue", "continue", "schedule"],
            ["cancel", "continue", "schedule"],
            ["cancel", "schedule"],
        )
