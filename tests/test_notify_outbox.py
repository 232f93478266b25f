"""The SMS outbox through its services: enrolment by code, quiet hours and
validity, the worker sending each text once, and each Twilio error path."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from advocacy.clock import FrozenClock
from advocacy.errors import Refused
from advocacy.extensions import db
from advocacy.notify import service
from advocacy.notify.models import (
    Attention,
    EndReason,
    MessageKind,
    MessageState,
    OutboxMessage,
    Subscription,
    SubscriptionState,
)
from advocacy.notify.service import enrol
from advocacy.notify.service.claim import Prepared, claim_and_prepare, still_wanted
from advocacy.notify.service.rate import late_tolerance, reserve_slots
from advocacy.notify.service.worker import Worker
from advocacy.notify.transport import ConsoleSender, TwilioSender, fake_sid
from advocacy.roles import Role
from tests import factories, twilio_fake

CHICAGO = "America/Chicago"
#: Tuesday 1 December 2026, noon in Chicago.
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
VICTIM = "+12185550101"


@pytest.fixture
def world(app: Any, clock: FrozenClock) -> dict[str, Any]:
    clock.set(NOW)
    north = factories.agency("north")
    advocate = factories.user(north, Role.ADVOCATE)
    case = factories.case(advocate, "Maple", phone=VICTIM, safe_to_text=True, consent_sms=True)
    factories.sms_sender(north)
    factories.commit()
    return {"agency": north, "advocate": advocate, "case": case, "actor": factories.actor(advocate)}


def confirmed(world: dict[str, Any], locale: str = "en") -> Subscription:
    return factories.confirmed_subscription(world["actor"], world["case"], locale)


def queue_reminder(
    world: dict[str, Any], sub: Subscription, at: datetime, event_at: datetime, source_id: int = 1
):
    row = service.enqueue(
        world["actor"],
        sub,
        MessageKind.REMINDER,
        {"starts_at": event_at},
        at,
        event_at - timedelta(minutes=30),
        ("court_event", source_id),
    )
    factories.commit()
    return row


def console_worker(app: Any, outbox: ConsoleSender | None = None, **kw: Any) -> tuple[Worker, ConsoleSender]:
    sender = outbox or ConsoleSender()
    return Worker(app, lambda: sender, **kw), sender


def twilio_worker(app: Any, http: twilio_fake.RecordingHttpClient, name: str = "w1") -> Worker:
    return Worker(
        app,
        lambda: TwilioSender(twilio_fake.ACCOUNT_SID, twilio_fake.AUTH_TOKEN, http_client=http),
        name=name,
    )


def rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# --- Enrolment -----------------------------------------------------------------------


def test_the_code_read_back_confirms_the_number(world: dict[str, Any]) -> None:
    sub, code = enrol.start_enrolment(world["actor"], world["case"], phone=None, locale="en")
    assert sub.state == SubscriptionState.PENDING
    assert service.confirmed_subscriptions(world["case"].id) == []
    enrol.confirm_code(world["actor"], sub, code)
    assert service.confirmed_subscriptions(world["case"].id) == [sub]
    assert sub.code_hash is None


def test_three_wrong_codes_end_the_enrolment(world: dict[str, Any]) -> None:
    sub, code = enrol.start_enrolment(world["actor"], world["case"], phone="218 555 0102", locale="en")
    wrong = "000000" if code != "000000" else "111111"
    for left in ("2", "1"):
        with pytest.raises(Refused, match=left):
            enrol.confirm_code(world["actor"], sub, wrong)
    with pytest.raises(Refused, match="three times"):
        enrol.confirm_code(world["actor"], sub, wrong)
    assert sub.state == SubscriptionState.ENDED and sub.end_reason == EndReason.CODE_FAILED
    with pytest.raises(Refused):
        enrol.confirm_code(world["actor"], sub, code)
    assert service.confirmed_subscriptions(world["case"].id) == []


def test_a_code_older_than_ten_minutes_is_refused(world: dict[str, Any], clock: FrozenClock) -> None:
    sub, code = enrol.start_enrolment(world["actor"], world["case"], phone=None, locale="en")
    clock.advance(minutes=10)
    with pytest.raises(Refused, match="expired"):
        enrol.confirm_code(world["actor"], sub, code)
    assert sub.end_reason == EndReason.CODE_EXPIRED


def test_a_landline_or_a_contact_not_safe_to_text_is_refused(world: dict[str, Any]) -> None:
    with pytest.raises(Refused, match="landline"):
        enrol.start_enrolment(world["actor"], world["case"], phone="+44 20 7946 0000", locale="en")
    world["case"].safe_to_text = False
    with pytest.raises(Refused, match="not marked safe"):
        enrol.start_enrolment(world["actor"], world["case"], phone=None, locale="en")
    assert db.session.scalar(select(Subscription)) is None


def test_a_draft_language_needs_the_advocate_to_confirm_reading_it(world: dict[str, Any]) -> None:
    with pytest.raises(Refused, match="reviewed"):
        enrol.start_enrolment(world["actor"], world["case"], phone=None, locale="so")
    sub, _code = enrol.start_enrolment(
        world["actor"], world["case"], phone=None, locale="so", acknowledge_draft=True
    )
    assert sub.locale == "so" and sub.draft_acknowledged


def test_the_code_goes_out_in_the_victims_language(world: dict[str, Any], app: Any) -> None:
    _sub, code = enrol.start_enrolment(
        world["actor"], world["case"], phone=None, locale="es", acknowledge_draft=True
    )
    factories.commit()
    worker, outbox = console_worker(app)
    worker.run_until_idle()
    assert len(outbox.outbox) == 1
    assert outbox.outbox[0].to == VICTIM
    assert f"su clave es {code}" in outbox.outbox[0].body
    assert outbox.outbox[0].info.segments == 1


# --- Quiet hours and validity ------------------------------------------------------------


def test_a_reminder_due_in_quiet_hours_moves_to_their_end(world: dict[str, Any]) -> None:
    sub = confirmed(world)
    # 22:30 in Chicago on 1 December; the hearing is at 10:00 on the 2nd.
    row = queue_reminder(
        world, sub, datetime(2026, 12, 2, 4, 30, tzinfo=UTC), datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    )
    assert row is not None
    assert row.send_after == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # 08:00 in Chicago


def test_quiet_hours_end_exactly_at_eight(world: dict[str, Any]) -> None:
    sub = confirmed(world)
    eight = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    row = queue_reminder(world, sub, eight, eight + timedelta(hours=4))
    assert row is not None and row.send_after == eight
    minute_before = queue_reminder(
        world, sub, eight - timedelta(minutes=1), eight + timedelta(hours=4), source_id=2
    )
    assert minute_before is not None and minute_before.send_after == eight


def test_quiet_hours_never_push_a_reminder_past_its_event(world: dict[str, Any]) -> None:
    sub = confirmed(world)
    # 06:00 for a 07:30 hearing: 08:00 is too late, so 20:59 the evening before.
    row = queue_reminder(
        world, sub, datetime(2026, 12, 2, 12, 0, tzinfo=UTC), datetime(2026, 12, 2, 13, 30, tzinfo=UTC)
    )
    assert row is not None
    assert row.send_after == datetime(2026, 12, 2, 2, 59, tzinfo=UTC)
    assert row.send_after < row.valid_until


def test_a_reminder_whose_time_has_passed_is_not_queued(world: dict[str, Any]) -> None:
    sub = confirmed(world)
    assert queue_reminder(world, sub, NOW - timedelta(days=2), NOW + timedelta(days=5)) is None
    assert (
        service.enqueue(
            world["actor"],
            sub,
            MessageKind.CHANGED,
            {"starts_at": NOW},
            NOW,
            NOW - timedelta(seconds=1),
            ("court_event", 1),
        )
        is None
    )


def test_queueing_the_same_reminder_twice_keeps_one_row(world: dict[str, Any]) -> None:
    sub = confirmed(world)
    at, event = NOW + timedelta(hours=1), NOW + timedelta(days=1)
    first = queue_reminder(world, sub, at, event)
    again = queue_reminder(world, sub, at, event)
    assert first is not None and again is not None and first.id == again.id


def test_cancel_queued_cancels_only_that_source(world: dict[str, Any]) -> None:
    sub = confirmed(world)
    queue_reminder(world, sub, NOW + timedelta(hours=1), NOW + timedelta(days=1), source_id=1)
    queue_reminder(world, sub, NOW + timedelta(hours=1), NOW + timedelta(days=2), source_id=2)
    assert service.cancel_queued(world["actor"], ("court_event", 1)) == 1
    states = {(r.source_id, r.state) for r in rows() if r.kind == MessageKind.REMINDER}
    assert states == {(1, MessageState.CANCELLED), (2, MessageState.QUEUED)}


def test_a_pending_number_gets_no_reminder(world: dict[str, Any]) -> None:
    sub, _code = enrol.start_enrolment(world["actor"], world["case"], phone=None, locale="en")
    assert queue_reminder(world, sub, NOW + timedelta(hours=1), NOW + timedelta(days=1)) is None


# --- The worker --------------------------------------------------------------------------


def test_the_worker_run_twice_sends_once(world: dict[str, Any], app: Any, clock: FrozenClock) -> None:
    sub = confirmed(world)
    queue_reminder(world, sub, NOW + timedelta(hours=1), NOW + timedelta(days=1))
    http = twilio_fake.RecordingHttpClient(responder=lambda r: twilio_fake.created(sid=fake_sid()))
    clock.advance(hours=2)
    twilio_worker(app, http).run_until_idle()
    twilio_worker(app, http).run_until_idle()
    creates = [r for r in http.requests if r.method == "POST"]
    assert len(creates) == 1  # the reminder (the code's ten minutes are long past)
    reminder = creates[0].data
    assert reminder["To"] == VICTIM
    assert reminder["MessagingServiceSid"] == twilio_fake.SERVICE_SID
    assert reminder["Body"].startswith("Reminder: your appointment is Wednesday, December 2, 2026")
    assert reminder["StatusCallback"].endswith("/notify/twilio/status")
    assert 0 < int(reminder["ValidityPeriod"]) <= 36_000
    assert [r.state for r in rows()] == [MessageState.FAILED, MessageState.SENT]


def test_the_validity_period_ends_before_the_event(
    world: dict[str, Any], app: Any, clock: FrozenClock
) -> None:
    sub = confirmed(world)
    event = NOW + timedelta(hours=3)
    queue_reminder(world, sub, NOW + timedelta(hours=1), event)  # valid until 30 minutes before
    http = twilio_fake.RecordingHttpClient(responder=lambda r: twilio_fake.created(sid=fake_sid()))
    clock.advance(hours=1)
    twilio_worker(app, http).run_until_idle()
    assert int(http.last.data["ValidityPeriod"]) == 90 * 60


def test_a_reminder_not_sent_before_its_deadline_asks_to_call_the_victim(
    world: dict[str, Any], app: Any, clock: FrozenClock
) -> None:
    sub = confirmed(world)
    queue_reminder(world, sub, NOW + timedelta(hours=1), NOW + timedelta(hours=3))
    clock.advance(hours=3)
    worker, outbox = console_worker(app)
    worker.run_until_idle()
    reminder = rows()[-1]
    assert reminder.state == MessageState.FAILED and reminder.attention == Attention.EXPIRED
    assert all("Reminder" not in m.body for m in outbox.outbox)


ERROR_PATHS = [
    # (reply, row state, attention, subscription state afterwards)
    (twilio_fake.error(400, 21610), MessageState.FAILED, Attention.OPTED_OUT, SubscriptionState.OPTED_OUT),
    (twilio_fake.error(400, 21211), MessageState.FAILED, Attention.INVALID_NUMBER, SubscriptionState.ENDED),
    (twilio_fake.error(400, 21614), MessageState.FAILED, Attention.INVALID_NUMBER, SubscriptionState.ENDED),
    (twilio_fake.error(429, 20429), MessageState.QUEUED, None, SubscriptionState.CONFIRMED),
    (twilio_fake.error(503, None), MessageState.QUEUED, None, SubscriptionState.CONFIRMED),
    (twilio_fake.connection_refused(), MessageState.QUEUED, None, SubscriptionState.CONFIRMED),
    (twilio_fake.read_timeout(), MessageState.UNKNOWN, None, SubscriptionState.CONFIRMED),
    (twilio_fake.connection_dropped(), MessageState.UNKNOWN, None, SubscriptionState.CONFIRMED),
    (
        twilio_fake.error(400, 21602),
        MessageState.FAILED,
        Attention.UNDELIVERABLE,
        SubscriptionState.CONFIRMED,
    ),
]


@pytest.mark.parametrize(("reply", "state", "attention", "sub_state"), ERROR_PATHS)
def test_each_twilio_error_path(
    world: dict[str, Any],
    app: Any,
    clock: FrozenClock,
    reply: Any,
    state: Any,
    attention: Any,
    sub_state: Any,
) -> None:
    sub = confirmed(world)
    worker, _outbox = console_worker(app)
    worker.run_until_idle()  # the code
    queue_reminder(world, sub, NOW + timedelta(hours=1), NOW + timedelta(days=1))
    clock.advance(hours=1)
    http = twilio_fake.RecordingHttpClient([reply])
    twilio_worker(app, http).run_until_idle()
    assert len(http.requests) == 1  # a timeout is never retried blindly
    reminder = rows()[-1]
    assert (reminder.state, reminder.attention) == (state, attention)
    db.session.refresh(sub)
    assert sub.state == sub_state
    if state == MessageState.QUEUED:
        assert reminder.send_after > NOW + timedelta(hours=1)  # backoff


def test_a_retried_reminder_is_sent_after_its_backoff(
    world: dict[str, Any], app: Any, clock: FrozenClock
) -> None:
    sub = confirmed(world)
    console_worker(app)[0].run_until_idle()
    queue_reminder(world, sub, NOW + timedelta(hours=1), NOW + timedelta(days=1))
    clock.advance(hours=1)
    http = twilio_fake.RecordingHttpClient([twilio_fake.error(429, 20429, headers={"Retry-After": "120"})])
    twilio_worker(app, http).run_until_idle()
    assert rows()[-1].send_after == NOW + timedelta(hours=1, seconds=120)
    http.queue(twilio_fake.created(sid="SM" + "b" * 32))
    twilio_worker(app, http).run_until_idle()
    assert len(http.requests) == 1  # not due yet
    clock.advance(seconds=120)
    twilio_worker(app, http).run_until_idle()
    assert rows()[-1].state == MessageState.SENT and rows()[-1].attempts == 2


def test_a_stop_between_queueing_and_sending_cancels_the_reminder(
    world: dict[str, Any], app: Any, clock: FrozenClock
) -> None:
    sub = confirmed(world)
    console_worker(app)[0].run_until_idle()
    queue_reminder(world, sub, NOW + timedelta(hours=1), NOW + timedelta(days=1))
    enrol.end_subscription(factories.system(world["agency"]), sub, EndReason.OPTED_OUT)
    factories.commit()
    clock.advance(hours=1)
    http = twilio_fake.RecordingHttpClient()
    twilio_worker(app, http).run_until_idle()
    assert http.requests == []
    assert rows()[-1].state == MessageState.CANCELLED


def test_params_carry_no_personal_data(world: dict[str, Any]) -> None:
    sub = confirmed(world)
    with pytest.raises(ValueError, match="alias"):
        service.enqueue(
            world["actor"],
            sub,
            MessageKind.REMINDER,
            {"alias": "Maple"},
            NOW,
            NOW + timedelta(days=1),
            ("court_event", 1),
        )
    row = queue_reminder(world, sub, NOW + timedelta(hours=1), NOW + timedelta(days=1))
    assert row is not None and set(json.loads(row.params)) == {"starts_at"}


# --- The sender's rate ------------------------------------------------------------------------


def test_the_slots_of_a_batch_are_reserved_at_once_and_follow_each_other(app: Any) -> None:
    one, two, three = reserve_slots("MGbatch", [0.1, 0.2, 0.1])
    assert two - one == pytest.approx(0.1) and three - two == pytest.approx(0.2)
    (after,) = reserve_slots("MGbatch", [0.1])
    assert after == pytest.approx(three + 0.1)  # the next worker's slot starts where the batch ends


def test_a_text_claimed_a_while_ago_is_not_sent_once_its_subscription_ended(
    world: dict[str, Any], app: Any, clock: FrozenClock
) -> None:
    """At a slow rate a claimed batch takes a while to send: the subscription
    is looked at again before a slot is reserved for what waited."""
    sub = confirmed(world)
    queue_reminder(world, sub, NOW + timedelta(hours=1), NOW + timedelta(days=1))
    clock.advance(hours=2)
    items = claim_and_prepare("w1", 10)
    assert len(items) == 1
    enrol.end_subscription(world["actor"], sub, EndReason.ADVOCATE)
    factories.commit()
    assert still_wanted(items) == []
    assert rows()[-1].state == MessageState.CANCELLED


def paced_item(rate: float) -> Prepared:
    return Prepared(
        id=1,
        token="w1:test",
        to=VICTIM,
        body="Reminder: your appointment is soon.",
        segments=1,
        validity=600,
        valid_until=NOW + timedelta(hours=1),
        key="MGpaced",
        rate=rate,
        messaging_service_sid=twilio_fake.SERVICE_SID,
        from_number=None,
    )


def test_a_send_that_wakes_too_late_for_its_slot_takes_a_new_one_instead(app: Any) -> None:
    """A late send is never bunched against the sends of the slots after its
    own: it reserves again and waits for the new slot."""
    worker, outbox = console_worker(app)
    item = paced_item(rate=10.0)  # slots of 0.1 s; at most 0.09 s late
    (taken,) = reserve_slots(item.key, [0.5])  # another worker holds the next half second
    missed_slot = time.time() - late_tolerance(item.rate) - 0.01  # this thread woke too late for it
    result, missed = worker._paced_send(item, missed_slot, "https://example.org/cb")
    assert result.sid and missed == 1
    sent_at = outbox.outbox[0].created_at.timestamp()
    assert sent_at >= taken + 0.5 - 0.01  # after the other worker's slots, not among them


def test_a_send_within_the_tolerance_of_its_slot_goes(app: Any) -> None:
    worker, outbox = console_worker(app)
    item = paced_item(rate=10.0)
    (slot,) = reserve_slots(item.key, [item.cost])
    _result, missed = worker._paced_send(item, slot, "https://example.org/cb")
    assert missed == 0 and len(outbox.outbox) == 1


# --- Crashes and reconciliation ------------------------------------------------------------


def test_a_worker_that_died_after_claiming_loses_nothing_and_doubles_nothing(
    world: dict[str, Any], app: Any, clock: FrozenClock
) -> None:
    from advocacy.notify.service.claim import claim
    from advocacy.notify.service.reconcile import reconcile_unknown
    from advocacy.notify.service.render import render_message
    from advocacy.notify.transport import make_client

    sub = confirmed(world)
    console_worker(app)[0].run_until_idle()  # the code
    queue_reminder(world, sub, NOW + timedelta(hours=1), NOW + timedelta(days=1), source_id=1)
    queue_reminder(world, sub, NOW + timedelta(hours=1), NOW + timedelta(days=2), source_id=2)
    clock.advance(hours=1)
    # The worker claims both and is killed: one text had reached Twilio, the other not.
    _token, ids = claim("doomed", 10)
    assert len(ids) == 2
    first = db.session.get(OutboxMessage, ids[0])
    sent_body = render_message(first, enrol.sender_for(first.agency_id)).text
    # Its lease runs out; the rows are "unknown", never sent again blindly.
    clock.advance(minutes=6)
    http = twilio_fake.RecordingHttpClient(responder=lambda r: twilio_fake.created(sid=fake_sid()))
    twilio_worker(app, http).run_until_idle()
    assert http.requests == []
    assert {r.state for r in rows()[-2:]} == {MessageState.UNKNOWN}
    # The reconciler asks Twilio what it holds for the number since the claim.
    listing = twilio_fake.RecordingHttpClient(
        [
            twilio_fake.message_page(
                [
                    twilio_fake.message_json(
                        sid="SM" + "c" * 32,
                        to=VICTIM,
                        body=sent_body,
                        status="delivered",
                        created=clock.now() - timedelta(minutes=5),
                    )
                ],
                to=VICTIM,
            )
        ]
        * 2
    )
    assert (
        reconcile_unknown(make_client(twilio_fake.ACCOUNT_SID, twilio_fake.AUTH_TOKEN, http_client=listing))
        == 2
    )
    assert all(r.method == "GET" for r in listing.requests)
    by_id = {r.id: r for r in rows()}
    assert by_id[ids[0]].state == MessageState.DELIVERED and by_id[ids[0]].provider_sid == "SM" + "c" * 32
    assert by_id[ids[1]].state == MessageState.QUEUED  # Twilio never had it
    twilio_worker(app, http).run_until_idle()
    assert len(http.requests) == 1  # only the one Twilio never had
    assert rows()[-1].state == MessageState.SENT


def test_two_reminders_moved_to_the_end_of_quiet_hours_are_one_text(world: dict[str, Any]) -> None:
    sub = confirmed(world)
    hearing = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # 11:00 in Chicago
    night = queue_reminder(world, sub, datetime(2026, 12, 2, 4, 0, tzinfo=UTC), hearing)  # 22:00
    morning = queue_reminder(world, sub, datetime(2026, 12, 2, 13, 0, tzinfo=UTC), hearing)  # 07:00
    assert night is not None and morning is not None and night.id == morning.id
    assert len([r for r in rows() if r.kind == MessageKind.REMINDER]) == 1
