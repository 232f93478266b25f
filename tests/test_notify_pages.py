"""Text reminders through the app: an advocate enrols a number on the case
page, types the code the victim reads back, and sees "Call the victim" on
the home page when a reminder cannot reach her."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from advocacy.clock import FrozenClock
from advocacy.extensions import db
from advocacy.notify.models import (
    Attention,
    MessageKind,
    MessageState,
    OutboxMessage,
    Subscription,
    SubscriptionState,
)
from advocacy.notify.service import enqueue
from advocacy.notify.service.worker import Worker
from advocacy.notify.transport import ConsoleSender
from advocacy.roles import Role
from tests import factories
from tests.helpers import sign_in, text_of

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
VICTIM = "+12185550101"


@pytest.fixture
def world(app: Any, clock: FrozenClock, client: Any) -> dict[str, Any]:
    clock.set(NOW)
    north = factories.agency("north")
    advocate = factories.user(north, Role.ADVOCATE)
    case = factories.case(
        advocate, "Maple", phone=VICTIM, safe_to_text=True, consent_sms=True, language="es-MX"
    )
    sign_in(client, advocate)
    return {"agency": north, "advocate": advocate, "case": case}


def send_due(app: Any) -> ConsoleSender:
    outbox = ConsoleSender()
    Worker(app, lambda: outbox, simulate_delivery=True).run_until_idle()
    return outbox


def test_advocate_enrols_the_safe_contact_with_the_code_read_back(
    world: dict[str, Any], app: Any, client: Any
) -> None:
    case = world["case"]
    page = client.get(f"/cases/{case.id}")
    assert "Text reminders" in text_of(page)
    assert 'value="es" lang="es" selected' in page.get_data(as_text=True)
    refused = client.post(f"/notify/cases/{case.id}/enrol", data={"source": "contact", "locale": "es"})
    assert "not been reviewed" in text_of(client.get(refused.headers["Location"]))
    client.post(
        f"/notify/cases/{case.id}/enrol", data={"source": "contact", "locale": "es", "acknowledge_draft": "y"}
    )
    code = re.search(r"clave es (\d{6})", send_due(app).outbox[0].body).group(1)  # type: ignore[union-attr]
    wrong = client.post(
        f"/notify/cases/{case.id}/confirm", data={"code": "999999" if code != "999999" else "111111"}
    )
    assert "Tries left: 2" in text_of(client.get(wrong.headers["Location"]))
    done = client.post(f"/notify/cases/{case.id}/confirm", data={"code": code})
    page = text_of(client.get(done.headers["Location"]))
    assert "The number is confirmed" in page
    assert "ending in 0101" in page
    sub = db.session.scalars(select(Subscription)).one()
    assert sub.state == SubscriptionState.CONFIRMED and sub.locale == "es" and sub.code_attempts == 1


def test_a_mistyped_number_never_gets_reminders(world: dict[str, Any], app: Any, client: Any) -> None:
    case = world["case"]
    client.post(
        f"/notify/cases/{case.id}/enrol", data={"source": "typed", "phone": "218 555 0109", "locale": "en"}
    )
    send_due(app)
    for _ in range(3):
        client.post(f"/notify/cases/{case.id}/confirm", data={"code": "000001"})
    sub = db.session.scalars(select(Subscription)).one()
    assert sub.state == SubscriptionState.ENDED
    assert (
        enqueue(
            factories.system(world["agency"]),
            sub,
            MessageKind.REMINDER,
            {},
            NOW,
            NOW + timedelta(days=1),
            ("court_event", 1),
        )
        is None
    )


def test_an_undeliverable_reminder_asks_the_advocate_to_call_until_handled(
    world: dict[str, Any], app: Any, client: Any, clock: FrozenClock
) -> None:
    sub = Subscription(
        agency_id=world["agency"].id,
        case_id=world["case"].id,
        phone=VICTIM,
        phone_hash="0" * 64,
        locale="en",
        time_zone="America/Chicago",
        state=SubscriptionState.CONFIRMED,
        confirmed_at=NOW,
    )
    db.session.add(sub)
    db.session.flush()
    enqueue(
        factories.system(world["agency"]),
        sub,
        MessageKind.REMINDER,
        {"starts_at": NOW + timedelta(hours=3)},
        NOW + timedelta(hours=1),
        NOW + timedelta(hours=2),
        ("court_event", 1),
    )
    factories.commit()
    assert "Call the victim" not in text_of(client.get("/"))
    clock.advance(hours=2)
    send_due(app)
    sign_in(client, world["advocate"])  # two hours later: a new session
    home = client.get("/")
    assert "Call the victim" in text_of(home)
    assert "not sent before its deadline" in text_of(home)
    alert = db.session.scalars(select(OutboxMessage)).one()
    assert alert.attention == Attention.EXPIRED and alert.state == MessageState.FAILED
    client.post(f"/notify/alerts/{alert.id}/handled", data={"next": "/"})
    assert "Call the victim" not in text_of(client.get("/"))


def test_the_outbox_page_shows_the_words_on_the_console_backend(
    world: dict[str, Any], app: Any, client: Any
) -> None:
    client.post(f"/notify/cases/{world['case'].id}/enrol", data={"source": "contact", "locale": "en"})
    page = text_of(client.get("/notify/outbox"))
    assert "Enrolment code" in page and "your code is" in page
    assert VICTIM not in page


def test_another_agencys_case_cannot_be_enrolled(world: dict[str, Any], client: Any) -> None:
    south = factories.agency("south")
    other = factories.case(
        factories.user(south, Role.ADVOCATE), "Oak", phone=VICTIM, safe_to_text=True, consent_sms=True
    )
    assert (
        client.post(f"/notify/cases/{other.id}/enrol", data={"source": "contact", "locale": "en"}).status_code
        == 404
    )
    assert db.session.scalar(select(Subscription)) is None


def test_the_template_preview_shows_every_language_with_its_segments(
    world: dict[str, Any], client: Any
) -> None:
    page = text_of(client.get("/notify/templates"))
    assert "your code is 123456" in page and "su clave es 123456" in page
    assert "GSM-7" in page and "UCS-2" in page  # Arabic travels as UCS-2
    assert "over budget" not in page
    arabic = client.get("/notify/templates?locale=ar").get_data(as_text=True)
    assert 'lang="ar"' in arabic and "su clave" not in arabic


def test_the_agency_admin_sets_the_messaging_service(world: dict[str, Any], client: Any) -> None:
    from advocacy.notify.models import SmsSender

    admin = factories.user(world["agency"], Role.ADMIN)
    sign_in(client, admin)
    bad = client.post(
        "/notify/sender",
        data={
            "program_name": "Appointments",
            "messaging_service_sid": "MG12",
            "rate_per_second": "1",
            "quiet_start": "21:00",
            "quiet_end": "08:00",
        },
    )
    assert bad.status_code == 400 and "32 hexadecimal" in text_of(bad)
    assert db.session.get(SmsSender, world["agency"].id) is None
    client.post(
        "/notify/sender",
        data={
            "program_name": "Appointments",
            "help_contact": "218-555-0199",
            "messaging_service_sid": "MG" + "a" * 32,
            "rate_per_second": "3",
            "quiet_start": "20:30",
            "quiet_end": "08:00",
        },
    )
    sender = db.session.get(SmsSender, world["agency"].id)
    assert sender is not None and sender.messaging_service_sid == "MG" + "a" * 32
    assert (sender.rate_per_second, sender.quiet_start) == (3.0, 20 * 60 + 30)
    sign_in(client, world["advocate"])
    assert client.get("/notify/sender").status_code == 403


# --- texts not known to be sent ---------------------------------------------------------------


def unknown_reminder(agency: Any, case: Any, claimed_at: datetime = NOW) -> OutboxMessage:
    """A reminder whose worker died after claiming it: the lease ran out, so it is unknown."""
    sub = Subscription(
        agency_id=agency.id,
        case_id=case.id,
        phone=VICTIM,
        phone_hash="0" * 64,
        locale="en",
        time_zone="America/Chicago",
        state=SubscriptionState.CONFIRMED,
        confirmed_at=NOW,
    )
    db.session.add(sub)
    db.session.flush()
    row = enqueue(
        factories.system(agency),
        sub,
        MessageKind.REMINDER,
        {"starts_at": NOW + timedelta(days=2)},
        NOW,
        NOW + timedelta(days=1),
        ("court_event", case.id),
    )
    assert row is not None
    row.state, row.claimed_at, row.claimed_by, row.attempts = MessageState.UNKNOWN, claimed_at, "w:1", 1
    factories.commit()
    return row


def test_the_advocate_sees_what_is_not_known_to_be_sent_and_never_another_agencys(
    world: dict[str, Any], client: Any
) -> None:
    unknown_reminder(world["agency"], world["case"])
    south = factories.agency("south")
    theirs = factories.case(factories.user(south, Role.ADVOCATE), "Oak")
    unknown_reminder(south, theirs)
    home = client.get("/")
    assert "1 text is not known to have been sent" in text_of(home)
    assert 'href="/notify/unknown"' in client.get("/notify/outbox").get_data(as_text=True)
    page = text_of(client.get("/notify/unknown"))
    assert world["case"].number in page and theirs.number not in page
    assert "Not checked yet" in page
    assert "Call the victim and make sure they know about the court date" in page


def test_an_unknown_text_the_console_cannot_check_says_so_and_can_be_marked_handled(
    world: dict[str, Any], app: Any, client: Any, clock: FrozenClock
) -> None:
    from advocacy.notify.service.reconcile import reconcile_unknown

    row = unknown_reminder(world["agency"], world["case"])
    clock.advance(minutes=5)
    assert reconcile_unknown(None) == 0  # the console has nothing to ask
    factories.commit()
    page = text_of(client.get("/notify/unknown"))
    assert "Cannot be checked" in page and "Last check:" in page
    done = client.post(f"/notify/alerts/{row.id}/handled", data={"next": "/notify/unknown"})
    assert done.headers["Location"].endswith("/notify/unknown")
    assert "Marked as handled." in text_of(client.get("/notify/unknown"))


def test_an_unknown_text_twilio_could_not_be_asked_about_is_asked_again(
    world: dict[str, Any], app: Any, client: Any, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from advocacy.notify.service.reconcile import reconcile_unknown

    class Unreachable:
        @property
        def messages(self) -> Any:
            raise ConnectionError("no route to api.twilio.com")

    unknown_reminder(world["agency"], world["case"])
    clock.advance(minutes=5)
    assert reconcile_unknown(Unreachable()) == 0
    factories.commit()
    settings = dataclasses.replace(app.config["SETTINGS"], sms_backend="twilio")
    monkeypatch.setitem(app.config, "SETTINGS", settings)
    page = text_of(client.get("/notify/unknown"))
    assert "Twilio could not be reached at the last check" in page
    assert db.session.scalars(select(OutboxMessage)).one().state == MessageState.UNKNOWN


def test_with_nothing_unknown_the_page_says_so(world: dict[str, Any], client: Any) -> None:
    assert "nothing to check" in text_of(client.get("/notify/unknown"))
    assert "not known to have been sent" not in text_of(client.get("/"))


# --- a victim whose language has no texts -----------------------------------------------------


def test_a_language_without_texts_gets_the_fallback_only_once_the_advocate_confirms(
    world: dict[str, Any], app: Any, client: Any
) -> None:
    from advocacy.audit.models import AuditEvent

    case = factories.case(
        world["advocate"], "Birch", phone=VICTIM, safe_to_text=True, consent_sms=True, language="ti"
    )
    page = client.get(f"/cases/{case.id}")
    assert "There are no text messages in" in text_of(page) and "the victim's language" in text_of(page)
    assert 'value="en" lang="en" selected' in page.get_data(as_text=True)  # the agency's fallback
    refused = client.post(f"/notify/cases/{case.id}/enrol", data={"source": "contact", "locale": "en"})
    assert "Confirm with them, or through an interpreter, that they read English" in text_of(
        client.get(refused.headers["Location"])
    )
    assert db.session.scalar(select(Subscription)) is None
    client.post(
        f"/notify/cases/{case.id}/enrol",
        data={"source": "contact", "locale": "en", "confirm_fallback": "y"},
    )
    sub = db.session.scalars(select(Subscription)).one()
    assert (sub.locale, sub.fallback_for) == ("en", "ti")
    code = re.search(r"your code is (\d{6})", send_due(app).outbox[0].body).group(1)  # type: ignore[union-attr]
    done = client.post(f"/notify/cases/{case.id}/confirm", data={"code": code})
    assert "has no texts: the advocate confirmed they read this one" in text_of(
        client.get(done.headers["Location"])
    )
    assert db.session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.action == "sms.subscription.fallback_confirmed", AuditEvent.object_id == str(sub.id)
        )
    )


def test_the_agency_admin_chooses_the_fallback_language_enrolment_uses(
    world: dict[str, Any], client: Any
) -> None:
    from advocacy.notify.models import SmsSender
    from advocacy.notify.service import enrol

    admin = factories.user(world["agency"], Role.ADMIN)
    sign_in(client, admin)
    settings = {
        "program_name": "Appointments",
        "rate_per_second": "1",
        "quiet_start": "21:00",
        "quiet_end": "08:00",
    }
    bad = client.post("/notify/sender", data={**settings, "fallback_locale": "ti"})
    assert bad.status_code == 400 and "languages the texts are written in" in text_of(bad)
    assert db.session.get(SmsSender, world["agency"].id) is None
    client.post("/notify/sender", data={**settings, "fallback_locale": "es"})
    assert 'value="es" lang="es" selected' in client.get("/notify/sender").get_data(as_text=True)
    case = factories.case(
        world["advocate"], "Birch", phone=VICTIM, safe_to_text=True, consent_sms=True, language="ti"
    )
    # Asked for the victim's own language, which has no texts: the agency's choice, confirmed.
    sub, _code = enrol.start_enrolment(
        factories.actor(world["advocate"]),
        case,
        phone=None,
        locale="ti",
        acknowledge_draft=True,
        confirm_fallback=True,
    )
    assert (sub.locale, sub.fallback_for) == ("es", "ti")
