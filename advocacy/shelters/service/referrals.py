"""Referrals: holds asked for from the network board, possibly by another agency,
and the rule that matches a household to the shelters that can take it.

A referral carries a random token and the household's numbers (see
:class:`Household`) and nothing else: no name, birth date, phone or address
crosses agencies.  The referring agency learns the shelter's label and the
referral's status; the shelter's staff learn the token and the numbers.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from advocacy import clock
from advocacy.access import scoped
from advocacy.actor import Actor
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db
from advocacy.shelters import machines
from advocacy.shelters.models import (
    Bed,
    BedState,
    BedType,
    DeclineReason,
    Hold,
    HoldStatus,
    NetworkSettings,
    Referral,
    ReferralStatus,
    Room,
    RoomType,
    Shelter,
)
from advocacy.shelters.service.beds import release_beds
from advocacy.shelters.service.boards import NetworkFilters, NetworkRow, network_board
from advocacy.shelters.service.core import (
    DEFAULT_PENDING_REFERRALS_PER_AGENCY,
    MAX_BEDS_PER_REQUEST,
    NETWORK_ROLES,
    changing,
    expire_holds,
    hold_expiry,
    lock_beds,
    referral_ended,
)

# Referral tokens are read aloud and typed: no 0/O, 1/I/L, U.
TOKEN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # noqa: S105 (not a secret)
#: How often a request chooses beds again when others take them first.
ATTEMPTS = 3


@dataclass(frozen=True)
class Household:
    """Who needs beds, as far as it may cross agencies: numbers and ages only."""

    adults: int = 1
    children_ages: tuple[int, ...] = ()
    oldest_boy_age: int | None = None
    pets: int = 0
    needs_accessible: bool = False
    language: str | None = None

    def beds_needed(self) -> dict[BedType, int]:
        """Adults need adult beds, children under 2 a crib, older children a child bed
        (an adult bed will do when no child bed is free)."""
        infants = sum(1 for age in self.children_ages if age < 2)
        return {
            BedType.ADULT: self.adults,
            BedType.CHILD: len(self.children_ages) - infants,
            BedType.CRIB: infants,
        }

    @property
    def size(self) -> int:
        return self.adults + len(self.children_ages)


# --- matching a household to the network ---------------------------------------------------------


def household_filters(household: Household, *, shelter_id: int | None = None) -> NetworkFilters:
    """The network board's filters for a household, as a referral would place it."""
    return NetworkFilters(
        beds_needed=household.size,
        accessible=household.needs_accessible,
        pets=household.pets > 0,
        family_room=household.size > 1,
        boy_age=household.oldest_boy_age,
        shelter_id=shelter_id,
    )


def fitting_shelters(household: Household, cultural_program: str | None) -> list[NetworkRow]:
    """Shelters of the network with open beds for the household; the program asked for first,
    then shelters whose staff speak the person's language."""
    rows = network_board(household_filters(household))
    primary = (household.language or "").split("-")[0]

    def rank(row: NetworkRow) -> tuple[int, int, int]:
        return (
            0 if cultural_program and row.cultural_program == cultural_program else 1,
            0 if primary and primary in row.languages else 1,
            1 if row.stale else 0,
        )

    return sorted(rows, key=rank)


# --- asking for a hold ---------------------------------------------------------------------------


def new_token() -> str:
    raw = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def pick_beds(shelter: Shelter, household: Household) -> list[int] | None:
    """Available beds for the household, in one room when one room fits it all."""
    rows = db.session.execute(
        select(Bed.id, Bed.room_id, Bed.bed_type, Room.room_type)
        .join(Room, Room.id == Bed.room_id)
        .where(Bed.shelter_id == shelter.id, Bed.state == BedState.AVAILABLE)
        .where(*([Room.accessible.is_(True)] if household.needs_accessible else []))
        .where(*([Room.pets_allowed.is_(True)] if household.pets else []))
        .order_by(Room.label, Bed.label, Bed.id)
    ).all()
    needed = household.beds_needed()
    family = household.size > 1

    def choose(candidates: list[Any]) -> list[int] | None:
        free: dict[str, list[int]] = defaultdict(list)
        for row in candidates:
            free[row.bed_type].append(row.id)
        picked: list[int] = []
        for bed_type in (BedType.ADULT, BedType.CRIB, BedType.CHILD):
            want = needed[bed_type]
            got = free[bed_type.value][:want]
            del free[bed_type.value][:want]
            if bed_type is BedType.CHILD and len(got) < want:
                extra = free[BedType.ADULT.value][: want - len(got)]
                got += extra
            if len(got) < want:
                return None
            picked += got
        return picked

    by_room: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_room[row.room_id].append(row)
    # A family stays together in a family room when one has room for all of them;
    # one person takes a single room first, keeping family rooms for families.
    rooms = sorted(
        by_room.values(),
        key=lambda r: ((r[0].room_type == RoomType.FAMILY.value) != family, r[0].room_id),
    )
    for room_rows in rooms:
        if family and room_rows[0].room_type != RoomType.FAMILY.value:
            continue
        if (picked := choose(room_rows)) is not None:
            return picked
    if family:
        return None
    return choose(list(rows))


