"""The demo's court dates: hearings tomorrow and next week, with reminders due in its first minutes."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from advocacy import clock
from advocacy.court import service
from advocacy.court.models import Court, CourtEvent
from advocacy.demo import load_demo
from advocacy.extensions import db
from advocacy.intake.models import Case


def test_the_demo_has_hearings_tomorrow_and_next_week_with_reminders_due_soon(app: Flask) -> None:
    load_demo()
    db.session.commit()
    now = clock.now()
    events = list(db.session.scalars(select(CourtEvent).order_by(CourtEvent.starts_at)))
    assert [round((e.starts_at - now) / timedelta(days=1)) for e in events] == [1, 7]
    for event in events:
        case = db.session.get(Case, event.case_id)
        assert case is not None
        first = service.planned_for(event, case)[0]
        assert now <= first.send_after <= now + timedelta(minutes=30)
    assert db.session.scalar(select(Court.id).where(Court.name == "Tribal Court (demo)")) is not None
