"""Sending a reminder through the real twilio Client, with no network."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from twilio.rest import Client

from advocacy.clock import FrozenClock
from advocacy.notify.transport import (
    CallbackOutcome,
    ConsoleSender,
    Outcome,
    SendResult,
    SlotMissed,
    TwilioSender,
    classify_callback,
    fake_sid,
    furthest_status,
    make_client,
    reconcile,
)
from tests import twilio_fake as fake

VICTIM = "+16125550100"
BODY = "Reminder: your appointment is Tue 3 Dec at 9:00 AM. Reply C to confirm."
CALLBACK = "https://advocacy.example.org/notify/twilio/status"


def sender_with(*replies, **kwargs):
    http = fake.RecordingHttpClient(replies, **kwargs)
    return TwilioSender(fake.ACCOUNT_SID, fake.AUTH_TOKEN, http_client=http), http


def send(sender, **overrides):
    options = {
        "status_callback": CALLBACK,
        "validity_seconds": 3600,
        "messaging_service_sid": fake.SERVICE_SID,
        "from_number": None,
    }
    options.update(overrides)
    return sender.send(VICTIM, BODY, **options)


def test_the_sender_uses_the_real_twilio_client():
    sender, _http = sender_with()
    assert type(sender.client) is Client


def test_twilio_accepts_the_reminder_and_we_keep_its_sid():
    sid = "SM" + "1f" * 16
    sender, http = sender_with(fake.created(sid=sid, status="accepted"))
    result = send(sender)
    assert result == SendResult(Outcome.SENT, sid=sid, status="accepted")
    request = http.last
    assert request.method == "POST"
    assert request.url == fake.MESSAGES_URL
    assert request.auth == (fake.ACCOUNT_SID, fake.AUTH_TOKEN)
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.data == {
        "To": VICTIM,
        "Body": BODY,
        "MessagingServiceSid": fake.SERVICE_SID,
        "StatusCallback": CALLBACK,
        "ValidityPeriod": 3600,
    }


def test_a_request_that_would_leave_after_its_rate_slot_is_not_made():
    """The worker's last check of its slot is made here, after the library's
    own work: nothing leaves, so the text can wait for another slot."""
    sender, http = sender_with(fake.created(sid=fake_sid()))
    with pytest.raises(SlotMissed):
        send(sender, not_after=time.time() - 0.001)
    assert http.requests == []
    assert send(sender, not_after=time.time() + 60).outcome is Outcome.SENT
    assert len(http.requests) == 1


def test_a_development_account_sends_from_a_plain_number():
    sender, http = sender_with(fake.created(messaging_service_sid=None, from_number=fake.FROM_NUMBER))
    result = send(sender, messaging_service_sid=None, from_number=fake.FROM_NUMBER, validity_seconds=None)
    assert result.outcome is Outcome.SENT
    assert http.last.data["From"] == fake.FROM_NUMBER
    assert "MessagingServiceSid" not in http.last.data
    assert "ValidityPeriod" not in http.last.data


def test_without_a_callback_none_is_sent():
    sender, http = sender_with(fake.created())
    send(sender, status_callback=None)
    assert "StatusCallback" not in http.last.data


@pytest.mark.parametrize(
    ("reply", "outcome", "code"),
    [
        (fake.error(400, 21610, "Attempt to send to unsubscribed recipient"), Outcome.OPTED_OUT, 21610),
        (fake.error(400, 21211, "Invalid 'To' Phone Number"), Outcome.INVALID_NUMBER, 21211),
        (fake.error(400, 21614, "'To' number is not a valid mobile number"), Outcome.INVALID_NUMBER, 21614),
        (fake.error(429, 20429, "Too Many Requests"), Outcome.RATE_LIMITED, 20429),
        (fake.error(429, None, "Too Many Requests"), Outcome.RATE_LIMITED, 429),
        (fake.error(500, 20500, "Internal Server Error"), Outcome.SERVER_ERROR, 20500),
        (fake.error(503, None, "Service Unavailable"), Outcome.SERVER_ERROR, 503),
        (fake.error(400, 21408, "Permission to send an SMS has not been enabled"), Outcome.FAILED, 21408),
        (fake.error(401, 20003, "Authenticate"), Outcome.FAILED, 20003),
        (fake.error(400, 21602, "Message body is required"), Outcome.FAILED, 21602),
        (fake.problem(400, 21211), Outcome.INVALID_NUMBER, 21211),
        (fake.problem(429, 20429), Outcome.RATE_LIMITED, 20429),
    ],
)
def test_each_twilio_error_has_its_outcome(reply, outcome, code):
    sender, _http = sender_with(reply)
    result = send(sender)
    assert result.outcome is outcome
    assert result.error_code == code
    assert result.sid is None


def test_only_rate_limits_server_errors_and_unmade_connections_are_retried():
    assert {o for o in Outcome if o.retry} == {Outcome.RATE_LIMITED, Outcome.SERVER_ERROR, Outcome.NOT_SENT}


def test_retry_after_in_seconds_is_kept():
    sender, _http = sender_with(fake.error(429, 20429, headers={"Retry-After": "7"}))
    assert send(sender).retry_after == 7.0


def test_retry_after_as_a_date_is_counted_from_the_app_clock(app):
    from advocacy.clock import use_clock

    now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    sender, _http = sender_with(fake.error(503, None, headers={"Retry-After": later}))
    with app.app_context(), use_clock(FrozenClock(now)):
        assert send(sender).retry_after == 30.0


def test_no_retry_after_when_twilio_does_not_say():
    sender, _http = sender_with(fake.error(429, 20429))
    assert send(sender).retry_after is None


@pytest.mark.parametrize(
    ("failure", "outcome"),
    [
        (fake.read_timeout(), Outcome.UNKNOWN),  # it may have been sent
        (fake.connection_dropped(), Outcome.UNKNOWN),  # so may this
        (fake.connect_timeout(), Outcome.NOT_SENT),  # never reached Twilio
        (fake.connection_refused(), Outcome.NOT_SENT),
    ],
)
def test_a_network_failure_is_unknown_unless_the_request_never_left(failure, outcome):
    sender, http = sender_with(failure)
    result = send(sender)
    assert result.outcome is outcome
    assert result.sid is None
    assert len(http.requests) == 1  # and the sender did not try again by itself


def real_network_failure(call):
    """The exception requests itself raises, from a socket on this machine."""
    try:
        call(requests.Session())
    except requests.exceptions.RequestException as exc:
        return exc
    raise AssertionError("the request did not fail")


def test_a_real_refused_connection_is_not_sent():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    failure = real_network_failure(
        lambda s: s.post(f"http://127.0.0.1:{port}/", data={"To": VICTIM}, timeout=2)
    )
    sender, _http = sender_with(failure)
    assert send(sender).outcome is Outcome.NOT_SENT


def test_a_real_read_timeout_is_unknown():
    with socket.socket() as server:  # accepts, reads, never answers
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        failure = real_network_failure(
            lambda s: s.post(f"http://127.0.0.1:{port}/", data={"To": VICTIM}, timeout=0.3)
        )
    assert isinstance(failure, requests.exceptions.ReadTimeout)
    sender, _http = sender_with(failure)
    assert send(sender).outcome is Outcome.UNKNOWN


def test_an_unreadable_success_is_unknown():
    from twilio.http.response import Response

    sender, _http = sender_with(Response(201, "<html>proxy</html>"))
    assert send(sender).outcome is Outcome.UNKNOWN


def test_a_sender_belongs_to_the_thread_that_made_it():
    sender, _http = sender_with(fake.created())
    caught = []

    def other_thread():
        try:
            send(sender)
        except RuntimeError as exc:
            caught.append(exc)

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert caught


@pytest.mark.parametrize(
    "overrides",
    [
        {"messaging_service_sid": fake.SERVICE_SID, "from_number": fake.FROM_NUMBER},
        {"messaging_service_sid": None, "from_number": None},
        {"validity_seconds": 0},
        {"validity_seconds": 36_001},
    ],
)
def test_programming_errors_are_refused_before_anything_leaves(overrides):
    sender, http = sender_with()
    with pytest.raises(ValueError):
        send(sender, **overrides)
    assert http.requests == []


def test_a_number_not_in_e164_is_refused():
    sender, http = sender_with()
    with pytest.raises(ValueError):
        sender.send("612-555-0100", BODY, messaging_service_sid=fake.SERVICE_SID)
    assert http.requests == []


def test_validity_at_its_bounds_is_sent():
    sender, http = sender_with(fake.created(), fake.created())
    send(sender, validity_seconds=1)
    send(sender, validity_seconds=36_000)
    assert [r.data["ValidityPeriod"] for r in http.requests] == [1, 36_000]


def test_the_default_http_client_logs_nothing_below_warning():
    client = make_client(fake.ACCOUNT_SID, fake.AUTH_TOKEN)
    assert client.http_client.timeout == 10.0
    assert not client.http_client.logger.isEnabledFor(logging.INFO)


def test_a_client_needs_credentials():
    with pytest.raises(ValueError):
        make_client("", fake.AUTH_TOKEN)


# --- Status callbacks -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("30003", CallbackOutcome.RETRY_LATER),
        ("30005", CallbackOutcome.INVALID_NUMBER),
        ("30006", CallbackOutcome.INVALID_NUMBER),
        (30006, CallbackOutcome.INVALID_NUMBER),
        ("30007", CallbackOutcome.FILTERED),
        ("21610", CallbackOutcome.OPTED_OUT),
        ("30036", CallbackOutcome.EXPIRED),
        ("30008", CallbackOutcome.FAILED),
        ("", CallbackOutcome.FAILED),
        (None, CallbackOutcome.FAILED),
        ("not a code", CallbackOutcome.FAILED),
    ],
)
def test_a_callback_error_code_says_what_to_do(code, outcome):
    assert classify_callback(code) is outcome


@pytest.mark.parametrize(
    ("current", "incoming", "kept"),
    [
        (None, "queued", "queued"),
        ("queued", "sent", "sent"),
        ("sent", "delivered", "delivered"),
        ("delivered", "sent", "delivered"),  # a late "sent" after "delivered"
        ("undelivered", "queued", "undelivered"),
        ("accepted", "queued", "queued"),
        ("delivered", "read", "read"),
        ("sent", "sent", "sent"),
    ],
)
def test_out_of_order_callbacks_keep_the_furthest_status(current, incoming, kept):
    assert furthest_status(current, incoming) == kept


# --- Console --------------------------------------------------------------------


def test_the_console_sender_keeps_the_text_and_logs_no_number_or_body(caplog):
    outbox = []
    sender = ConsoleSender(outbox)
    with caplog.at_level(logging.INFO, logger="advocacy.notify.transport"):
        result = sender.send(VICTIM, BODY, status_callback=CALLBACK, messaging_service_sid=fake.SERVICE_SID)
    assert result.outcome is Outcome.SENT
    assert result.status == "queued"
    assert re.fullmatch(r"SM[0-9a-f]{32}", result.sid)
    [message] = outbox
    assert (message.sid, message.to, message.body) == (result.sid, VICTIM, BODY)
    assert message.info.segments == 1
    [record] = caplog.records
    assert result.sid in record.getMessage()
    assert "1 segment" in record.getMessage()
    # Not "555": the random message id and the record's timestamps hold it now and then.
    logged = caplog.text + repr(record.__dict__)
    assert VICTIM[-10:] not in logged and VICTIM[-7:] not in logged
    assert "appointment" not in logged
    assert VICTIM not in repr(message) and BODY not in repr(message)


def test_the_console_sender_checks_arguments_like_twilio():
    with pytest.raises(ValueError):
        ConsoleSender().send(VICTIM, BODY)


def test_fake_sids_have_twilios_shape_and_do_not_repeat():
    sids = {fake_sid() for _ in range(1000)}
    assert len(sids) == 1000
    assert all(re.fullmatch(r"SM[0-9a-f]{32}", s) for s in sids)


# --- Reconciliation -----------------------------------------------------------------


def test_reconcile_finds_what_was_sent_since_the_claim():
    claimed = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    page = fake.message_page(
        [
            fake.message_json(sid="SM" + "b" * 32, created=claimed + timedelta(seconds=3), status="sent"),
            fake.message_json(sid="SM" + "c" * 32, created=claimed - timedelta(days=7), status="delivered"),
        ],
        to=VICTIM,
    )
    client = make_client(fake.ACCOUNT_SID, fake.AUTH_TOKEN, http_client=fake.RecordingHttpClient([page]))
    found = reconcile(client, VICTIM, claimed)
    assert [m.sid for m in found] == ["SM" + "b" * 32]
    [message] = found
    assert message.status == "sent"
    assert message.date_created == claimed + timedelta(seconds=3)
    assert message.body == fake.message_json()["body"]
    assert VICTIM not in repr(message)
    request = client.http_client.last
    assert request.method == "GET"
    assert request.url == fake.MESSAGES_URL
    assert request.params == {"To": VICTIM, "PageSize": 50}


def test_reconcile_finds_a_message_still_queued_without_a_send_date():
    claimed = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    page = fake.message_page(
        [fake.message_json(created=claimed + timedelta(seconds=1), sent=None)], to=VICTIM
    )
    client = make_client(fake.ACCOUNT_SID, fake.AUTH_TOKEN, http_client=fake.RecordingHttpClient([page]))
    [message] = reconcile(client, VICTIM, claimed)
    assert message.status == "queued"
    assert message.date_sent is None


def test_reconcile_allows_for_clock_skew():
    claimed = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    page = fake.message_page([fake.message_json(created=claimed - timedelta(seconds=30))], to=VICTIM)
    client = make_client(fake.ACCOUNT_SID, fake.AUTH_TOKEN, http_client=fake.RecordingHttpClient([page]))
    assert len(reconcile(client, VICTIM, claimed)) == 1
    client.http_client.queue(page)
    assert reconcile(client, VICTIM, claimed, skew=timedelta(seconds=10)) == []


def test_reconcile_follows_the_next_page():
    claimed = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    next_uri = f"/2010-04-01/Accounts/{fake.ACCOUNT_SID}/Messages.json?To=%2B16125550100&PageSize=50&Page=1&PageToken=PA1"
    first = fake.message_page(
        [fake.message_json(sid="SM" + "d" * 32, created=claimed + timedelta(minutes=5))],
        to=VICTIM,
        next_page_uri=next_uri,
    )
    second = fake.message_page(
        [fake.message_json(sid="SM" + "e" * 32, created=claimed + timedelta(minutes=1))], to=VICTIM, page=1
    )
    http = fake.RecordingHttpClient([first, second])
    client = make_client(fake.ACCOUNT_SID, fake.AUTH_TOKEN, http_client=http)
    found = reconcile(client, VICTIM, claimed)
    assert [m.sid for m in found] == ["SM" + "d" * 32, "SM" + "e" * 32]
    assert http.requests[1].url == "https://api.twilio.com" + next_uri


def test_reconcile_keeps_only_the_agency_sender_when_asked():
    claimed = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    other = "MG" + "9" * 32
    page = fake.message_page(
        [
            fake.message_json(sid="SM" + "f" * 32, created=claimed, messaging_service_sid=other),
            fake.message_json(sid="SM" + "a" * 32, created=claimed),
        ],
        to=VICTIM,
    )
    client = make_client(fake.ACCOUNT_SID, fake.AUTH_TOKEN, http_client=fake.RecordingHttpClient([page]))
    found = reconcile(client, VICTIM, claimed, messaging_service_sid=fake.SERVICE_SID)
    assert [m.sid for m in found] == ["SM" + "a" * 32]


def test_reconcile_needs_an_aware_time():
    client = make_client(fake.ACCOUNT_SID, fake.AUTH_TOKEN, http_client=fake.RecordingHttpClient())
    with pytest.raises(ValueError):
        reconcile(client, VICTIM, datetime(2026, 3, 2, 15, 0))


def test_the_recording_client_refuses_a_request_nobody_expected():
    sender, _http = sender_with()
    with pytest.raises(AssertionError):
        send(sender)