class _Taken(Exception):
    """Another request took a chosen bed first: choose again (inside the retry loop)."""


def check_referral_limits(actor: Actor, shelter: Shelter, from_agency_id: int) -> None:
    """Refuse a request past the flooding limits: pending ones per referring agency at this
    shelter (the shelter's agency sets it), and requests per advocate in the last hour."""
    limit = db.session.scalar(
        select(NetworkSettings.pending_referrals_per_agency).where(
            NetworkSettings.agency_id == shelter.agency_id
        )
    )
    if limit is None:
        limit = DEFAULT_PENDING_REFERRALS_PER_AGENCY
    pending = db.session.scalar(
        select(func.count(Referral.id)).where(
            Referral.shelter_id == shelter.id,
            Referral.from_agency_id == from_agency_id,
            Referral.status == ReferralStatus.PENDING,
        )
    )
    if (pending or 0) >= limit:
        raise Refused(
            ngettext(
                "Your agency already has %(num)d request waiting at this shelter. Wait for its answer, or cancel it, before you send another.",
                "Your agency already has %(num)d requests waiting at this shelter. Wait for their answers, or cancel one, before you send another.",
                pending or 0,
            )
        )
    if actor.user_id is None:
        return
    recent = db.session.scalar(
        select(func.count(Referral.id)).where(
            Referral.referred_by_id == actor.user_id,
            Referral.created_at > clock.now() - timedelta(hours=1),
        )
    )
    hourly = current_app.config["SETTINGS"].referrals_per_advocate_hour
    if (recent or 0) >= hourly:
        raise Refused(
            ngettext(
                "You have sent %(num)d request in the last hour, the most one person may send. Ask a colleague or try again later.",
                "You have sent %(num)d requests in the last hour, the most one person may send. Ask a colleague or try again later.",
                hourly,
            )
        )


def request_referral(
    actor: Actor,
    shelter_id: int,
    household: Household,
    *,
    from_agency_id: int,
    priority: bool = False,
) -> Referral:
    """Hold beds that fit the household at a shelter anywhere in the network.

    The beds are chosen here, not by the advocate (who never sees rooms or
    beds of another agency).  When another request takes the beds first, the
    attempt is undone alone (a savepoint) and the choice is made again; when
    nothing fits any more, :class:`Refused` says so.  The caller may write its
    own rows (the case's placement) in the same transaction.
    """
    shelter = db.session.scalar(select(Shelter).where(Shelter.id == shelter_id, Shelter.active.is_(True)))
    if shelter is None:
        raise NotFound()
    if household.adults < 1 or household.size > MAX_BEDS_PER_REQUEST:
        raise Refused(
            ngettext(
                "A request is for at least one adult and at most %(num)d person.",
                "A request is for at least one adult and at most %(num)d people.",
                MAX_BEDS_PER_REQUEST,
            )
        )
    check_referral_limits(actor, shelter, from_agency_id)
    for _attempt in range(ATTEMPTS):
        expire_holds(shelter_ids=[shelter.id])
        if (
            household.oldest_boy_age is not None
            and shelter.boys_age_limit is not None
            and household.oldest_boy_age > shelter.boys_age_limit
        ):
            raise Refused(_("This shelter cannot take boys of that age. Look for another shelter."))
        picked = pick_beds(shelter, household)
        if picked is None:
            raise Refused(
                _(
                    "This shelter no longer has open beds that fit this household. The board shows what is open now."
                )
            )
        try:
            with changing(actor, shelter, by_person=False, expire=False) as change:
                hold = Hold(
                    shelter_id=shelter.id,
                    agency_id=shelter.agency_id,
                    placed_by_id=actor.user_id,
                    status=HoldStatus.ACTIVE,
                    created_at=change.now,
                    expires_at=hold_expiry(shelter.agency_id, change.now),
                )
                db.session.add(hold)
                db.session.flush()
                lock_beds(picked)
                if not change.move(picked, "hold.placed", hold_id=hold.id, refused=None):
                    raise _Taken()
                referral = Referral(
                    token=new_token(),
                    shelter_id=shelter.id,
                    agency_id=shelter.agency_id,
                    from_agency_id=from_agency_id,
                    referred_by_id=actor.user_id,
                    hold_id=hold.id,
                    adults=household.adults,
                    children_ages=" ".join(str(a) for a in household.children_ages),
                    oldest_boy_age=household.oldest_boy_age,
                    pets=household.pets,
                    needs_accessible=household.needs_accessible,
                    language=household.language,
                    priority=priority,
                    status=machines.REFERRAL["create"].target,
                    created_at=change.now,
                )
                db.session.add(referral)
                db.session.flush()
                change.audit("referral.created", "referral", referral.id, agency_id=from_agency_id)
                referral_id = referral.id
        except _Taken:
            continue
        found = db.session.get(Referral, referral_id)
        assert found is not None
        return found
    raise Refused(_("Others are taking beds at this shelter right now. Try again in a moment."))


