"""Demo text reminders: each agency's sender, numbers confirmed for two North
Shore cases (so the court dates that follow plan their reminders, due in the
demo's first minutes), a victim who replied STOP, and a "Call the victim"
alert on the advocate's home page.  All numbers are fictional (555-01xx)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from advocacy import clock
from advocacy.auth.models import Agency, User
from advocacy.extensions import db
from advocacy.intake.models import Case
from advocacy.notify.models import (
    Attention,
    MessageKind,
    MessageState,
    OutboxMessage,
    SmsSender,
    Style,
    Subscription,
    SubscriptionState,
)
from advocacy.notify.service.enrol import phone_hash
from advocacy.notify.service.inbound import Inbound, handle_inbound
from advocacy.notify.transport import fake_sid

#: (case alias, SMS locale, style): confirmed as if the code had been read back.
CONFIRMED = (
    ("Rosa M. (demo)", "es", Style.DISCREET),
    ("Amina K. (demo)", "ar", Style.DISCREET),
    ("Grace W. (demo)", "en", Style.DISCREET),
)


def load_sms(agencies: dict[str, Agency], users: dict[str, User]) -> None:
    now = clock.now()
    for agency in agencies.values():
        db.session.add(
            SmsSender(
                agency_id=agency.id,
                program_name="Appointments (demo)",
                help_contact="218-555-0199",
                rate_per_second=1.0,
                quiet_start=21 * 60,
                quiet_end=8 * 60,
            )
        )
    cases = {c.alias: c for c in db.session.scalars(select(Case))}
    subs: dict[str, Subscription] = {}
    for alias, locale, style in CONFIRMED:
        case = cases.get(alias)
        if case is None or not case.phone:
            continue
        sub = Subscription(
            agency_id=case.agency_id,
            case_id=case.id,
            phone=case.phone,
            phone_hash=phone_hash(case.phone),
            locale=locale,
            style=style,
            time_zone="America/Chicago",
            state=SubscriptionState.CONFIRMED,
            confirmed_at=now - timedelta(days=2),
            created_at=now - timedelta(days=2),
            code_attempts=1,
        )
        db.session.add(sub)
        subs[alias] = sub
    db.session.flush()
    grace = subs.get("Grace W. (demo)")
    if grace is not None:
        # A reminder the carrier could not deliver, then her STOP.
        db.session.add(
            OutboxMessage(
                agency_id=grace.agency_id,
                subscription_id=grace.id,
                kind=MessageKind.REMINDER,
                params=json.dumps({"starts_at": (now + timedelta(hours=20)).isoformat()}),
                planned_at=now - timedelta(hours=4),
                send_after=now - timedelta(hours=4),
                valid_until=now + timedelta(hours=19),
                source_type="demo",
                source_id=1,
                state=MessageState.FAILED,
                attempts=1,
                provider_sid=fake_sid(),
                provider_status="undelivered",
                error_code=30008,
                segments=1,
                sent_at=now - timedelta(hours=4),
                attention=Attention.UNDELIVERABLE,
                created_at=now - timedelta(days=1),
            )
        )
        db.session.flush()
        handle_inbound(Inbound(message_sid=fake_sid(), from_number=grace.phone, body="STOP"))
    db.session.flush()
