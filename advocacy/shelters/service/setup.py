"""Setting up the network: an agency's rules, its shelters, rooms and beds.

A shelter has two identities.  Its name and address are the agency's own
knowledge; its public label and coarse region are what the network sees,
and :func:`check_public_identity` keeps the second from repeating the first.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from advocacy import clock
from advocacy.access import get_scoped, scoped
from advocacy.actor import Actor
from advocacy.audit.service import record
from advocacy.auth.models import Role
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db
from advocacy.handoff.guard import KnownPlaces, scan
from advocacy.handoff.guard.hits import HitKind
from advocacy.handoff.guard.places import _fold
from advocacy.notify.phones import parse_phone
from advocacy.shelters.models import Bed, BedState, BedType, NetworkSettings, Room, RoomType, Shelter
from advocacy.shelters.service.core import (
    DEFAULT_STALE_AFTER_MINUTES,
    MAX_HOLD_MINUTES,
    MAX_PENDING_REFERRALS_PER_AGENCY,
    STAFF_ROLES,
    record_events,
    touch,
)
from advocacy.types import normalize_for_lookup

#: Beds of a room are lettered A to Z after the room ("Room 1-A").
MAX_BEDS_PER_ROOM = len(string.ascii_uppercase)
#: A bed label is at most 40 characters: the room's label, a dash and a letter must fit.
MAX_ROOM_LABEL = 36
MAX_STALE_AFTER_MINUTES = 7 * 24 * 60
#: The form field an intake line's refusal belongs next to.
INTAKE_PHONE = "intake_phone"


def update_network_settings(
    actor: Actor,
    agency_id: int,
    *,
    hold_minutes: int,
    stale_after_minutes: int,
    pending_referrals_per_agency: int | None = None,
) -> None:
    if agency_id not in actor.agency_ids(Role.ADMIN):
        raise Refused(_("Choose one of your agencies."), "agency")
    if not 15 <= hold_minutes <= MAX_HOLD_MINUTES:
        raise Refused(_("A hold lasts from 15 minutes to 24 hours."), "hold_minutes")
    if not 15 <= stale_after_minutes <= MAX_STALE_AFTER_MINUTES:
        raise Refused(_("Availability becomes stale after 15 minutes to 7 days."), "stale_after_minutes")
    if pending_referrals_per_agency is not None and not (
        1 <= pending_referrals_per_agency <= MAX_PENDING_REFERRALS_PER_AGENCY
    ):
        raise Refused(
            _("Allow from 1 to %(num)d waiting requests.", num=MAX_PENDING_REFERRALS_PER_AGENCY),
            "pending_referrals_per_agency",
        )
    row = db.session.get(NetworkSettings, agency_id)
    if row is None:
        row = NetworkSettings(agency_id=agency_id)
        db.session.add(row)
    if pending_referrals_per_agency is not None:
        row.pending_referrals_per_agency = pending_referrals_per_agency
    row.hold_minutes = hold_minutes
    row.stale_after_minutes = stale_after_minutes
    # The stale marker on the boards depends on it: their ETags must change.
    db.session.execute(
        update(Shelter)
        .where(Shelter.agency_id == agency_id)
        .values(board_version=Shelter.board_version + 1)
        .execution_options(synchronize_session=False)
    )
    record(actor, "network_settings.updated", "agency", agency_id, agency_id=agency_id)
    db.session.flush()


#: Words of shelter names that say what a place is, not which one it is.
_GENERIC_NAME_WORDS = frozenset(
    [
        "the",
        "of",
        "and",
        "for",
        "at",
        "in",
        "a",
        "an",
        "house",
        "home",
        "haven",
        "shelter",
        "shelters",
        "safe",
        "center",
        "centre",
        "residence",
        "residences",
        "family",
        "families",
        "women",
        "womens",
        "woman",
        "children",
        "kids",
        "youth",
        "place",
        "program",
        "project",
        "services",
        "service",
        "hope",
        "new",
        "transitional",
        "emergency",
        "housing",
        "apartments",
        "lodge",
        "refuge",
    ]
)
#: What a label or region may never hold, whatever shelter it belongs to.
_LOCATING = frozenset(
    {
        HitKind.PHONE,
        HitKind.STREET_ADDRESS,
        HitKind.PO_BOX,
        HitKind.RURAL_ROUTE,
        HitKind.COORDINATES,
        HitKind.GEO_LINK,
        HitKind.EMAIL,
        HitKind.KNOWN_PLACE,
    }
)


def _plain(value: str) -> str:
    """Case, punctuation, spacing and diacritics folded away: "Lakeview-Family-Résidence" → "lakeview family residence"."""
    return " ".join(_fold(normalize_for_lookup(value))[0].split())


def check_public_identity(name: str, address: str | None, public_label: str, region: str) -> None:
    """The network label and region must not repeat the real name or address.

    Compared in folded form (case, punctuation, spacing, diacritics).  Neither
    may contain the name or the address, nor be a piece of the name; neither
    may hold any street address, phone number or other locating detail (the
    handoff guard's finders), whatever shelter it belongs to.  The label may
    not share a distinctive word of the name ("Lakeview" of "Lakeview Family
    Residence").  The region may be the town the address ends with (that is
    what a coarse region is), but not a piece of its first line, the street.
    """
    full = [_plain(v) for v in (name, address or "") if v.strip()]
    street = _plain((address or "").split(",")[0])
    name_only = _plain(name)
    refused = Refused(
        _("The network label and region must not contain the shelter's name or address."), "public_label"
    )
    for shown, pieces_of in ((public_label, full), (region, [name_only, street])):
        text = _plain(shown)
        squeezed = text.replace(" ", "")
        if any(s in text or s.replace(" ", "") in squeezed for s in full) or any(
            p and text in p for p in pieces_of
        ):
            raise refused
    distinctive = {w for w in name_only.split() if len(w) > 2 and w not in _GENERIC_NAME_WORDS}
    if distinctive & set(_plain(public_label).split()):
        raise refused
    places = KnownPlaces.build([(name, None, address)])
    for field, shown in (("public_label", public_label), ("region", region)):
        if any(hit.kind in _LOCATING for hit in scan(shown, known_places=places)):
            raise Refused(
                _(
                    "A network label or region must not hold a street address, a phone number or any other way to find a place."
                ),
                field,
            )


def intake_line(raw: str | None, shared: bool) -> str | None:
    """The intake line as stored (E.164), or None; :class:`Refused` on the field.

    Any valid number will do (a toll-free hotline too): it is called, not texted.
    Sharing with the network needs a number to share.
    """
    if not (raw or "").strip():
        if shared:
            raise Refused(_("Enter the intake line to share it with the network."), INTAKE_PHONE)
        return None
    try:
        return parse_phone(raw or "").e164
    except Refused as refused:
        raise Refused(refused.message, INTAKE_PHONE) from None


def add_shelter(
    actor: Actor,
    agency_id: int,
    name: str,
    public_label: str,
    region: str,
    address: str | None = None,
    *,
    languages: Iterable[str] = ("en",),
    cultural_program: str | None = None,
    boys_age_limit: int | None = None,
    max_stay_days: int | None = None,
    intake_phone: str | None = None,
    intake_phone_shared: bool = False,
) -> Shelter:
    """A new shelter of one of the actor's agencies (as admin; the system, for its own)."""
    if agency_id not in actor.agency_ids(Role.ADMIN):
        raise Refused(_("Choose one of your agencies."), "agency")
    check_public_identity(name, address, public_label, region)
    phone = intake_line(intake_phone, intake_phone_shared)
    shelter = Shelter(
        intake_phone=phone,
        intake_phone_shared=intake_phone_shared,
        agency_id=agency_id,
        name=name,
        address=address,
        public_label=public_label,
        region=region,
        languages=" ".join(languages) or "en",
        cultural_program=cultural_program or None,
        boys_age_limit=boys_age_limit,
        max_stay_days=max_stay_days,
        board_version=0,
    )
    db.session.add(shelter)
    db.session.flush()
    record(actor, "shelter.created", "shelter", shelter.id, agency_id=agency_id)
    return shelter


def update_shelter(actor: Actor, shelter: Shelter, **values: Any) -> None:
    merged = {k: values.get(k, getattr(shelter, k)) for k in ("name", "address", "public_label", "region")}
    check_public_identity(**merged)
    if "intake_phone" in values or "intake_phone_shared" in values:
        shared = bool(values.get("intake_phone_shared", shelter.intake_phone_shared))
        values = {
            **values,
            "intake_phone": intake_line(values.get("intake_phone", shelter.intake_phone), shared),
            "intake_phone_shared": shared,
        }
    for key, value in values.items():
        if key == "languages":
            value = " ".join(value) or "en"
        setattr(shelter, key, value)
    shelter.board_version += 1
    record(actor, "shelter.updated", "shelter", shelter.id, agency_id=shelter.agency_id)
    db.session.flush()


def add_room(
    actor: Actor,
    shelter: Shelter,
    label: str,
    *,
    room_type: RoomType = RoomType.SINGLE,
    accessible: bool = False,
    pets_allowed: bool = False,
    beds: Sequence[tuple[str, BedType]] = (),
) -> Room:
    """A room and its beds; each new bed's first event says it became available."""
    room = Room(
        shelter_id=shelter.id,
        agency_id=shelter.agency_id,
        label=label,
        room_type=room_type,
        accessible=accessible,
        pets_allowed=pets_allowed,
    )
    db.session.add(room)
    db.session.flush()
    for bed_label, bed_type in beds:
        add_bed(actor, room, bed_label, bed_type)
    record(actor, "room.created", "room", room.id, agency_id=shelter.agency_id)
    return room


def add_bed(actor: Actor, room: Room, label: str, bed_type: BedType) -> Bed:
    now = clock.now()
    bed = Bed(
        room_id=room.id,
        shelter_id=room.shelter_id,
        agency_id=room.agency_id,
        label=label,
        bed_type=bed_type,
        state=BedState.AVAILABLE,
        state_changed_at=now,
    )
    db.session.add(bed)
    db.session.flush()
    record_events(room.shelter_id, room.agency_id, [bed.id], action="bed.added", actor=actor, now=now)
    touch(room.shelter_id, now, by_person=False)
    return bed


def bed_labels(room_label: str, counts: Sequence[tuple[BedType, int]]) -> list[tuple[str, BedType]]:
    """Labels for a new room's beds: "<room>-A", "<room>-B"..., adult beds first,
    then child beds, then cribs, so staff can find a bed by its letter."""
    types = [bed_type for bed_type, count in counts for _n in range(count)]
    if len(types) > MAX_BEDS_PER_ROOM:
        raise Refused(_("A room has at most 26 beds. Add another room for more."), "adult_beds")
    return [(f"{room_label}-{letter}", t) for letter, t in zip(string.ascii_uppercase, types, strict=False)]


def add_room_with_beds(
    actor: Actor,
    shelter: Shelter,
    label: str,
    *,
    room_type: RoomType,
    accessible: bool,
    pets_allowed: bool,
    adult_beds: int,
    child_beds: int,
    cribs: int,
) -> Room:
    """A room and its lettered beds, together, or :class:`Refused` (with the field) before anything is written."""
    label = " ".join(label.split())
    if not label or len(label) > MAX_ROOM_LABEL:
        raise Refused(_("Enter a room label of at most 36 characters."), "label")
    if adult_beds + child_beds + cribs < 1:
        raise Refused(_("A room needs at least one bed or crib."), "adult_beds")
    beds = bed_labels(
        label, [(BedType.ADULT, adult_beds), (BedType.CHILD, child_beds), (BedType.CRIB, cribs)]
    )
    taken = db.session.scalar(
        select(Room.id).where(Room.shelter_id == shelter.id, func.lower(Room.label) == label.lower())
    )
    if taken is not None:
        raise Refused(_("This shelter already has a room with this label. Choose another label."), "label")
    return add_room(
        actor,
        shelter,
        label,
        room_type=room_type,
        accessible=accessible,
        pets_allowed=pets_allowed,
        beds=beds,
    )


# --- the agency's own shelters ------------------------------------------------------------------


def own_shelters(actor: Actor) -> list[Shelter]:
    """The shelters whose beds the actor keeps."""
    return list(
        db.session.scalars(
            scoped(actor, select(Shelter), Shelter.agency_id, *STAFF_ROLES).order_by(Shelter.public_label)
        )
    )


def own_shelter(actor: Actor, shelter_id: int, *roles: Role) -> Shelter:
    """A shelter of the actor's agency (staff or admin by default); any other is NotFound."""
    return get_scoped(actor, Shelter, shelter_id, *(roles or STAFF_ROLES))


def board_shelter(actor: Actor, shelter_id: int) -> tuple[Shelter, int]:
    """:func:`own_shelter` for the staff board, with its agency's ``stale_after_minutes``
    (the default when the agency never saved its rules) in the same statement: the
    board shows which beds nobody confirmed lately, and every open board and poll asks."""
    row = db.session.execute(
        scoped(
            actor,
            select(Shelter, NetworkSettings.stale_after_minutes)
            .outerjoin(NetworkSettings, NetworkSettings.agency_id == Shelter.agency_id)
            .where(Shelter.id == shelter_id),
            Shelter.agency_id,
            *STAFF_ROLES,
        )
    ).first()
    if row is None:
        raise NotFound()
    return row[0], DEFAULT_STALE_AFTER_MINUTES if row[1] is None else row[1]


def view_shelter(actor: Actor, shelter_id: int) -> Shelter:
    shelter = own_shelter(actor, shelter_id)
    record(actor, "shelter.view", "shelter", shelter.id, agency_id=shelter.agency_id)
    return shelter
