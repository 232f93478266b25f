"""Demo courts and court dates: every agency's courts, and hearings tomorrow and
next week whose first reminders fall due in the demo's first minutes.

The court dates are made at the real time, after the cases, through the court
service: their reminders are planned for whatever number is confirmed then,
and again by the SMS side when a number is confirmed later.  All names are invented.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from advocacy import clock
from advocacy.actor import Actor
from advocacy.auth.models import Agency, User
from advocacy.court import service
from advocacy.court.models import Court, CourtEventKind
from advocacy.court.zones import local
from advocacy.errors import Refused
from advocacy.extensions import db
from advocacy.intake.models import Case, CaseStatus

DULUTH = "America/Chicago"

#: (agency slug, court name, zone, address).
COURTS = (
    ("north-shore", "District Court, Duluth (demo)", DULUTH, "100 Example Courthouse Sq, Duluth"),
    ("north-shore", "Family Court, Two Harbors (demo)", DULUTH, None),
    ("river-valley", "County Court, Valley (demo)", DULUTH, None),
    ("four-directions", "Tribal Court (demo)", DULUTH, None),
)

#: (case alias, kind, courtroom, days ahead, minutes after now): a reminder
#: "1 day before" (or "7 days before") then falls due in those minutes.
HEARINGS = (
    ("Rosa M. (demo)", CourtEventKind.PROTECTION_ORDER, "3B", 1, 10),
    ("Amina K. (demo)", CourtEventKind.PRETRIAL, "214", 7, 20),
)


def _start(days: int, minutes: int) -> datetime:
    """On the court's clock, ``days`` from now and ``minutes`` later, on a five-minute mark."""
    at = local(clock.now(), DULUTH) + timedelta(days=days, minutes=minutes)
    return at.replace(minute=at.minute - at.minute % 5, second=0, microsecond=0)


def load_court(agencies: dict[str, Agency], users: dict[str, User]) -> None:
    courts: dict[str, Court] = {}
    for slug, name, zone, address in COURTS:
        agency = agencies[slug]
        court = service.add_court(Actor.system("demo", agency.id), agency.id, name, zone, address=address)
        courts.setdefault(slug, court)
    advocate = Actor.for_user(users["advocate"])
    north = agencies["north-shore"]
    cases = {
        c.alias: c
        for c in db.session.scalars(
            select(Case).where(Case.agency_id == north.id, Case.status == CaseStatus.OPEN)
        )
    }
    for alias, kind, room, days, minutes in HEARINGS:
        case = cases.get(alias)
        if case is None:
            continue
        at = _start(days, minutes)
        try:
            service.add_event(
                advocate,
                case,
                kind=kind,
                court_id=courts["north-shore"].id,
                courtroom=room,
                day=at.date(),
                at=at.time().replace(tzinfo=None),
            )
        except Refused:  # the hour skipped on a spring night: that demo hearing is left out
            continue
