"""Pushing records: Standard Webhooks signatures, retries with backoff, 410, SSRF, nothing after revocation."""

from __future__ import annotations

import json
import threading
import time
import traceback

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from advocacy.auth.models import Agency, User
from advocacy.extensions import db
from advocacy.handoff import service
from advocacy.handoff.models import Consent, Delivery, DeliveryState, HandoffRecord, RecordState
from advocacy.handoff.service import push
from tests import factories
from tests.test_handoff_world import consent, partner, public_resolver, release, world

PUBLIC = "93.184.216.34"


class Receiver:
    """The partner's endpoint: answers with the statuses given, in turn, and keeps what it got."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses) or [204]
        self.got: list[push.Request] = []

    def __call__(self, request: push.Request) -> int:
        self.got.append(request)
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


def _pushing_world():  # type: ignore[no-untyped-def]
    north, advocate, case, _t = world()
    target = partner(north, "Pushing", push_url="https://hooks.example.org/advocacy")
    secret = service.rotate_secret(factories.system(north), target).plaintext
    given = consent(case, target)
    return advocate, case, target, secret, given


def _run(receiver: Receiver, resolve=None) -> push.Outcome:  # type: ignore[no-untyped-def]
    outcome = push.deliver_due(
        receiver, production=True, resolve=resolve or public_resolver(), each=db.session.commit
    )
    db.session.commit()
    return outcome


def test_a_push_is_signed_so_the_partner_verifies_it_with_standardwebhooks(app, clock) -> None:
    advocate, case, _target, secret, _given = _pushing_world()
    record = release(factories.actor(advocate), case, _target)
    receiver = Receiver(204)
    assert _run(receiver).delivered == 1
    sent = receiver.got[0]
    assert sent.address == PUBLIC and sent.host == "hooks.example.org"
    assert sent.body == record.body.encode()
    verified = Webhook(secret).verify(sent.body, sent.headers)
    assert verified["record_id"] == record.uuid
    db.session.refresh(record)
    assert record.state is RecordState.DELIVERED


def test_during_a_secret_rotation_both_secrets_verify(app, clock) -> None:
    advocate, case, target, old, _given = _pushing_world()
    new = service.rotate_secret(factories.system(case.agency_id), target).plaintext
    factories.commit()
    release(factories.actor(advocate), case, target)
    receiver = Receiver(200)
    _run(receiver)
    sent = receiver.got[0]
    assert len(sent.headers["webhook-signature"].split()) == 2
    Webhook(old).verify(sent.body, sent.headers)
    Webhook(new).verify(sent.body, sent.headers)


def test_a_failed_push_is_retried_with_backoff_under_the_same_webhook_id(app, clock) -> None:
    advocate, case, target, _secret, _given = _pushing_world()
    release(factories.actor(advocate), case, target)
    receiver = Receiver(500, 503, 204)
    assert _run(receiver).retried == 1
    assert _run(receiver).delivered == 0  # not due yet
    clock.advance(push.BACKOFF[0])
    assert _run(receiver).retried == 1
    clock.advance(push.BACKOFF[1])
    assert _run(receiver).delivered == 1
    assert len({r.headers["webhook-id"] for r in receiver.got}) == 1
    delivery = db.session.scalar(select(Delivery))
    assert delivery is not None and delivery.attempts == 3 and delivery.state is DeliveryState.DELIVERED


def test_after_about_three_days_of_failures_the_push_gives_up(app, clock) -> None:
    advocate, case, target, _secret, _given = _pushing_world()
    release(factories.actor(advocate), case, target)
    receiver = Receiver(500)
    for wait in (None, *push.BACKOFF):
        if wait is not None:
            clock.advance(wait)
        _run(receiver)
    delivery = db.session.scalar(select(Delivery))
    assert delivery is not None and delivery.state is DeliveryState.FAILED
    total = sum(push.BACKOFF, start=push.BACKOFF[0] * 0)
    assert 2.5 <= total.total_seconds() / 86400 <= 3.5


def test_a_410_disables_the_partners_endpoint(app, clock) -> None:
    advocate, case, target, _secret, _given = _pushing_world()
    who = factories.actor(advocate)
    release(who, case, target)
    release(who, case, target)
    receiver = Receiver(410)
    _run(receiver)
    db.session.refresh(target)
    assert target.push_disabled_at is not None
    assert len(receiver.got) == 1
    states = sorted(d.state.value for d in db.session.scalars(select(Delivery)))
    assert states == ["cancelled", "failed"]


def test_nothing_is_pushed_after_the_consent_is_revoked(app, clock) -> None:
    advocate, case, target, _secret, given = _pushing_world()
    record = release(factories.actor(advocate), case, target)
    service.revoke_consent(factories.actor(advocate), given)
    factories.commit()
    receiver = Receiver(204)
    _run(receiver)
    assert receiver.got == []
    db.session.refresh(record)
    assert record.state is RecordState.WITHHELD


def test_a_push_url_that_now_resolves_to_a_private_address_is_not_contacted(app, clock) -> None:
    advocate, case, target, _secret, _given = _pushing_world()
    release(factories.actor(advocate), case, target)
    receiver = Receiver(204)
    for private in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "192.168.0.7"):
        outcome = _run(receiver, public_resolver(private))
        clock.advance(hours=13)
        assert outcome.delivered == 0
    assert receiver.got == []
    delivery = db.session.scalar(select(Delivery))
    assert delivery is not None and delivery.last_error == "url"


def test_the_guard_runs_again_before_a_push(app, clock) -> None:
    advocate, case, target, _secret, _given = _pushing_world()
    release(factories.actor(advocate), case, target, summary="Met her near Aspen Lodge after court.")
    # A shelter registered after the release with that name: the stored bytes may no longer leave.
    factories.shelter(db.session.get(Agency, case.agency_id), name="Aspen Lodge", label="NS-9", address=None)
    receiver = Receiver(204)
    _run(receiver)
    assert receiver.got == []
    delivery = db.session.scalar(select(Delivery))
    assert delivery is not None and delivery.state is DeliveryState.FAILED and delivery.last_error == "guard"


def test_the_guard_runs_again_before_every_retry(app, clock) -> None:
    advocate, case, target, _secret, _given = _pushing_world()
    release(factories.actor(advocate), case, target, summary="Met her near Aspen Lodge after court.")
    receiver = Receiver(500)
    assert _run(receiver).retried == 1 and len(receiver.got) == 1
    # Between the first attempt and the retry a shelter of that name is registered.
    factories.shelter(db.session.get(Agency, case.agency_id), name="Aspen Lodge", label="NS-9", address=None)
    clock.advance(push.BACKOFF[0])
    assert _run(receiver).failed == 1
    assert len(receiver.got) == 1
    delivery = db.session.scalar(select(Delivery))
    assert delivery is not None and delivery.state is DeliveryState.FAILED and delivery.last_error == "guard"


def test_the_body_is_json_of_the_partner_fields_only(app, clock) -> None:
    advocate, case, target, _secret, _given = _pushing_world()
    release(factories.actor(advocate), case, target)
    receiver = Receiver(204)
    _run(receiver)
    from advocacy.handoff.serialize import AUDIENCES

    assert set(json.loads(receiver.got[0].body)) == {n for n, _g in AUDIENCES["partner"]}


def test_flask_handoff_deliver_works_the_outbox(app, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    advocate, case, target, _secret, _given = _pushing_world()
    release(factories.actor(advocate), case, target)
    receiver = Receiver(204)
    real = push.deliver_due
    monkeypatch.setattr(push, "deliver_due", lambda **kw: real(receiver, resolve=public_resolver(), **kw))
    result = app.test_cli_runner().invoke(args=["handoff", "deliver"])
    assert result.exit_code == 0, result.output
    assert "delivered 1" in result.output
    assert len(receiver.got) == 1


# --- a revocation while a push is in flight, on PostgreSQL -------------------------------------


@pytest.mark.postgresql_only
@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)
def test_a_revocation_during_a_push_waits_for_it_and_tells_the_truth(app, clock) -> None:  # type: ignore[no-untyped-def]
    """The worker holds the delivery while the POST is out; a revocation then waits for it instead of
    deadlocking with it, and leaves the record as it really is: received, not withheld."""
    advocate, case, target, _secret, given = _pushing_world()
    record = release(factories.actor(advocate), case, target)
    record_id, consent_id, advocate_id = record.id, given.id, advocate.id
    in_flight, answer = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def partner_endpoint(_request: push.Request) -> int:
        in_flight.set()
        answer.wait(timeout=30)
        return 204

    def work() -> None:
        with app.app_context():
            try:
                result = push.deliver_due(partner_endpoint, production=True, resolve=public_resolver())
                db.session.commit()
                outcomes["worker"] = result.delivered
            except BaseException:  # noqa: BLE001 (reported to the main thread)
                db.session.rollback()
                outcomes["worker"] = traceback.format_exc()
            finally:
                db.session.remove()

    def revoke() -> None:
        with app.app_context():
            try:
                who = factories.actor(db.session.get(User, advocate_id))
                outcomes["withheld"] = service.revoke_consent(who, db.session.get(Consent, consent_id))
                db.session.commit()
            except BaseException:  # noqa: BLE001
                db.session.rollback()
                outcomes["withheld"] = traceback.format_exc()
            finally:
                db.session.remove()

    worker = threading.Thread(target=work)
    worker.start()
    assert in_flight.wait(timeout=30)
    revoking = threading.Thread(target=revoke)
    revoking.start()
    time.sleep(1.0)  # the revocation is now waiting on the row the worker holds
    answer.set()
    worker.join(60)
    revoking.join(60)
    assert outcomes == {"worker": 1, "withheld": 0}, outcomes
    db.session.expire_all()
    kept = db.session.get(HandoffRecord, record_id)
    assert kept is not None and kept.state is RecordState.DELIVERED
    delivery = db.session.scalar(select(Delivery))
    assert delivery is not None and delivery.state is DeliveryState.DELIVERED
    assert db.session.get(Consent, consent_id).revoked_at is not None


@pytest.mark.postgresql_only
@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)
def test_a_410_while_a_revocation_holds_another_push_does_not_deadlock(app, clock) -> None:  # type: ignore[no-untyped-def]
    """The worker's 410 cancels the partner's other pushes, skipping those a revocation holds (it
    cancels them itself); before, each waited on the other's rows."""
    advocate, case, target, _secret, given = _pushing_world()
    who = factories.actor(advocate)
    later = release(who, case, target)
    # The first record's push is a retry due in an hour, so the worker takes the second one now.
    first = db.session.scalar(select(Delivery).where(Delivery.record_id == later.id))
    assert first is not None
    first.next_attempt_at = clock.now() + push.BACKOFF[3]
    factories.commit()
    release(who, case, target)
    consent_id, advocate_id = given.id, advocate.id
    in_flight, answer = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def gone(_request: push.Request) -> int:
        in_flight.set()
        answer.wait(timeout=30)
        return 410

    def work() -> None:
        with app.app_context():
            try:
                result = push.deliver_due(gone, production=True, resolve=public_resolver())
                db.session.commit()
                outcomes["worker_failed"] = result.failed
            except BaseException:  # noqa: BLE001 (reported to the main thread)
                db.session.rollback()
                outcomes["worker_failed"] = traceback.format_exc()
            finally:
                db.session.remove()

    def revoke() -> None:
        with app.app_context():
            try:
                actor = factories.actor(db.session.get(User, advocate_id))
                outcomes["withheld"] = service.revoke_consent(actor, db.session.get(Consent, consent_id))
                db.session.commit()
            except BaseException:  # noqa: BLE001
                db.session.rollback()
                outcomes["withheld"] = traceback.format_exc()
            finally:
                db.session.remove()

    worker = threading.Thread(target=work)
    worker.start()
    assert in_flight.wait(timeout=30)
    revoking = threading.Thread(target=revoke)
    revoking.start()
    time.sleep(1.0)  # the revocation holds the first push and waits for the second
    answer.set()
    worker.join(60)
    revoking.join(60)
    assert outcomes == {"worker_failed": 1, "withheld": 2}, outcomes
    db.session.expire_all()
    states = {d.record_id: (d.state, d.last_error) for d in db.session.scalars(select(Delivery))}
    assert states[later.id] == (DeliveryState.CANCELLED, "consent_revoked")
    assert sorted(v for k, v in states.items() if k != later.id) == [(DeliveryState.FAILED, "endpoint_gone")]