# --- the shelter answers ----------------------------------------------------------------------


def _referral_for_shelter(shelter: Shelter, referral_id: int) -> Referral:
    referral = db.session.scalar(
        select(Referral).where(Referral.id == referral_id, Referral.shelter_id == shelter.id)
    )
    if referral is None:
        raise NotFound()
    return referral


def accept_referral(actor: Actor, shelter: Shelter, referral_id: int) -> Referral:
    expire_holds(shelter_ids=[shelter.id])
    referral = _referral_for_shelter(shelter, referral_id)
    transition = machines.REFERRAL["accept"]
    with changing(actor, shelter, expire=False) as change:
        changed = db.session.execute(
            update(Referral)
            .where(Referral.id == referral.id, Referral.status.in_(transition.source_values))
            .values(status=transition.target, decided_at=change.now, decided_by_id=actor.user_id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            raise Refused(referral_ended(referral.id))
        change.audit("referral.accepted", "referral", referral.id)
    return _referral_for_shelter(shelter, referral_id)


def decline_referral(actor: Actor, shelter: Shelter, referral_id: int, reason: DeclineReason) -> None:
    expire_holds(shelter_ids=[shelter.id])
    referral = _referral_for_shelter(shelter, referral_id)
    status = ReferralStatus(referral.status)
    if status is ReferralStatus.ACCEPTED:
        raise Refused(
            _(
                "Referral %(token)s is already accepted, so it can no longer be declined. If the household "
                "cannot come after all, call the referring agency; releasing the hold frees the beds.",
                token=referral.token,
            )
        )
    if not machines.REFERRAL.allows("decline", status):
        raise Refused(referral_ended(referral.id))
    with changing(actor, shelter, expire=False) as change:
        release_beds(
            change,
            referral.hold,
            action="referral.declined",
            referral_action="decline",
            decline_reason=reason.value,
            decided_by_id=actor.user_id,
        )
        change.audit("referral.declined", "referral", referral.id)


# --- the referring agency -----------------------------------------------------------------------


def own_referral(actor: Actor, referral_id: int) -> Referral:
    """A referral the actor's agency made (not one it received)."""
    referral = db.session.scalar(
        scoped(
            actor, select(Referral).where(Referral.id == referral_id), Referral.from_agency_id, *NETWORK_ROLES
        )
    )
    if referral is None:
        raise NotFound()
    return referral


def cancel_referral(actor: Actor, referral_id: int) -> None:
    """The referring advocate no longer needs the beds: they are freed at once."""
    referral = own_referral(actor, referral_id)
    shelter = db.session.get(Shelter, referral.shelter_id)
    assert shelter is not None
    expire_holds(shelter_ids=[shelter.id])
    if not machines.REFERRAL.allows("cancel", ReferralStatus(referral.status)):
        raise Refused(referral_ended(referral.id))
    with changing(actor, shelter, expire=False) as change:
        release_beds(change, referral.hold, action="referral.cancelled", referral_action="cancel")
        change.audit("referral.cancelled", "referral", referral.id, agency_id=referral.from_agency_id)


def agency_referrals(actor: Actor, limit: int = 50) -> list[Referral]:
    """Referrals the actor's agencies made, newest first (shelter label only)."""
    expire_holds()
    return list(
        db.session.scalars(
            scoped(actor, select(Referral), Referral.from_agency_id, *NETWORK_ROLES)
            # The referring agency sees a label and a region: the shelter's
            # encrypted name and address are not even loaded (and decrypted).
            .options(
                joinedload(Referral.shelter).load_only(Shelter.id, Shelter.public_label, Shelter.region),
                joinedload(Referral.hold),
            )
            .order_by(Referral.created_at.desc())
            .limit(limit)
        )
    )
