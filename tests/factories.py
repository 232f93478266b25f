"""Plain functions that build a test's world in a line each (Warehouse's factories, without a library).

Each one goes through the services, as the app itself would, acting as the
system for the agency concerned, and flushes; :func:`commit` ends the
building, so that what a test then does through the app starts from rows
that exist for every connection.

    north = factories.agency("north")
    staff = factories.user(north, Role.SHELTER_STAFF)
    shelter = factories.shelter(north, "F1: adult adult child; S1: adult")
    case = factories.case(factories.user(north), "Maple")
"""

from __future__ import annotations

import secrets
from typing import Any

from advocacy.actor import Actor
from advocacy.auth.models import Agency, Role, User
from advocacy.auth.service import create_agency, create_user
from advocacy.extensions import db
from advocacy.intake import service as intake
from advocacy.intake.instrument_format import shipped
from advocacy.intake.models import Case, IntakeDraft, RiskScreening
from advocacy.shelters import service as shelters
from advocacy.shelters.models import BedType, RoomType, Shelter

PASSWORD = "correct horse battery staple 42"

#: The shipped 11-question lethality screen.
LETHALITY = "lethality-screen@1"


def commit() -> None:
    db.session.commit()


def system(agency: Agency | int) -> Actor:
    """The app itself, acting for one agency (it holds every role there)."""
    return Actor.system("test", agency if isinstance(agency, int) else agency.id)


def actor(user: User, acting_agency_id: int | None = None) -> Actor:
    """Who a signed-in user is to the services."""
    return Actor.for_user(user, acting_agency_id)


def agency(slug: str = "north", name: str | None = None) -> Agency:
    made = create_agency(name or f"Agency {slug}", slug)
    commit()
    return made


def user(
    of: Agency,
    role: Role = Role.ADVOCATE,
    username: str | None = None,
    *,
    password: str = PASSWORD,
    enrolled: bool = True,
    also: tuple[tuple[Agency, Role], ...] = (),
) -> User:
    """A staff account with a role in ``of`` (and ``also`` in others), two-step sign-in set up."""
    made = create_user(
        system(of),
        username or f"{role.value}-{secrets.token_hex(3)}",
        f"Test {role.value}",
        password,
        [(of, role), *also],
        enrol_totp=enrolled,
    )
    commit()
    return made


def _room(code: str) -> tuple[str, RoomType, bool, bool]:
    """``F1``, ``S2+accessible+pets``: label, type (F: family, else single), flags."""
    label, *flags = code.strip().split("+")
    unknown = set(flags) - {"accessible", "pets"}
    if unknown:
        raise ValueError(f"unknown room flags {sorted(unknown)} in {code!r}")
    room_type = RoomType.FAMILY if label.startswith("F") else RoomType.SINGLE
    return label, room_type, "accessible" in flags, "pets" in flags


def shelter(
    of: Agency,
    rooms: str = "S1: adult adult",
    *,
    label: str = "NS-1",
    region: str = "North Shore",
    name: str = "Birch House",
    address: str | None = "1208 Example Ave, Duluth",
    **options: Any,
) -> Shelter:
    """A shelter from a compact description of its rooms.

    ``"F1: adult adult child crib; S1+accessible+pets: adult"`` is a family
    room F1 with four beds and an accessible single room S1 that takes pets.
    Beds are labelled after their room and a letter, in order: F1-A, F1-B...
    """
    setup = system(of)
    made = shelters.add_shelter(setup, of.id, name, label, region, address=address, **options)
    for part in filter(None, (p.strip() for p in rooms.split(";"))):
        code, _sep, kinds = part.partition(":")
        room_label, room_type, accessible, pets = _room(code)
        beds = [(f"{room_label}-{chr(ord('A') + i)}", BedType(kind)) for i, kind in enumerate(kinds.split())]
        shelters.add_room(
            setup, made, room_label, room_type=room_type, accessible=accessible, pets_allowed=pets, beds=beds
        )
    commit()
    return made


def case(owner: User, alias: str = "Maple", *, agency_id: int | None = None, **fields: Any) -> Case:
    """An open case of the owner's (first) agency."""
    agency_id = agency_id or owner.memberships[0].agency_id
    made = intake.open_case(system(agency_id), agency_id, owner.id, alias, **fields)
    commit()
    return made


def yes_to(*questions: int, instrument: str = LETHALITY) -> dict[str, str]:
    """Answers to a screen: "yes" to the questions numbered (from 1), "no" to the rest."""
    found = shipped()[instrument]
    return {q.key: ("yes" if i in questions else "no") for i, q in enumerate(found.questions, start=1)}


def screening(
    of: Case,
    *yes: int,
    judgment: str | None = None,
    by: User | None = None,
    instrument: str = LETHALITY,
) -> RiskScreening:
    """A screening of the case with "yes" to the questions numbered (1 to 3 screen in alone)."""
    who = actor(by) if by is not None else system(of.agency_id)
    made = intake.screen_case(
        who, of, shipped()[instrument], yes_to(*yes, instrument=instrument), judgment_reason=judgment
    )
    commit()
    return made


def draft(owner: User, **steps: dict[str, Any]) -> IntakeDraft:
    """An unfinished intake of the owner, with the steps given saved as complete."""
    who = actor(owner)
    made = intake.start_draft(who)
    for step, values in steps.items():
        intake.save_step(who, made, step, values, complete=True)
    commit()
    return made


def sms_sender(of: Agency, **overrides: Any) -> Any:
    """The agency's Twilio sender as the SMS tests expect it: a Messaging Service, a
    generous rate and the default quiet hours (21:00 to 08:00), unless told otherwise."""
    from advocacy.notify.models import SmsSender
    from tests import twilio_fake

    values: dict[str, Any] = {
        "agency_id": of.id,
        "program_name": "North Reminders",
        "help_contact": "218-555-0199",
        "messaging_service_sid": twilio_fake.SERVICE_SID,
        "rate_per_second": 1000.0,
        "quiet_start": 21 * 60,
        "quiet_end": 8 * 60,
    }
    values.update(overrides)
    sender = SmsSender(**values)
    db.session.add(sender)
    return sender


def confirmed_subscription(acting: Actor, case: Case, locale: str = "en") -> Any:
    """The case's safe contact enrolled as a person would: the code texted, then read back."""
    from advocacy.notify.service import enrol

    sub, code = enrol.start_enrolment(acting, case, phone=None, locale=locale, acknowledge_draft=True)
    enrol.confirm_code(acting, sub, code)
    commit()
    return sub
