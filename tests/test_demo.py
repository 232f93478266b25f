"""The demo network: big enough to show every board, consistent like real use.

``make run`` loads it on first start, so a newcomer's first look at the
network board, the staff board and the occupancy chart is this data: it must
have every bed state, a stale shelter, referrals across agencies and a month
of history, and that history must agree with the beds as they stand.  Its
cases must show every screen result, the protocol half done, a trend, a
referral across agencies and drafts, and be found by name like real ones.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from advocacy import clock
from advocacy.auth.models import Agency, User
from advocacy.demo import load_demo
from advocacy.extensions import db
from advocacy.i18n import registry
from advocacy.intake import service as intake
from advocacy.intake.models import (
    Case,
    CaseStatus,
    Danger,
    IntakeDraft,
    Placement,
    PlacementKind,
    ProtocolStep,
    RiskScreening,
)
from advocacy.shelters import service
from advocacy.shelters.models import (
    AvailabilityEvent,
    Bed,
    BedState,
    BedType,
    CulturalProgram,
    HoldStatus,
    Referral,
    ReferralStatus,
    Room,
    RoomType,
    Shelter,
)
from tests.factories import actor

README_LOGINS = ["admin", "advocate", "staff", "coordinator", "valley"]


def test_demo_network(app: Flask) -> None:
    """One load for both checks: the demo takes seconds, not milliseconds."""
    logins = load_demo()
    assert_size_and_variety(logins)
    assert_history_agrees_with_the_beds()
    assert_cases(app)


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
    assert clock.current() is clock.SYSTEM  # the replayed clock is gone

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

    now = clock.now()
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


def assert_cases(app: Flask) -> None:
    """Cases of every kind in every agency, made by the intake service."""
    assert clock.current() is clock.SYSTEM  # for the cases too
    agencies = {a.slug: a for a in db.session.scalars(select(Agency))}
    cases = list(db.session.scalars(select(Case)))
    per_agency = Counter(c.agency_id for c in cases)
    assert per_agency[agencies["north-shore"].id] >= 10
    assert per_agency[agencies["river-valley"].id] >= 5 and per_agency[agencies["four-directions"].id] >= 5

    # Obviously fictional people, numbers in the 555-01xx range kept for fiction.
    assert all(c.alias.endswith("(demo)") for c in cases)
    assert all(c.phone is None or re.fullmatch(r"\+1\d{3}55501\d{2}", c.phone) for c in cases)
    languages = {c.language for c in cases}
    assert {"en", "es", "so", "hmn", "ksw", "om", "oj", "ar"} <= languages
    assert languages - set(registry()), "a language the UI does not have"
    assert any(c.children_ages for c in cases) and any(c.pets for c in cases)
    assert any(c.access_needs for c in cases) and any(c.cultural_program for c in cases)

    # Every screen result, screened-in cases in each agency, one by judgment.
    for agency in agencies.values():
        assert any(c.danger == Danger.HIGH.value for c in cases if c.agency_id == agency.id), agency.slug
    assert {c.danger for c in cases} == {d.value for d in Danger}
    judged = db.session.scalars(select(RiskScreening).where(RiskScreening.by_judgment.is_(True))).all()
    assert judged and all(s.screened_in and s.judgment_reason for s in judged)
    for case in cases:
        latest = intake.latest_screening(case)
        if latest is None:
            assert case.danger == Danger.UNSCREENED.value and case.last_screened_at is None
        else:
            assert case.danger == (Danger.HIGH if latest.screened_in else Danger.STANDARD).value
            assert case.last_screened_at == latest.screened_at >= case.opened_at

    # Re-screened three times, rising; the protocol partly done somewhere.
    trends = [[e.trend for e in intake.risk_history(c)] for c in cases]
    assert ["higher", "higher", None] in trends
    steps = db.session.scalars(select(ProtocolStep)).all()
    by_screening: dict[int, set[bool]] = {}
    for step in steps:
        by_screening.setdefault(step.screening_id, set()).add(step.done_at is None)
    assert {True, False} in by_screening.values()

    # A referral to another agency's shelter, with priority, "no bed needed", a closed case.
    kinds = Counter(db.session.scalars(select(Placement.kind)))
    assert kinds[PlacementKind.NO_BED_NEEDED.value] and kinds[PlacementKind.REFERRAL.value] == 1
    _placement, referral, case = db.session.execute(
        select(Placement, Referral, Case)
        .join(Referral, Referral.id == Placement.referral_id)
        .join(Case, Case.id == Placement.case_id)
    ).one()
    assert referral.from_agency_id == case.agency_id != referral.agency_id
    assert referral.status == ReferralStatus.PENDING.value and referral.priority
    assert referral.hold.status == HoldStatus.ACTIVE.value and referral.hold.expires_at > clock.now()
    assert any(s.step == "priority_placement" and s.done_at for s in intake.protocol_steps(case)), (
        "a referral for a screened-in case completes the priority step"
    )
    assert any(c.status == CaseStatus.CLOSED.value and c.close_reason for c in cases)

    # Every case is found by its name through the lookup column, as its owner searches.
    assert all(c.name_hash for c in cases)
    for owner_id in {c.owner_id for c in cases}:
        owner = actor(db.session.get(User, owner_id))
        for case in (c for c in cases if c.owner_id == owner_id):
            found = intake.search_cases(owner, intake.CaseQuery(name=f"  {case.alias.upper()} ")).cases
            assert [c.id for c in found] == [case.id], case.alias

    # Two unfinished intakes for the advocate, shown to the agency.
    advocate = db.session.scalar(select(User).where(User.username == "advocate"))
    drafts = db.session.scalars(select(IntakeDraft).where(IntakeDraft.owner_id == advocate.id)).all()
    assert len(drafts) == 2 and all(intake.steps_done(d) for d in drafts)
    assert {d.id for d in intake.unfinished_drafts(actor(advocate))} == {d.id for d in drafts}
