"""No valid consent for the event type, no hand-off; the advocate is told why and what would allow it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from advocacy.extensions import db
from advocacy.handoff import service
from advocacy.handoff.models import Delivery, DeliveryState, RecordState
from advocacy.handoff.service import NoConsent
from tests import factories
from tests.test_handoff_world import consent, partner, prepare, release, world


def test_without_any_consent_nothing_can_be_handed_off(app, clock) -> None:
    _north, advocate, case, tracking = world()
    with pytest.raises(NoConsent) as refused:
        prepare(factories.actor(advocate), case, tracking)
    assert "no release of information" in refused.value.message
    assert "signed release of information" in refused.value.remedy


def test_a_consent_for_other_event_types_does_not_allow_this_one(app, clock) -> None:
    _north, advocate, case, tracking = world()
    consent(case, tracking, "risk_screen_result")
    with pytest.raises(NoConsent) as refused:
        prepare(factories.actor(advocate), case, tracking)
    assert "does not include" in refused.value.message and "Victim contacted" in refused.value.message


def test_an_expired_consent_allows_nothing_and_says_when_it_expired(app, clock) -> None:
    _north, advocate, case, tracking = world()
    consent(case, tracking, days=30)
    clock.advance(timedelta(days=31))
    with pytest.raises(NoConsent) as refused:
        prepare(factories.actor(advocate), case, tracking)
    assert "expired" in refused.value.message


def test_a_consent_must_expire_and_not_too_late(app, clock) -> None:
    _north, _advocate, case, tracking = world()
    with pytest.raises(service.NoConsent.__mro__[1]):  # Refused
        consent(case, tracking, days=400)


def test_a_partner_that_does_not_receive_the_event_type_gets_nothing(app, clock) -> None:
    north, advocate, case, _tracking = world()
    narrow = partner(north, "Probation", event_types=["risk_screen_result"])
    with pytest.raises(NoConsent) as refused:
        prepare(factories.actor(advocate), case, narrow)
    assert "does not receive" in refused.value.message


def test_revoking_withholds_every_record_not_yet_delivered_and_cancels_its_push(app, clock) -> None:
    north, advocate, case, _tracking = world()
    pushing = partner(north, "Pushing", push_url="https://93.184.216.34/hook")
    given = consent(case, pushing)
    who = factories.actor(advocate)
    delivered = release(who, case, pushing)
    delivered.state = RecordState.DELIVERED
    pending = release(who, case, pushing)
    withheld = service.revoke_consent(who, given)
    factories.commit()
    assert withheld == 1
    # Revoked when and by whom.
    db.session.refresh(given)
    assert given.revoked_at == clock.now() and given.revoked_by == advocate.id
    db.session.refresh(pending)
    db.session.refresh(delivered)
    assert pending.state is RecordState.WITHHELD and delivered.state is RecordState.DELIVERED
    push = db.session.scalar(select(Delivery).where(Delivery.record_id == pending.id))
    assert push is not None and push.state is DeliveryState.CANCELLED
    with pytest.raises(NoConsent) as refused:
        prepare(who, case, pushing)
    assert "revoked" in refused.value.message
