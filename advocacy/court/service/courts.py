"""An agency's list of courts and its reminder schedule: what an agency admin sets up."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from advocacy.access import get_scoped
from advocacy.actor import Actor
from advocacy.audit.service import record
from advocacy.court import schedule as sched
from advocacy.court.models import Court, CourtSettings
from advocacy.court.zones import is_zone
from advocacy.errors import Refused
from advocacy.extensions import db
from advocacy.roles import Role

ADMIN_ROLES = (Role.ADMIN,)

#: A court's name and courtroom go into a detailed text, whose fields have these limits.
MAX_COURT_NAME = 40
MAX_COURTROOM = 10
MAX_ADDRESS = 300


def _admin_agency(actor: Actor, agency_id: int) -> int:
    if agency_id not in actor.agency_ids(*ADMIN_ROLES):
        raise Refused(_("Choose one of your agencies."), "agency")
    return agency_id


def _checked(name: str, time_zone: str, address: str | None) -> tuple[str, str, str | None]:
    name = " ".join(name.split())
    if not name:
        raise Refused(_("Enter the court's name."), "name")
    if len(name) > MAX_COURT_NAME:
        raise Refused(
            _("Keep the name to %(n)d characters: it goes into text messages.", n=MAX_COURT_NAME), "name"
        )
    time_zone = time_zone.strip()
    if not is_zone(time_zone):
        raise Refused(_("Choose the court's time zone from the list."), "time_zone")
    address = " ".join((address or "").split()) or None
    if address is not None and len(address) > MAX_ADDRESS:
        raise Refused(_("Keep the address to %(n)d characters.", n=MAX_ADDRESS), "address")
    return name, time_zone, address


def _name_taken(agency_id: int, name: str, except_id: int | None = None) -> bool:
    stmt = select(func.count()).where(Court.agency_id == agency_id, func.lower(Court.name) == name.lower())
    if except_id is not None:
        stmt = stmt.where(Court.id != except_id)
    return bool(db.session.scalar(stmt))


def agency_courts(agency_id: int, *, active_only: bool = False) -> list[Court]:
    """The agency's courts by name (the caller has checked the agency is the actor's)."""
    stmt = select(Court).where(Court.agency_id == agency_id).order_by(Court.name, Court.id)
    if active_only:
        stmt = stmt.where(Court.active.is_(True))
    return list(db.session.scalars(stmt))


def add_court(
    actor: Actor, agency_id: int, name: str, time_zone: str, *, address: str | None = None
) -> Court:
    agency_id = _admin_agency(actor, agency_id)
    name, time_zone, address = _checked(name, time_zone, address)
    if _name_taken(agency_id, name):
        raise Refused(_("Your agency already has a court with this name."), "name")
    court = Court(agency_id=agency_id, name=name, time_zone=time_zone, address=address)
    db.session.add(court)
    db.session.flush()
    record(actor, "court.added", "court", court.id, agency_id=agency_id)
    return court


def get_court(actor: Actor, court_id: int) -> Court:
    return get_scoped(actor, Court, court_id, *ADMIN_ROLES)


def update_court(
    actor: Actor, court_id: int, name: str, time_zone: str, *, address: str | None, active: bool
) -> Court:
    """Change a court.  Its events keep their instant: a court whose zone was
    wrong shows the same hearings at other wall times, which is the point of
    correcting it; the admin is told so on the page."""
    court = get_court(actor, court_id)
    name, time_zone, address = _checked(name, time_zone, address)
    if _name_taken(court.agency_id, name, except_id=court.id):
        raise Refused(_("Your agency already has a court with this name."), "name")
    court.name, court.time_zone, court.address, court.active = name, time_zone, address, active
    record(actor, "court.updated", "court", court.id, agency_id=court.agency_id)
    db.session.flush()
    return court


# --- the reminder schedule ---------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    standard: tuple[sched.Offset, ...]
    denser: tuple[sched.Offset, ...]

    def offsets(self, dense: bool) -> tuple[sched.Offset, ...]:
        return sched.schedule_for(self.standard, self.denser, dense)

    @property
    def standard_text(self) -> str:
        return sched.schedule_text(self.standard)

    @property
    def denser_text(self) -> str:
        return sched.schedule_text(self.denser)


DEFAULT = Schedule(sched.parse_schedule(sched.DEFAULT_SCHEDULE), sched.parse_schedule(sched.DEFAULT_DENSER))


def agency_schedule(agency_id: int) -> Schedule:
    row = db.session.get(CourtSettings, agency_id)
    if row is None:
        return DEFAULT
    return Schedule(sched.parse_schedule(row.schedule), sched.parse_schedule(row.denser))


def _parsed(text: str, field: str, *, required: bool) -> tuple[sched.Offset, ...]:
    try:
        offsets = sched.parse_schedule(text)
    except sched.ScheduleError as exc:
        raise Refused(
            _(
                "“%(part)s” is not a reminder time. Use days before (7d), hours before (2h) "
                "or a time on the morning of (08:00).",
                part=exc.token,
            ),
            field,
        ) from exc
    if required and not offsets:
        raise Refused(_("Enter at least one reminder time."), field)
    return offsets


def update_schedule(actor: Actor, agency_id: int, standard: str, denser: str) -> Schedule:
    agency_id = _admin_agency(actor, agency_id)
    result = Schedule(_parsed(standard, "schedule", required=True), _parsed(denser, "denser", required=False))
    row = db.session.get(CourtSettings, agency_id)
    if row is None:
        row = CourtSettings(agency_id=agency_id)
        db.session.add(row)
    row.schedule, row.denser = result.standard_text, result.denser_text
    record(actor, "court_settings.updated", "agency", agency_id, agency_id=agency_id)
    db.session.flush()
    return result
