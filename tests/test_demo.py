"""The demo network: big enough to show every board, consistent like real use.

``make run`` loads it on first start, so a newcomer's first look at the
network board, the staff board and the occupancy chart is this data: it must
have every bed state, a stale shelter, referrals across agencies and a month
of history, and that history must agree with the beds as they stand.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from advocacy import types
from advocacy.auth.models import Agency, User
from advocacy.demo import load_demo
from advocacy.extensions import db
from advocacy.i18n import registry
from advocacy.shelters import service
from advocacy.shelters.models import (
    AvailabilityEvent,
    Bed,
    BedState,
    BedType,
    CulturalProgram,
    Referral,
    ReferralStatus,
    Room,
    RoomType,
    Shelter,
)

README_LOGINS = ["admin", "advocate", "staff", "coordinator", "valley"]


def test_demo_network(app: Flask) -> None:
    """One load for both checks: the demo takes seconds, not milliseconds."""
    logins = load_demo()
    assert_size_and_variety(logins)
    assert_history_agrees_with_the_beds()


def assert_size_and_variety(logins: list[tuple[str, str, str]] | None) -> None:
    assert logins is not None
    names = [username for username, _role, _password in logins]
    assert names[: len(README_LOGINS)] == README_LOGINS
    assert set(names) == set(db.session.scalars(select(User.username)))
    assert load_demo() is None  # only into an empty database

    assert db.session.scalar(select(func.count(Agency.id))) >= 3
    shelters = list(db.session.scalars(select(Shelter)))
    assert len(shelters) >= 8
    assert db.session.scalar(select(func.count(Bed.id))) >= 150
    states = set(db.session.scalars(select(Bed.state).distinct()))
    assert states == {s.value for s in BedState}
    assert set(db.session.scalars(select(Bed.bed_type).distinct())) == {t.value for t in BedType}
    assert set(db.session.scalars(select(Room.room_type).distinct())) == {t.value for t in RoomType}
    assert db.session.scalar(select(func.count(Room.id)).where(Room.accessible.is_(True)))
    assert db.session.scalar(select(func.count(Room.id)).where(Room.pets_allowed.is_(True)))

    tags = set(registry())
    for shelter in shelters:
        assert set(shelter.language_tags) <= tags
        assert shelter.name not in shelter.public_label and shelter.name not in shelter.region
    assert {t for s in shelters for t in s.language_tags} == tags
    assert CulturalProgram.INDIGENOUS.value in {s.cultural_program for s in shelters}
    assert any(s.boys_age_limit for s in shelters) and any(s.max_stay_days for s in shelters)

    rows = service.network_board(service.NetworkFilters(beds_needed=0))
    assert len(rows) == len(shelters)
    assert [r for r in rows if r.stale] and [r for r in rows if not r.stale]

    pending = list(
        db.session.scalars(select(Referral).where(Referral.status == ReferralStatus.PENDING.value))
    )
    assert pending and all(r.from_agency_id != r.agency_id for r in pending)


def assert_history_agrees_with_the_beds() -> None:
    """Every bed's last event ends in its state, the history reaches back a
    month, and the occupancy chart ends on today's board."""
    assert service.utcnow is types.utcnow  # the simulated clock is gone

    last_event = (
        select(AvailabilityEvent.bed_id, func.max(AvailabilityEvent.id).label("id"))
        .where(AvailabilityEvent.from_state.is_distinct_from(AvailabilityEvent.to_state))
        .group_by(AvailabilityEvent.bed_id)
        .subquery()
    )
    mismatched = db.session.scalars(
        select(Bed.id)
        .join(last_event, last_event.c.bed_id == Bed.id)
        .join(AvailabilityEvent, AvailabilityEvent.id == last_event.c.id)
        .where(AvailabilityEvent.to_state != Bed.state)
    ).all()
    assert mismatched == []

    now = types.utcnow()
    oldest = db.session.scalar(select(func.min(AvailabilityEvent.occurred_at)))
    assert oldest is not None and now - oldest > timedelta(days=30)
    for shelter in db.session.scalars(select(Shelter)):
        points = service.occupancy(shelter)
        occupied = db.session.scalar(
            select(func.count(Bed.id)).where(
                Bed.shelter_id == shelter.id, Bed.state == BedState.OCCUPIED.value
            )
        )
        assert points[-1].occupied == occupied
        assert points[0].in_service > 0  # the chart opens on a shelter in use, not an empty one
    changes = {p.occupied for s in db.session.scalars(select(Shelter)) for p in service.occupancy(s)}
    assert len(changes) > 5
