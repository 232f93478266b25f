"""Partners, keys, consents and records through the services, as every caller uses them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from advocacy.audit.models import AuditEvent
from advocacy.auth.models import Role
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db
from advocacy.handoff import service
from advocacy.handoff.models import RECORD_FROZEN_COLUMNS, Delivery, DeliveryState, HandoffRecord, RecordState
from advocacy.handoff.serialize import AUDIENCES, LocationRefused
from tests import factories
from tests.test_handoff_world import consent, partner, prepare, release, world


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_token_is_shown_once_and_stored_only_as_its_hash(app, clock) -> None:
    north, *_rest, tracking = world()
    issued = service.issue_token(factories.system(north), tracking)
    factories.commit()
    assert issued.plaintext.startswith("hop_")
    assert issued.plaintext not in json.dumps([issued.row.token_hash, issued.row.prefix])
    actor = service.authenticate(issued.plaintext)
    assert actor is not None and actor.partner_id == tracking.id and actor.agency_id == north.id
    assert "handoff.token_issued" in _actions()


def test_a_revoked_or_expired_token_no_longer_authenticates(app, clock) -> None:
    north, *_rest, tracking = world()
    admin = factories.system(north)
    short = service.issue_token(admin, tracking, days=1)
    revoked = service.issue_token(admin, tracking)
    service.revoke_token(admin, tracking, revoked.row.id)
    factories.commit()
    assert service.authenticate(revoked.plaintext) is None
    assert service.authenticate(short.plaintext) is not None
    clock.advance(timedelta(days=1, seconds=1))
    assert service.authenticate(short.plaintext) is None
    assert service.authenticate("hop_not-a-token") is None


def test_rotating_a_token_keeps_the_old_one_for_the_grace_period(app, clock) -> None:
    north, *_rest, tracking = world()
    admin = factories.system(north)
    old = service.issue_token(admin, tracking)
    new = service.rotate_token(admin, tracking)
    factories.commit()
    assert service.authenticate(old.plaintext) and service.authenticate(new.plaintext)
    clock.advance(service.GRACE_PERIOD + timedelta(seconds=1))
    assert service.authenticate(old.plaintext) is None
    assert service.authenticate(new.plaintext) is not None


def test_rotating_the_signing_secret_signs_with_both_during_the_grace_period(app, clock) -> None:
    north, *_rest, tracking = world()
    admin = factories.system(north)
    first = service.rotate_secret(admin, tracking)
    assert service.signing_secrets(tracking) == [first.plaintext]
    second = service.rotate_secret(admin, tracking)
    assert service.signing_secrets(tracking) == [second.plaintext, first.plaintext]
    clock.advance(service.GRACE_PERIOD + timedelta(seconds=1))
    assert service.signing_secrets(tracking) == [second.plaintext]
    service.revoke_secret(admin, tracking, second.row.id)
    assert service.signing_secrets(tracking) == []


def test_an_admin_of_another_agency_cannot_see_the_partner(app, clock) -> None:
    *_rest, tracking = world("north")
    south = factories.agency("south")
    admin = factories.actor(factories.user(south, Role.ADMIN, "south-admin"))
    with pytest.raises(NotFound):
        service.get_partner(admin, tracking.id)
    assert service.list_partners(admin) == []


def test_a_push_url_to_the_agency_network_is_refused(app, clock) -> None:
    north = factories.agency("north")
    with pytest.raises(Refused) as refused:
        service.create_partner(factories.system(north), "T", ["victim_contacted"], "https://10.0.0.5/hook")
    assert refused.value.field == "push_url"


def test_a_release_writes_the_record_its_audit_entry_and_its_push_together(app, clock) -> None:
    north, advocate, case, _plain = world()
    pushing = partner(north, "Pushing", push_url="https://93.184.216.34/hook")
    consent(case, pushing)
    record = release(factories.actor(advocate), case, pushing)
    assert record.state is RecordState.RELEASED
    body = json.loads(record.body)
    assert body["record_id"] == record.uuid and body["event_type"] == "victim_contacted"
    assert body["victim_reference"] == service.victim_reference(pushing, case.id)
    assert set(body) == {name for name, _get in AUDIENCES["partner"]}
    delivery = db.session.scalar(select(Delivery).where(Delivery.record_id == record.id))
    assert delivery is not None and delivery.state is DeliveryState.PENDING
    assert _actions()[-1] == "handoff.release"


def test_the_victim_reference_is_stable_per_partner_and_differs_between_partners(app, clock) -> None:
    north, _advocate, case, tracking = world()
    other = partner(north, "Probation")
    assert service.victim_reference(tracking, case.id) == service.victim_reference(tracking, case.id)
    assert service.victim_reference(tracking, case.id) != service.victim_reference(other, case.id)


def test_a_refused_release_writes_nothing(app, clock) -> None:
    _north, advocate, case, tracking = world()
    consent(case, tracking)
    with pytest.raises(LocationRefused):
        release(factories.actor(advocate), case, tracking, summary="She is staying at 1208 Example Ave.")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(HandoffRecord)) == 0


def test_the_same_hand_off_cannot_be_sent_twice(app, clock) -> None:
    _north, advocate, case, tracking = world()
    consent(case, tracking)
    who = factories.actor(advocate)
    prepared = prepare(who, case, tracking)
    service.release(who, case, tracking, prepared)
    with pytest.raises(Refused):
        service.release(who, case, tracking, prepare(who, case, tracking, record_id=prepared.draft.record_id))


def test_a_correction_is_a_new_record_naming_the_old_one(app, clock) -> None:
    _north, advocate, case, tracking = world()
    consent(case, tracking)
    who = factories.actor(advocate)
    first = release(who, case, tracking)
    fixed = release(who, case, tracking, summary="Reached her by phone after court.", corrects=first)
    assert json.loads(fixed.body)["corrects"] == first.uuid
    assert json.loads(first.body)["corrects"] is None
    assert fixed.uuid != first.uuid


def test_an_advocate_of_another_agency_cannot_hand_off_the_case(app, clock) -> None:
    _north, _advocate, case, tracking = world("north")
    consent(case, tracking)
    south = factories.agency("south")
    stranger = factories.actor(factories.user(south, Role.ADVOCATE, "south-adv"))
    with pytest.raises(NotFound):
        prepare(stranger, case, tracking)


def test_every_column_of_a_record_but_where_it_stands_is_frozen() -> None:
    moving = {"id", "state", "acknowledged_at", "withheld_at"}
    assert set(RECORD_FROZEN_COLUMNS) == set(HandoffRecord.__table__.columns.keys()) - moving


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE handoff_record SET summary = 'She moved.'",
        "UPDATE handoff_record SET event_date = '2020-01-01'",
        "UPDATE handoff_record SET choices = '{}'",
        "UPDATE handoff_record SET body = '{}'",
        "UPDATE handoff_record SET partner_case_reference = 'other'",
        "UPDATE handoff_record SET corrects_id = id",
        "DELETE FROM handoff_record",
    ],
)
def test_the_database_refuses_to_change_or_delete_a_released_record(app, clock, change: str) -> None:
    """Not only no page or service: no bug and no hand-typed query can rewrite what left."""
    _north, advocate, case, tracking = world()
    consent(case, tracking)
    made = release(factories.actor(advocate), case, tracking, summary="Reached her after court.")
    body = made.body
    with pytest.raises(Exception, match="frozen once written"), db.session.begin_nested():
        db.session.execute(text(change))
    db.session.rollback()
    db.session.expire_all()
    kept = db.session.get(HandoffRecord, made.id)
    assert kept is not None and kept.body == body and kept.summary == "Reached her after court."


def test_where_a_released_record_stands_still_moves(app, clock) -> None:
    _north, advocate, case, tracking = world()
    given = consent(case, tracking)
    made = release(factories.actor(advocate), case, tracking)
    service.revoke_consent(factories.actor(advocate), given)
    factories.commit()
    db.session.refresh(made)
    assert made.state is RecordState.WITHHELD and made.withheld_at is not None
