"""Demo data: three agencies, a shelter network of eight shelters and 171 beds
with five weeks of history, one user per role, two dozen cases with their
screenings, and two unfinished intakes.

Passwords are random and printed once by ``flask demo load``; demo users are
already enrolled in TOTP so that ``make code USER=...`` gives a newcomer a
code without a phone.  All names, aliases and addresses are invented.

The past is made by the services themselves, each call at its own moment:
:func:`replay` puts the app on a clock that the demo sets (the app's one
clock, :mod:`advocacy.clock`; nothing is patched).  The network is in
:mod:`.network`, the cases in :mod:`.cases`.  The caller's unit of work
commits the whole load, or nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import inspect, select

from advocacy import clock
from advocacy.actor import Actor
from advocacy.auth.models import Agency, Role
from advocacy.auth.service import create_agency, create_user, password_problems, random_passphrase
from advocacy.demo.cases import load_cases
from advocacy.demo.court import load_court
from advocacy.demo.network import (
    HISTORY_DAYS,
    SEED,
    SHELTERS,
    STALE_FOR,
    History,
    Place,
    SetTime,
    build_network,
    present,
)
from advocacy.demo.sms import load_sms
from advocacy.extensions import db
from advocacy.shelters import service


class ReplayClock:
    """The real time, or the moment the demo is replaying."""

    def __init__(self) -> None:
        self.moment: datetime | None = None

    def now(self) -> datetime:
        return self.moment or clock.SYSTEM.now()


@contextmanager
def replay() -> Iterator[SetTime]:
    """Run the app on a clock the demo sets; the real time again on exit."""
    replaying = ReplayClock()

    def set_time(at: datetime | None) -> None:
        replaying.moment = at

    with clock.use_clock(replaying):
        yield set_time


def load_demo(*, if_empty: bool = True) -> list[tuple[str, str, str]] | None:
    if if_empty and db.session.scalar(select(Agency.id).limit(1)) is not None:
        return None
    north = create_agency("North Shore Safe Harbor (demo)", "north-shore")
    valley = create_agency("River Valley Family Safety (demo)", "river-valley")
    lodge = create_agency("Four Directions Family Lodge (demo)", "four-directions")
    agencies = {a.slug: a for a in (north, valley, lodge)}

    logins: list[tuple[str, str, str]] = []
    accounts = (
        ("admin", "Alex Admin (demo)", north, Role.ADMIN),
        ("advocate", "Ana Advocate (demo)", north, Role.ADVOCATE),
        ("staff", "Sam Staff (demo)", north, Role.SHELTER_STAFF),
        ("coordinator", "Chris Coordinator (demo)", north, Role.COORDINATOR),
        ("valley", "Val Advocate (demo)", valley, Role.ADVOCATE),
        ("valleystaff", "Vic Staff (demo)", valley, Role.SHELTER_STAFF),
        ("lodge", "Lee Lodge Admin (demo)", lodge, Role.ADMIN),
    )
    users = {}
    for username, name, agency, role in accounts:
        password = random_passphrase()
        # The words include "valley": a password must not contain the user name.
        while password_problems(password, username):
            password = random_passphrase()
        users[username] = create_user(
            Actor.system("demo", agency.id), username, name, password, [(agency, role)], enrol_totp=True
        )
        logins.append((username, role.value, password))

    db.session.flush()
    service.update_network_settings(
        Actor.for_user(users["lodge"]), lodge.id, hold_minutes=180, stale_after_minutes=720
    )

    def actor(username: str) -> Actor:
        return Actor.for_user(users[username])

    staff = {north.id: actor("staff"), valley.id: actor("valleystaff"), lodge.id: actor("lodge")}
    advocates = [(actor("advocate"), north.id), (actor("valley"), valley.id), (actor("lodge"), lodge.id)]
    now = clock.now()
    start = now - timedelta(days=HISTORY_DAYS)
    with replay() as set_time:
        shelters = build_network(agencies, start, set_time)
        history = History(random.Random(SEED), now, set_time)  # noqa: S311 (a seeded replay, not a secret)
        places = []
        for spec, shelter in zip(SHELTERS, shelters, strict=True):
            place = Place(
                shelter=shelter,
                spec=spec,
                staff=staff[shelter.agency_id],
                referrers=[a for a in advocates if a[1] != shelter.agency_id],
                quiet_after=now - STALE_FOR if spec.stale else now,
            )
            places.append(place)
            history.plan(place, start)
        history.run()
        present(history, places, users)
        # Cases come last, on the network as it stands today: the referral
        # among them holds real beds that must still be free.
        load_cases(agencies, users, places, set_time)
    # Numbers confirmed for text reminders, then court dates at the real time
    # (hearings tomorrow and next week), whose reminders go to those numbers.
    # (A database on an older revision, as a migration test loads, has neither.)
    tables = set(inspect(db.session.connection()).get_table_names())
    if "sms_subscription" in tables:
        load_sms(agencies, users)
    if "court_event" in tables:
        load_court(agencies, users)
    return logins
