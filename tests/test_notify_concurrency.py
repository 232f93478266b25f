"""Workers racing on PostgreSQL, with real threads: every due reminder sent
exactly once, and the sender's rate held across all of them."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from advocacy import clock
from advocacy.extensions import db
from advocacy.notify.models import MessageState, OutboxMessage, SmsSender, Subscription, SubscriptionState
from advocacy.notify.service.worker import Worker, run_workers
from advocacy.notify.transport import TwilioSender, fake_sid
from advocacy.roles import Role
from tests import factories, twilio_fake

pytestmark = pytest.mark.postgresql_only


@pytest.fixture(params=["postgresql"])
def engine_name(request: pytest.FixtureRequest) -> str:
    """Only PostgreSQL: SQLite has one writer at a time, so there is no race to show."""
    return request.param


def due_reminders(count: int, rate: float) -> None:
    north = factories.agency("north")
    case = factories.case(factories.user(north, Role.ADVOCATE), "Maple")
    db.session.add(
        SmsSender(
            agency_id=north.id,
            program_name="North",
            help_contact="",
            messaging_service_sid=twilio_fake.SERVICE_SID,
            rate_per_second=rate,
            quiet_start=0,
            quiet_end=0,
        )
    )
    now = clock.now()
    sub = Subscription(
        agency_id=north.id,
        case_id=case.id,
        phone="+12185550101",
        phone_hash="0" * 64,
        locale="en",
        time_zone="America/Chicago",
        quiet_start=0,
        quiet_end=0,
        state=SubscriptionState.CONFIRMED,
        confirmed_at=now,
    )
    db.session.add(sub)
    db.session.flush()
    base = now + timedelta(days=3)
    rows = [
        {
            "agency_id": north.id,
            "subscription_id": sub.id,
            "kind": "reminder",
            # Each its own hearing time, so each body is different.
            "params": f'{{"starts_at": "{(base + timedelta(minutes=i)).isoformat()}"}}',
            "planned_at": now - timedelta(seconds=1),
            "send_after": now - timedelta(seconds=1),
            "valid_until": now + timedelta(days=1),
            "source_type": "court_event",
            "source_id": i,
            "state": "queued",
            "attempts": 0,
            "created_at": now,
        }
        for i in range(count)
    ]
    db.session.execute(insert(OutboxMessage), rows)
    factories.commit()


def workers(
    app: Any, http: twilio_fake.RecordingHttpClient, n: int, batch: int = 10, threads: int = 1
) -> list[Worker]:
    def make() -> TwilioSender:
        return TwilioSender(twilio_fake.ACCOUNT_SID, twilio_fake.AUTH_TOKEN, http_client=http)

    return [Worker(app, make, name=f"w{i}", batch_size=batch, threads=threads) for i in range(n)]


def test_two_workers_over_many_reminders_send_each_exactly_once(app: Any) -> None:
    count = 400
    due_reminders(count, rate=100_000.0)
    http = twilio_fake.RecordingHttpClient(
        responder=lambda r: twilio_fake.created(sid=fake_sid()), latency=0.001
    )
    stats = run_workers(workers(app, http, 2))
    bodies = Counter(r.data["Body"] for r in http.requests)
    assert len(http.requests) == count
    assert len(bodies) == count and max(bodies.values()) == 1
    assert all(s.claimed for s in stats)  # both took part
    db.session.expire_all()
    sent = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == MessageState.SENT)
    )
    sids = db.session.scalar(select(func.count(func.distinct(OutboxMessage.provider_sid))))
    assert sent == count and sids == count


def test_four_workers_never_exceed_the_senders_rate(app: Any) -> None:
    rate, count = 20, 60
    due_reminders(count, rate=float(rate))
    http = twilio_fake.RecordingHttpClient(responder=lambda r: twilio_fake.created(sid=fake_sid()))
    # Four workers of three sending threads each, reserving slots for batches.
    stats = run_workers(workers(app, http, 4, batch=5, threads=3))
    times = sorted(r.at for r in http.requests)
    assert len(times) == count and sum(s.sent for s in stats) == count
    # Every sliding one-second window (the busiest starts at a request) holds
    # at most the rate plus one: a send later than 0.9 of a slot takes a new
    # slot rather than going out among the next slots' sends.
    for i, start in enumerate(times):
        in_window = sum(1 for t in times[i:] if t < start + 1.0)
        assert in_window <= rate + 1
    assert times[-1] - times[0] >= (count - 1) / rate - 0.05


def test_threads_of_one_worker_send_each_once(app: Any) -> None:
    count = 120
    due_reminders(count, rate=100_000.0)
    http = twilio_fake.RecordingHttpClient(
        responder=lambda r: twilio_fake.created(sid=fake_sid()), latency=0.01
    )
    (stats,) = run_workers(workers(app, http, 1, batch=40, threads=8))
    bodies = Counter(r.data["Body"] for r in http.requests)
    assert len(bodies) == count and max(bodies.values()) == 1
    assert stats.sent == count
    db.session.expire_all()
    sent = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == MessageState.SENT)
    )
    sids = db.session.scalar(select(func.count(func.distinct(OutboxMessage.provider_sid))))
    assert sent == count and sids == count
