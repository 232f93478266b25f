"""Bed availability: every change of a bed's state, and the boards that read them.

Rules kept here and nowhere else:

* A bed's state changes only through the functions below.  Each transition is
  a conditional ``UPDATE bed ... WHERE state = <expected>`` and checks how many
  rows it changed: when two people take the last bed at the same moment, one
  update finds the bed already taken, its whole transaction is rolled back and
  the person gets :class:`Refused` with a translated message.  This holds on
  PostgreSQL (the second update waits for the first row lock, then re-checks
  its condition) and on SQLite (one writer at a time).
* Each transition is its own transaction: the functions commit on success and
  roll back (changing nothing) on refusal.
* Every bed state change writes an :class:`AvailabilityEvent` (who, when,
  from, to) in the same transaction, and bumps the shelter's
  ``board_version`` last, so the boards' ETags change exactly when a board does.
  Locks are taken in one order (hold, beds by id, shelter), so two transitions
  never wait for each other in a circle.
* Holds expire by themselves: :func:`expire_holds` runs before every board is
  read and every transition, and from ``flask shelters expire-holds`` (cron),
  so nobody ever sees, or is refused by, a hold past its time.

Access: views fetch the shelter through :func:`own_shelter_or_404` (the
agency scope); functions given a shelter only touch beds, holds and stays of
that shelter, and answer ids of anything else with 404.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from advocacy.access import get_scoped_or_404, scoped
from advocacy.audit.service import record
from advocacy.auth.models import Role
from advocacy.extensions import db, is_postgresql
from advocacy.shelters.models import (
    AvailabilityEvent,
    Bed,
    BedState,
    BedType,
    DeclineReason,
    Hold,
    HoldStatus,
    NetworkSettings,
    OutOfServiceReason,
    Referral,
    ReferralStatus,
    Room,
    RoomType,
    Shelter,
    Stay,
)
from advocacy.types import normalize_for_lookup, utcnow

#: Who keeps a shelter's beds: staff and admins of the shelter's agency.
STAFF_ROLES = (Role.SHELTER_STAFF, Role.ADMIN)
#: Who sees the network board and may ask for a hold anywhere in the network.
NETWORK_ROLES = (Role.ADVOCATE, Role.SHELTER_STAFF, Role.ADMIN)
#: Who sets the agency's network rules and adds shelters, rooms and beds.
MANAGER_ROLES = (Role.ADMIN,)

DEFAULT_HOLD_MINUTES = 120
DEFAULT_STALE_AFTER_MINUTES = 360
MAX_HOLD_MINUTES = 24 * 60
MAX_BEDS_PER_REQUEST = 12
# Referral tokens are read aloud and typed: no 0/O, 1/I/L, U.
TOKEN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # noqa: S105 (not a secret)


class Refused(Exception):
    """A transition that was not made; ``message`` is translated for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- settings and shelters ------------------------------------------------------------


def network_settings(agency_id: int) -> NetworkSettings:
    """The agency's rules, or the defaults (unsaved) when it never set any."""
    row = db.session.get(NetworkSettings, agency_id)
    return row or NetworkSettings(
        agency_id=agency_id,
        hold_minutes=DEFAULT_HOLD_MINUTES,
        stale_after_minutes=DEFAULT_STALE_AFTER_MINUTES,
    )


def update_network_settings(agency_id: int, *, hold_minutes: int, stale_after_minutes: int) -> None:
    if not 15 <= hold_minutes <= MAX_HOLD_MINUTES:
        raise Refused(_("A hold lasts from 15 minutes to 24 hours."))
    if not 15 <= stale_after_minutes <= 7 * 24 * 60:
        raise Refused(_("Availability becomes stale after 15 minutes to 7 days."))
    row = db.session.get(NetworkSettings, agency_id)
    if row is None:
        row = NetworkSettings(agency_id=agency_id)
        db.session.add(row)
    row.hold_minutes = hold_minutes
    row.stale_after_minutes = stale_after_minutes
    # The stale marker on the boards depends on it: their ETags must change.
    db.session.execute(
        update(Shelter)
        .where(Shelter.agency_id == agency_id)
        .values(board_version=Shelter.board_version + 1)
        .execution_options(synchronize_session=False)
    )
    record("network_settings.updated", "agency", agency_id, agency_id=agency_id)
    db.session.commit()


def check_public_identity(name: str, address: str | None, public_label: str, region: str) -> None:
    """The network label and region must not repeat the real name or address.

    Neither may contain the name or the address, nor be a piece of the name.
    The label may not be a piece of the address either; the region may be the
    town the address ends with (that is what a coarse region is), but not a
    piece of its first line, the street.
    """
    full = [normalize_for_lookup(v) for v in (name, address or "") if v.strip()]
    street = normalize_for_lookup((address or "").split(",")[0])
    name_only = normalize_for_lookup(name)
    for shown, pieces_of in ((public_label, full), (region, [name_only, street])):
        text = normalize_for_lookup(shown)
        if any(s in text for s in full) or any(p and text in p for p in pieces_of):
            raise Refused(_("The network label and region must not contain the shelter's name or address."))


def add_shelter(
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
) -> Shelter:
    check_public_identity(name, address, public_label, region)
    shelter = Shelter(
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
    record("shelter.created", "shelter", shelter.id, agency_id=agency_id)
    return shelter


def update_shelter(shelter: Shelter, **values: Any) -> None:
    merged = {k: values.get(k, getattr(shelter, k)) for k in ("name", "address", "public_label", "region")}
    check_public_identity(**merged)
    for key, value in values.items():
        if key == "languages":
            value = " ".join(value) or "en"
        setattr(shelter, key, value)
    shelter.board_version += 1
    record("shelter.updated", "shelter", shelter.id, agency_id=shelter.agency_id)
    db.session.commit()


def add_room(
    shelter: Shelter,
    label: str,
    *,
    room_type: RoomType = RoomType.SINGLE,
    accessible: bool = False,
    pets_allowed: bool = False,
    beds: Sequence[tuple[str, BedType]] = (),
    actor_id: int | None = None,
) -> Room:
    """A room and its beds; each new bed's first event says it became available."""
    room = Room(
        shelter_id=shelter.id,
        agency_id=shelter.agency_id,
        label=label,
        room_type=room_type.value,
        accessible=accessible,
        pets_allowed=pets_allowed,
    )
    db.session.add(room)
    db.session.flush()
    for bed_label, bed_type in beds:
        add_bed(room, bed_label, bed_type, actor_id=actor_id)
    record("room.created", "room", room.id, agency_id=shelter.agency_id, actor_id=actor_id)
    return room


def add_bed(room: Room, label: str, bed_type: BedType, *, actor_id: int | None = None) -> Bed:
    now = utcnow()
    bed = Bed(
        room_id=room.id,
        shelter_id=room.shelter_id,
        agency_id=room.agency_id,
        label=label,
        bed_type=bed_type.value,
        state=BedState.AVAILABLE.value,
        state_changed_at=now,
    )
    db.session.add(bed)
    db.session.flush()
    _record_events(
        room.shelter_id,
        room.agency_id,
        [bed.id],
        action="bed.added",
        from_state=None,
        to_state=BedState.AVAILABLE,
        actor_id=actor_id,
        now=now,
    )
    _touch(room.shelter_id, now, by_person=False)
    return bed


def own_shelters() -> list[Shelter]:
    """The shelters whose beds the current user keeps."""
    return list(
        db.session.scalars(
            scoped(select(Shelter), Shelter.agency_id, *STAFF_ROLES).order_by(Shelter.public_label)
        )
    )


def own_shelter_or_404(shelter_id: int, *roles: Role) -> Shelter:
    return get_scoped_or_404(Shelter, shelter_id, *(roles or STAFF_ROLES))


def view_shelter(shelter_id: int) -> Shelter:
    shelter = own_shelter_or_404(shelter_id)
    record("shelter.view", "shelter", shelter.id, agency_id=shelter.agency_id)
    db.session.commit()
    return shelter


# --- the core of every transition ------------------------------------------------------


def _lock_beds(bed_ids: Iterable[int]) -> None:
    """On PostgreSQL, lock the beds in id order first, so that two transitions
    over overlapping beds queue instead of deadlocking."""
    if is_postgresql():
        db.session.execute(
            select(Bed.id).where(Bed.id.in_(sorted(bed_ids))).order_by(Bed.id).with_for_update()
        )


def _move(
    shelter: Shelter,
    bed_ids: Sequence[int],
    *,
    from_state: BedState,
    to_state: BedState,
    action: str,
    actor_id: int | None,
    now: datetime,
    hold_id: int | None = None,
    stay_id: int | None = None,
    only_hold_id: int | None = None,
    only_stay_id: int | None = None,
    reason: str | None = None,
) -> bool:
    """Move every bed in ``bed_ids`` from ``from_state`` to ``to_state``, or none.

    Returns False (after changing nothing the caller must keep) when any bed is
    no longer in ``from_state`` (or, with ``only_hold_id``, no longer held by
    that hold).  The caller rolls back.
    """
    if not bed_ids:
        return True
    stmt = (
        update(Bed)
        .where(Bed.id.in_(bed_ids), Bed.shelter_id == shelter.id, Bed.state == from_state.value)
        .values(
            state=to_state.value,
            hold_id=hold_id,
            stay_id=stay_id,
            out_of_service_reason=reason if to_state is BedState.OUT_OF_SERVICE else None,
            state_changed_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if only_hold_id is not None:
        stmt = stmt.where(Bed.hold_id == only_hold_id)
    if only_stay_id is not None:
        stmt = stmt.where(Bed.stay_id == only_stay_id)
    changed = db.session.execute(stmt).rowcount
    if changed != len(set(bed_ids)):
        return False
    _record_events(
        shelter.id,
        shelter.agency_id,
        bed_ids,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor_id,
        now=now,
        hold_id=hold_id if hold_id is not None else only_hold_id,
        stay_id=stay_id if stay_id is not None else only_stay_id,
        reason=reason,
    )
    return True


def _record_events(
    shelter_id: int,
    agency_id: int,
    bed_ids: Iterable[int],
    *,
    action: str,
    from_state: BedState | None,
    to_state: BedState,
    actor_id: int | None,
    now: datetime,
    hold_id: int | None = None,
    stay_id: int | None = None,
    reason: str | None = None,
) -> None:
    """One availability event per bed: the only place that writes them."""
    db.session.add_all(
        AvailabilityEvent(
            occurred_at=now,
            shelter_id=shelter_id,
            agency_id=agency_id,
            bed_id=bed_id,
            actor_id=actor_id,
            action=action,
            from_state=from_state.value if from_state is not None else None,
            to_state=to_state.value,
            hold_id=hold_id,
            stay_id=stay_id,
            reason=reason,
        )
        for bed_id in sorted(set(bed_ids))
    )


def _touch(shelter_id: int, now: datetime, *, by_person: bool = True) -> None:
    """Bump the board's version (last, after the beds: the lock order)."""
    values: dict[str, Any] = {"board_version": Shelter.board_version + 1}
    if by_person:
        values["availability_updated_at"] = now
    db.session.execute(
        update(Shelter)
        .where(Shelter.id == shelter_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _refuse(message: str) -> Refused:
    db.session.rollback()
    return Refused(message)


def _beds_of(shelter: Shelter, bed_ids: Iterable[int]) -> list[Bed]:
    """The beds named, all of this shelter, or 404 (another shelter's or agency's bed)."""
    wanted = sorted({int(b) for b in bed_ids})
    if not wanted:
        raise Refused(_("Choose at least one bed."))
    if len(wanted) > MAX_BEDS_PER_REQUEST * 4:
        raise Refused(_("Choose fewer beds at a time."))
    beds = list(db.session.scalars(select(Bed).where(Bed.id.in_(wanted), Bed.shelter_id == shelter.id)))
    if len(beds) != len(wanted):
        raise NotFound()
    return beds


def _hold_of(shelter: Shelter, hold_id: int) -> Hold:
    hold = db.session.scalar(select(Hold).where(Hold.id == hold_id, Hold.shelter_id == shelter.id))
    if hold is None:
        raise NotFound()
    return hold


def _held_beds(hold_id: int) -> list[int]:
    return list(db.session.scalars(select(Bed.id).where(Bed.hold_id == hold_id).order_by(Bed.id)))


def _end_hold(hold: Hold, status: HoldStatus, now: datetime) -> bool:
    """Close an active hold; False when someone else closed it first.

    An expiry closes the hold only if it is still due when the row is locked:
    a hold extended by staff between the due-query and this update stays
    (PostgreSQL re-checks the condition on the row the extension committed).
    It ends at its own ``expires_at``, the moment its beds became free.
    """
    stmt = update(Hold).where(Hold.id == hold.id, Hold.status == HoldStatus.ACTIVE.value)
    if status is HoldStatus.EXPIRED:
        stmt = stmt.where(Hold.expires_at <= now).values(status=status.value, ended_at=Hold.expires_at)
    else:
        stmt = stmt.values(status=status.value, ended_at=now)
    changed = db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount
    return changed == 1


def _set_referral(hold_id: int, status: ReferralStatus, now: datetime, **values: Any) -> None:
    db.session.execute(
        update(Referral)
        .where(
            Referral.hold_id == hold_id,
            Referral.status.in_([ReferralStatus.PENDING.value, ReferralStatus.ACCEPTED.value]),
        )
        .values(status=status.value, decided_at=now, **values)
        .execution_options(synchronize_session=False)
    )


def _finish() -> None:
    """Commit a transition and forget cached objects so the next read is fresh."""
    db.session.commit()
    db.session.expire_all()


# --- holds expire by themselves ---------------------------------------------------------


def expire_holds(now: datetime | None = None, shelter_ids: Iterable[int] | None = None) -> int:
    """Free the beds of every hold past its time; returns how many holds ended.

    Cheap when nothing is due (one indexed query).  Safe to run from any number
    of processes at once: a hold is ended by whoever closes it first, and its
    events carry the hold's own expiry time, so history says when the bed
    really became free.
    """
    now = now or utcnow()
    stmt = select(Hold).where(Hold.status == HoldStatus.ACTIVE.value, Hold.expires_at <= now)
    if shelter_ids is not None:
        stmt = stmt.where(Hold.shelter_id.in_(list(shelter_ids)))
    due = list(db.session.scalars(stmt.order_by(Hold.id).limit(200)))
    ended = 0
    for hold in due:
        shelter = db.session.get(Shelter, hold.shelter_id)
        assert shelter is not None
        if not _end_hold(hold, HoldStatus.EXPIRED, now):
            db.session.rollback()
            continue
        # The expiry time as the locked row has it now, not as this session
        # may have cached it (an extension may have committed meanwhile).
        expired_at = db.session.scalar(select(Hold.expires_at).where(Hold.id == hold.id))
        assert expired_at is not None
        beds = _held_beds(hold.id)
        _lock_beds(beds)
        _move(
            shelter,
            beds,
            from_state=BedState.HELD,
            to_state=BedState.AVAILABLE,
            action="hold.expired",
            actor_id=None,
            now=expired_at,
            only_hold_id=hold.id,
        )
        _set_referral(hold.id, ReferralStatus.EXPIRED, now)
        _touch(shelter.id, now, by_person=False)
        db.session.commit()
        ended += 1
    if ended:
        db.session.expire_all()
    return ended


# --- holds placed by staff --------------------------------------------------------------


def hold_expiry(agency_id: int, now: datetime, minutes: int | None = None) -> datetime:
    return now + timedelta(minutes=minutes or network_settings(agency_id).hold_minutes)


def place_hold(
    shelter: Shelter,
    bed_ids: Iterable[int],
    *,
    actor_id: int | None,
    note: str | None = None,
    minutes: int | None = None,
) -> Hold:
    """Hold the named available beds for a household on its way.

    ``minutes`` (else the agency's hold length) is bounded like the agency's
    setting: a hold of no time or of negative time would be over before it began.
    """
    if minutes is not None and not 15 <= minutes <= MAX_HOLD_MINUTES:
        raise Refused(_("A hold lasts from 15 minutes to 24 hours."))
    beds = _beds_of(shelter, bed_ids)
    expire_holds(shelter_ids=[shelter.id])
    now = utcnow()
    hold = Hold(
        shelter_id=shelter.id,
        agency_id=shelter.agency_id,
        placed_by_id=actor_id,
        status=HoldStatus.ACTIVE.value,
        note=note or None,
        created_at=now,
        expires_at=hold_expiry(shelter.agency_id, now, minutes),
    )
    db.session.add(hold)
    db.session.flush()
    ids = [b.id for b in beds]
    _lock_beds(ids)
    if not _move(
        shelter,
        ids,
        from_state=BedState.AVAILABLE,
        to_state=BedState.HELD,
        action="hold.placed",
        actor_id=actor_id,
        now=now,
        hold_id=hold.id,
    ):
        raise _refuse(
            _("Someone else just took one of these beds. Nothing was held; the board shows it now.")
        )
    _touch(shelter.id, now)
    record("hold.placed", "hold", hold.id, agency_id=shelter.agency_id, actor_id=actor_id)
    hold_id = hold.id
    _finish()
    return db.session.get(Hold, hold_id)  # type: ignore[return-value]


def extend_hold(shelter: Shelter, hold_id: int, *, actor_id: int | None) -> Hold:
    """Restart the hold's time from now, for the agency's full hold length."""
    expire_holds(shelter_ids=[shelter.id])
    hold = _hold_of(shelter, hold_id)
    now = utcnow()
    changed = db.session.execute(
        update(Hold)
        .where(Hold.id == hold.id, Hold.status == HoldStatus.ACTIVE.value)
        .values(expires_at=hold_expiry(shelter.agency_id, now))
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise _refuse(_("This hold has already ended, so it cannot be extended."))
    _record_events(
        shelter.id,
        shelter.agency_id,
        _held_beds(hold.id),
        action="hold.extended",
        from_state=BedState.HELD,
        to_state=BedState.HELD,
        actor_id=actor_id,
        now=now,
        hold_id=hold.id,
    )
    _touch(shelter.id, now)
    record("hold.extended", "hold", hold.id, agency_id=shelter.agency_id, actor_id=actor_id)
    _finish()
    return _hold_of(shelter, hold_id)


def _release(
    shelter: Shelter,
    hold: Hold,
    *,
    actor_id: int | None,
    action: str,
    referral_status: ReferralStatus,
    now: datetime,
    **referral_values: Any,
) -> None:
    if not _end_hold(hold, HoldStatus.RELEASED, now):
        raise _refuse(_("This hold has already ended: it was used, released or expired."))
    beds = _held_beds(hold.id)
    _lock_beds(beds)
    _move(
        shelter,
        beds,
        from_state=BedState.HELD,
        to_state=BedState.AVAILABLE,
        action=action,
        actor_id=actor_id,
        now=now,
        only_hold_id=hold.id,
    )
    _set_referral(hold.id, referral_status, now, **referral_values)
    _touch(shelter.id, now)


def release_hold(shelter: Shelter, hold_id: int, *, actor_id: int | None) -> None:
    expire_holds(shelter_ids=[shelter.id])
    hold = _hold_of(shelter, hold_id)
    now = utcnow()
    _release(
        shelter,
        hold,
        actor_id=actor_id,
        action="hold.released",
        referral_status=ReferralStatus.CANCELLED,
        now=now,
        decided_by_id=actor_id,
    )
    record("hold.released", "hold", hold.id, agency_id=shelter.agency_id, actor_id=actor_id)
    _finish()


# --- check-in and check-out ----------------------------------------------------------------


def check_in(
    shelter: Shelter,
    bed_ids: Iterable[int] = (),
    *,
    actor_id: int | None,
    hold_id: int | None = None,
    adults: int = 1,
    children: int = 0,
    note: str | None = None,
) -> Stay:
    """Check a household into one or more beds.

    With ``hold_id``, the hold's beds are used (all of them unless ``bed_ids``
    names some; the others go back to available) and the hold ends.  Beds
    named that the hold does not cover must be available.  Two people checking
    in against the same hold at once: one succeeds, the other is refused.
    """
    if adults < 1 or children < 0 or adults + children > MAX_BEDS_PER_REQUEST * 2:
        raise Refused(_("Enter at least one adult, and numbers of people that fit a household."))
    expire_holds(shelter_ids=[shelter.id])
    now = utcnow()
    hold = _hold_of(shelter, hold_id) if hold_id is not None else None
    if hold is not None and hold.status != HoldStatus.ACTIVE.value:
        raise _refuse(_("This hold has already ended: it was used, released or expired."))
    held = _held_beds(hold.id) if hold is not None else []
    if hold is not None and not held:
        # Ended between the two reads (an expiry or a release committed meanwhile).
        raise _refuse(_("This hold has already ended: it was used, released or expired."))
    bed_ids = list(bed_ids)
    chosen = [b.id for b in _beds_of(shelter, bed_ids)] if bed_ids else list(held)
    if not chosen:
        raise Refused(_("Choose at least one bed."))
    from_hold = [b for b in chosen if b in held]
    from_available = [b for b in chosen if b not in held]
    let_go = [b for b in held if b not in chosen]

    stay = Stay(
        shelter_id=shelter.id,
        agency_id=shelter.agency_id,
        hold_id=hold.id if hold else None,
        adults=adults,
        children=children,
        note=note or None,
        checked_in_at=now,
        checked_in_by_id=actor_id,
    )
    if hold is not None and not _end_hold(hold, HoldStatus.CHECKED_IN, now):
        raise _refuse(_("Someone else just checked in or released this hold. Nothing was changed."))
    db.session.add(stay)
    db.session.flush()
    _lock_beds(chosen + let_go)
    moved = _move(
        shelter,
        from_hold,
        from_state=BedState.HELD,
        to_state=BedState.OCCUPIED,
        action="stay.checked_in",
        actor_id=actor_id,
        now=now,
        stay_id=stay.id,
        only_hold_id=hold.id if hold else None,
    ) and _move(
        shelter,
        from_available,
        from_state=BedState.AVAILABLE,
        to_state=BedState.OCCUPIED,
        action="stay.checked_in",
        actor_id=actor_id,
        now=now,
        stay_id=stay.id,
    )
    if not moved:
        raise _refuse(
            _("Someone else just took one of these beds. Nothing was changed; the board shows it now.")
        )
    if hold is not None:
        _move(
            shelter,
            let_go,
            from_state=BedState.HELD,
            to_state=BedState.AVAILABLE,
            action="hold.released",
            actor_id=actor_id,
            now=now,
            only_hold_id=hold.id,
        )
        _set_referral(hold.id, ReferralStatus.ARRIVED, now)
    _touch(shelter.id, now)
    record("stay.checked_in", "stay", stay.id, agency_id=shelter.agency_id, actor_id=actor_id)
    stay_id = stay.id
    _finish()
    return db.session.get(Stay, stay_id)  # type: ignore[return-value]


def check_out(shelter: Shelter, stay_id: int, *, actor_id: int | None) -> None:
    stay = db.session.scalar(select(Stay).where(Stay.id == stay_id, Stay.shelter_id == shelter.id))
    if stay is None:
        raise NotFound()
    now = utcnow()
    changed = db.session.execute(
        update(Stay)
        .where(Stay.id == stay.id, Stay.checked_out_at.is_(None))
        .values(checked_out_at=now, checked_out_by_id=actor_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise _refuse(_("This household has already been checked out."))
    beds = list(db.session.scalars(select(Bed.id).where(Bed.stay_id == stay.id)))
    _lock_beds(beds)
    if not _move(
        shelter,
        beds,
        from_state=BedState.OCCUPIED,
        to_state=BedState.AVAILABLE,
        action="stay.checked_out",
        actor_id=actor_id,
        now=now,
        only_stay_id=stay.id,
    ):
        raise _refuse(_("The beds changed while you were checking out. Nothing was changed."))
    _touch(shelter.id, now)
    record("stay.checked_out", "stay", stay.id, agency_id=shelter.agency_id, actor_id=actor_id)
    _finish()


def check_out_bed(shelter: Shelter, bed_id: int, *, actor_id: int | None) -> None:
    """Check out the household in this bed (all its beds): an empty bed is refused."""
    (bed,) = _beds_of(shelter, [bed_id])
    if bed.state != BedState.OCCUPIED.value or bed.stay_id is None:
        raise Refused(_("Nobody is checked in to this bed, so there is nothing to check out."))
    check_out(shelter, bed.stay_id, actor_id=actor_id)


# --- out of service ---------------------------------------------------------------------


def take_out_of_service(
    shelter: Shelter, bed_ids: Iterable[int], reason: OutOfServiceReason, *, actor_id: int | None
) -> None:
    ids = [b.id for b in _beds_of(shelter, bed_ids)]
    expire_holds(shelter_ids=[shelter.id])
    now = utcnow()
    _lock_beds(ids)
    if not _move(
        shelter,
        ids,
        from_state=BedState.AVAILABLE,
        to_state=BedState.OUT_OF_SERVICE,
        action="bed.out_of_service",
        actor_id=actor_id,
        now=now,
        reason=reason.value,
    ):
        raise _refuse(
            _("Only available beds can be taken out of service. Release the hold or check out first.")
        )
    _touch(shelter.id, now)
    record("bed.out_of_service", "shelter", shelter.id, agency_id=shelter.agency_id, actor_id=actor_id)
    _finish()


def return_to_service(shelter: Shelter, bed_ids: Iterable[int], *, actor_id: int | None) -> None:
    ids = [b.id for b in _beds_of(shelter, bed_ids)]
    now = utcnow()
    _lock_beds(ids)
    if not _move(
        shelter,
        ids,
        from_state=BedState.OUT_OF_SERVICE,
        to_state=BedState.AVAILABLE,
        action="bed.back_in_service",
        actor_id=actor_id,
        now=now,
    ):
        raise _refuse(_("Only beds that are out of service can be put back in service."))
    _touch(shelter.id, now)
    record("bed.back_in_service", "shelter", shelter.id, agency_id=shelter.agency_id, actor_id=actor_id)
    _finish()


def confirm_board(shelter: Shelter, *, actor_id: int | None) -> None:
    """Staff say the board is right as it stands: "updated" restarts without a change."""
    _touch(shelter.id, utcnow())
    record("shelter.board_confirmed", "shelter", shelter.id, agency_id=shelter.agency_id, actor_id=actor_id)
    _finish()


# --- referrals: holds asked for from the network board ----------------------------------------


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


def new_token() -> str:
    raw = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _pick_beds(shelter: Shelter, household: Household) -> list[int] | None:
    """Available beds for the household, in one room when one room fits it all."""
    rows = db.session.execute(
        select(Bed.id, Bed.room_id, Bed.bed_type, Room.room_type)
        .join(Room, Room.id == Bed.room_id)
        .where(Bed.shelter_id == shelter.id, Bed.state == BedState.AVAILABLE.value)
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


def request_referral(
    shelter_id: int,
    household: Household,
    *,
    actor_id: int,
    from_agency_id: int,
    priority: bool = False,
    before_commit: Callable[[Referral], None] | None = None,
) -> Referral:
    """Hold beds that fit the household at a shelter anywhere in the network.

    The beds are chosen here, not by the advocate (who never sees rooms or
    beds of another agency).  When another request takes the beds first, the
    choice is made again; when nothing fits any more, :class:`Refused` says so.

    ``before_commit`` lets the referring side add its own rows (the case's
    placement) in the same transaction; whatever it raises undoes the hold too.
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
    shelter_id = shelter.id
    for _attempt in range(3):
        expire_holds(shelter_ids=[shelter_id])
        shelter = db.session.get(Shelter, shelter_id)
        assert shelter is not None
        if (
            household.oldest_boy_age is not None
            and shelter.boys_age_limit is not None
            and household.oldest_boy_age > shelter.boys_age_limit
        ):
            raise Refused(_("This shelter cannot take boys of that age. Look for another shelter."))
        picked = _pick_beds(shelter, household)
        if picked is None:
            db.session.rollback()
            raise Refused(
                _(
                    "This shelter no longer has open beds that fit this household. The board shows what is open now."
                )
            )
        now = utcnow()
        hold = Hold(
            shelter_id=shelter.id,
            agency_id=shelter.agency_id,
            placed_by_id=actor_id,
            status=HoldStatus.ACTIVE.value,
            created_at=now,
            expires_at=hold_expiry(shelter.agency_id, now),
        )
        db.session.add(hold)
        db.session.flush()
        _lock_beds(picked)
        if not _move(
            shelter,
            picked,
            from_state=BedState.AVAILABLE,
            to_state=BedState.HELD,
            action="hold.placed",
            actor_id=actor_id,
            now=now,
            hold_id=hold.id,
        ):
            db.session.rollback()  # someone took a bed first: choose again
            continue
        referral = Referral(
            token=new_token(),
            shelter_id=shelter.id,
            agency_id=shelter.agency_id,
            from_agency_id=from_agency_id,
            referred_by_id=actor_id,
            hold_id=hold.id,
            adults=household.adults,
            children_ages=" ".join(str(a) for a in household.children_ages),
            oldest_boy_age=household.oldest_boy_age,
            pets=household.pets,
            needs_accessible=household.needs_accessible,
            language=household.language,
            priority=priority,
            status=ReferralStatus.PENDING.value,
            created_at=now,
        )
        db.session.add(referral)
        db.session.flush()
        _touch(shelter.id, now, by_person=False)
        record("referral.created", "referral", referral.id, agency_id=from_agency_id, actor_id=actor_id)
        referral_id = referral.id
        if before_commit is not None:
            try:
                before_commit(referral)
            except BaseException:
                db.session.rollback()
                raise
        _finish()
        return db.session.get(Referral, referral_id)  # type: ignore[return-value]
    raise Refused(_("Others are taking beds at this shelter right now. Try again in a moment."))


def _referral_for_shelter(shelter: Shelter, referral_id: int) -> Referral:
    referral = db.session.scalar(
        select(Referral).where(Referral.id == referral_id, Referral.shelter_id == shelter.id)
    )
    if referral is None:
        raise NotFound()
    return referral


def accept_referral(shelter: Shelter, referral_id: int, *, actor_id: int | None) -> Referral:
    expire_holds(shelter_ids=[shelter.id])
    referral = _referral_for_shelter(shelter, referral_id)
    now = utcnow()
    changed = db.session.execute(
        update(Referral)
        .where(Referral.id == referral.id, Referral.status == ReferralStatus.PENDING.value)
        .values(status=ReferralStatus.ACCEPTED.value, decided_at=now, decided_by_id=actor_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise _refuse(_("This referral was already answered, cancelled or expired."))
    _touch(shelter.id, now)
    record("referral.accepted", "referral", referral.id, agency_id=shelter.agency_id, actor_id=actor_id)
    _finish()
    return _referral_for_shelter(shelter, referral_id)


def decline_referral(
    shelter: Shelter, referral_id: int, reason: DeclineReason, *, actor_id: int | None
) -> None:
    expire_holds(shelter_ids=[shelter.id])
    referral = _referral_for_shelter(shelter, referral_id)
    if referral.status not in (ReferralStatus.PENDING.value, ReferralStatus.ACCEPTED.value):
        raise Refused(_("This referral was already answered, cancelled or expired."))
    now = utcnow()
    _release(
        shelter,
        referral.hold,
        actor_id=actor_id,
        action="referral.declined",
        referral_status=ReferralStatus.DECLINED,
        now=now,
        decline_reason=reason.value,
        decided_by_id=actor_id,
    )
    record("referral.declined", "referral", referral.id, agency_id=shelter.agency_id, actor_id=actor_id)
    _finish()


def own_referral_or_404(referral_id: int) -> Referral:
    """A referral the current user's agency made (not one it received)."""
    referral = db.session.scalar(
        scoped(select(Referral).where(Referral.id == referral_id), Referral.from_agency_id, *NETWORK_ROLES)
    )
    if referral is None:
        raise NotFound()
    return referral


def cancel_referral(referral_id: int, *, actor_id: int | None) -> None:
    """The referring advocate no longer needs the beds: they are freed at once."""
    referral = own_referral_or_404(referral_id)
    shelter = db.session.get(Shelter, referral.shelter_id)
    assert shelter is not None
    expire_holds(shelter_ids=[shelter.id])
    if referral.status not in (ReferralStatus.PENDING.value, ReferralStatus.ACCEPTED.value):
        raise Refused(_("This referral has already ended."))
    now = utcnow()
    _release(
        shelter,
        referral.hold,
        actor_id=actor_id,
        action="referral.cancelled",
        referral_status=ReferralStatus.CANCELLED,
        now=now,
    )
    record(
        "referral.cancelled", "referral", referral.id, agency_id=referral.from_agency_id, actor_id=actor_id
    )
    _finish()


def my_agency_referrals(limit: int = 50) -> list[Referral]:
    """Referrals the current user's agencies made, newest first (shelter label only)."""
    expire_holds()
    return list(
        db.session.scalars(
            scoped(select(Referral), Referral.from_agency_id, *NETWORK_ROLES)
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


# --- the staff board ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardFilters:
    state: str | None = None
    bed_type: str | None = None
    room_type: str | None = None
    accessible: bool = False

    def apply(self, stmt: Any) -> Any:
        if self.state:
            stmt = stmt.where(Bed.state == self.state)
        if self.bed_type:
            stmt = stmt.where(Bed.bed_type == self.bed_type)
        if self.room_type:
            stmt = stmt.where(Room.room_type == self.room_type)
        if self.accessible:
            stmt = stmt.where(Room.accessible.is_(True))
        return stmt


@dataclass
class StaffBoard:
    shelter: Shelter
    beds: list[Any]
    counts: dict[str, int]
    holds: dict[int, Hold]
    stays: dict[int, Stay]
    referrals: list[Referral]
    now: datetime
    stale_after: timedelta

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def stale(self) -> bool:
        return self.now - self.shelter.availability_updated_at > self.stale_after


def staff_board(shelter: Shelter, filters: BoardFilters | None = None) -> StaffBoard:
    filters = filters or BoardFilters()
    expire_holds(shelter_ids=[shelter.id])
    now = utcnow()
    beds = db.session.execute(
        filters.apply(
            select(
                Bed.id,
                Bed.label,
                Bed.bed_type,
                Bed.state,
                Bed.out_of_service_reason,
                Bed.hold_id,
                Bed.stay_id,
                Bed.state_changed_at,
                Room.label.label("room_label"),
                Room.room_type,
                Room.accessible,
                Room.pets_allowed,
            )
            .join(Room, Room.id == Bed.room_id)
            .where(Bed.shelter_id == shelter.id)
        ).order_by(Room.label, Bed.label, Bed.id)
    ).all()
    counts = dict(
        db.session.execute(
            select(Bed.state, func.count()).where(Bed.shelter_id == shelter.id).group_by(Bed.state)
        ).all()
    )
    holds = {
        h.id: h
        for h in db.session.scalars(
            select(Hold).where(Hold.shelter_id == shelter.id, Hold.status == HoldStatus.ACTIVE.value)
        )
    }
    stays = {
        s.id: s
        for s in db.session.scalars(
            select(Stay).where(Stay.shelter_id == shelter.id, Stay.checked_out_at.is_(None))
        )
    }
    referrals = list(
        db.session.scalars(
            select(Referral)
            .where(
                Referral.shelter_id == shelter.id,
                Referral.status.in_([ReferralStatus.PENDING.value, ReferralStatus.ACCEPTED.value]),
            )
            # Priority first: the referring advocate asked for it (a screened-in case).
            .order_by(Referral.priority.desc(), Referral.created_at)
        )
    )
    settings = network_settings(shelter.agency_id)
    return StaffBoard(
        shelter=shelter,
        beds=list(beds),
        counts={s.value: counts.get(s.value, 0) for s in BedState},
        holds=holds,
        stays=stays,
        referrals=referrals,
        now=now,
        stale_after=timedelta(minutes=settings.stale_after_minutes),
    )


# --- the network board -------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkFilters:
    beds_needed: int = 1
    accessible: bool = False
    pets: bool = False
    language: str | None = None
    region: str | None = None
    family_room: bool = False
    cultural_program: str | None = None
    boy_age: int | None = None
    #: One shelter only (the request page); with ``beds_needed=0`` even a full one.
    shelter_id: int | None = None


@dataclass(frozen=True)
class NetworkRow:
    """What every agency may see of a shelter: its label, its region, what it offers
    and how many beds are open.  No name, address, phone or coordinates exist here."""

    shelter_id: int
    public_label: str
    region: str
    languages: tuple[str, ...]
    cultural_program: str | None
    boys_age_limit: int | None
    max_stay_days: int | None
    open_adult: int
    open_child: int
    open_crib: int
    open_accessible: int
    open_pets: int
    open_family: int
    open_matching: int
    #: Open beds that fit the needs in the family room with the most of them.
    open_largest_family_room: int
    in_service: int
    updated_at: datetime
    stale: bool

    @property
    def open_total(self) -> int:
        return self.open_adult + self.open_child + self.open_crib

    def to_dict(self) -> dict[str, Any]:
        """An explicit list of fields (nothing is serialized from columns by accident)."""
        return {
            "shelter": self.shelter_id,
            "label": self.public_label,
            "region": self.region,
            "languages": list(self.languages),
            "cultural_program": self.cultural_program,
            "boys_age_limit": self.boys_age_limit,
            "max_stay_days": self.max_stay_days,
            "open": {
                "adult": self.open_adult,
                "child": self.open_child,
                "crib": self.open_crib,
                "accessible": self.open_accessible,
                "pets": self.open_pets,
                "family_room": self.open_family,
                "matching": self.open_matching,
                "largest_family_room": self.open_largest_family_room,
            },
            "in_service": self.in_service,
            "updated_at": self.updated_at.isoformat(),
            "stale": self.stale,
        }


def _count_if(*conditions: Any) -> Any:
    return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)


def network_board(filters: NetworkFilters | None = None) -> list[NetworkRow]:
    """Open beds per shelter of the whole network, for households with these needs.

    Three queries whatever the size of the network: one over shelters, one
    grouped count over beds, one for the largest open family room of each
    shelter.  Shelters that cannot take the household (too few
    matching beds, no staff speaking the language, boys over the age limit)
    are left out; the rest are sorted by how many matching beds they have.
    """
    filters = filters or NetworkFilters()
    expire_holds()
    now = utcnow()
    available = Bed.state == BedState.AVAILABLE.value
    matching = [available, Bed.bed_type != BedType.CRIB.value]
    if filters.accessible:
        matching.append(Room.accessible.is_(True))
    if filters.pets:
        matching.append(Room.pets_allowed.is_(True))
    if filters.family_room:
        matching.append(Room.room_type == RoomType.FAMILY.value)
    one_shelter = [Bed.shelter_id == filters.shelter_id] if filters.shelter_id is not None else []
    counts = {
        row.shelter_id: row
        for row in db.session.execute(
            select(
                Bed.shelter_id,
                _count_if(available, Bed.bed_type == BedType.ADULT.value).label("adult"),
                _count_if(available, Bed.bed_type == BedType.CHILD.value).label("child"),
                _count_if(available, Bed.bed_type == BedType.CRIB.value).label("crib"),
                _count_if(available, Room.accessible.is_(True)).label("accessible"),
                _count_if(available, Room.pets_allowed.is_(True)).label("pets"),
                _count_if(available, Room.room_type == RoomType.FAMILY.value).label("family"),
                _count_if(*matching).label("matching"),
                _count_if(Bed.state != BedState.OUT_OF_SERVICE.value).label("in_service"),
            )
            .join(Room, Room.id == Bed.room_id)
            .where(*one_shelter)
            .group_by(Bed.shelter_id)
        )
    }
    # A household of more than one stays together in one family room (as
    # request_referral places it): what fits it is the largest such room.
    per_room = (
        select(Bed.shelter_id, Bed.room_id, func.count().label("open"))
        .join(Room, Room.id == Bed.room_id)
        .where(*matching, *one_shelter, Room.room_type == RoomType.FAMILY.value)
        .group_by(Bed.shelter_id, Bed.room_id)
        .subquery()
    )
    largest_family_room = dict(
        db.session.execute(
            select(per_room.c.shelter_id, func.max(per_room.c.open)).group_by(per_room.c.shelter_id)
        ).all()
    )
    stmt = (
        select(
            Shelter.id,
            Shelter.public_label,
            Shelter.region,
            Shelter.languages,
            Shelter.cultural_program,
            Shelter.boys_age_limit,
            Shelter.max_stay_days,
            Shelter.availability_updated_at,
            func.coalesce(NetworkSettings.stale_after_minutes, DEFAULT_STALE_AFTER_MINUTES).label(
                "stale_after"
            ),
        )
        .outerjoin(NetworkSettings, NetworkSettings.agency_id == Shelter.agency_id)
        .where(Shelter.active.is_(True))
    )
    if filters.region:
        stmt = stmt.where(Shelter.region == filters.region)
    if filters.cultural_program:
        stmt = stmt.where(Shelter.cultural_program == filters.cultural_program)
    if filters.shelter_id is not None:
        stmt = stmt.where(Shelter.id == filters.shelter_id)
    rows: list[NetworkRow] = []
    for s in db.session.execute(stmt):
        languages = tuple(s.languages.split())
        if filters.language and filters.language not in languages:
            continue
        if (
            filters.boy_age is not None
            and s.boys_age_limit is not None
            and filters.boy_age > s.boys_age_limit
        ):
            continue
        c = counts.get(s.id)
        row = NetworkRow(
            shelter_id=s.id,
            public_label=s.public_label,
            region=s.region,
            languages=languages,
            cultural_program=s.cultural_program,
            boys_age_limit=s.boys_age_limit,
            max_stay_days=s.max_stay_days,
            open_adult=int(c.adult) if c else 0,
            open_child=int(c.child) if c else 0,
            open_crib=int(c.crib) if c else 0,
            open_accessible=int(c.accessible) if c else 0,
            open_pets=int(c.pets) if c else 0,
            open_family=int(c.family) if c else 0,
            open_matching=int(c.matching) if c else 0,
            open_largest_family_room=int(largest_family_room.get(s.id, 0)),
            in_service=int(c.in_service) if c else 0,
            updated_at=s.availability_updated_at,
            stale=now - s.availability_updated_at > timedelta(minutes=int(s.stale_after)),
        )
        fits = row.open_matching if filters.beds_needed <= 1 else row.open_largest_family_room
        if fits >= filters.beds_needed:
            rows.append(row)
    rows.sort(key=lambda r: (r.stale, -r.open_matching, r.region, r.public_label))
    return rows


def network_regions() -> list[str]:
    return list(
        db.session.scalars(
            select(Shelter.region).where(Shelter.active.is_(True)).distinct().order_by(Shelter.region)
        )
    )


# --- ETags: an unchanged board costs one small query ---------------------------------------------


def board_etag(*parts: object, shelter_id: int | None = None) -> str:
    """A validator for a board: the shelters' versions, the minute (the board
    says "N minutes ago" and "time left"), and what the caller adds (language,
    filters, user).  Holds due to expire are expired first, so an expiry is a change."""
    expire_holds(shelter_ids=None if shelter_id is None else [shelter_id])
    stmt = select(
        func.count(Shelter.id), func.coalesce(func.sum(Shelter.board_version), 0), func.max(Shelter.id)
    )
    if shelter_id is not None:
        stmt = stmt.where(Shelter.id == shelter_id)
    versions = db.session.execute(stmt).one()
    minute = int(utcnow().timestamp() // 60)
    raw = "|".join(str(p) for p in (*versions, *parts))
    # "<content>.<minute>": a page can tell a real change from the clock moving on.
    return f"{hashlib.sha256(raw.encode()).hexdigest()[:24]}.{minute}"


# --- occupancy over time ---------------------------------------------------------------------


@dataclass(frozen=True)
class OccupancyPoint:
    day: date
    occupied: int
    in_service: int

    @property
    def rate(self) -> float:
        return self.occupied / self.in_service if self.in_service else 0.0


def occupancy(shelter: Shelter, days: int = 30, *, today: date | None = None) -> list[OccupancyPoint]:
    """Occupied and in-service beds at the end of each day, from the event history.

    Each event moves a bed from one state to another, so the number of
    occupied beds at a moment is the count of events into "occupied" minus
    the count out of it up to then; the same for beds in service.  One grouped
    query per shelter and range, whatever the length of the history.
    """
    # Days are the agency's days: a check-in at 8 pm in Duluth counts on that
    # day, not on the next UTC one.
    zone = ZoneInfo(current_app.config["SETTINGS"].default_timezone)
    today = today or utcnow().astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)

    occupied_delta = case((AvailabilityEvent.to_state == BedState.OCCUPIED.value, 1), else_=0) - case(
        (AvailabilityEvent.from_state == BedState.OCCUPIED.value, 1), else_=0
    )
    in_service_delta = case(
        (
            and_(
                AvailabilityEvent.to_state != BedState.OUT_OF_SERVICE.value,
                func.coalesce(AvailabilityEvent.from_state, BedState.OUT_OF_SERVICE.value)
                == BedState.OUT_OF_SERVICE.value,
            ),
            1,
        ),
        else_=0,
    ) - case(
        (
            and_(
                AvailabilityEvent.to_state == BedState.OUT_OF_SERVICE.value,
                AvailabilityEvent.from_state.is_not(None),
                AvailabilityEvent.from_state != BedState.OUT_OF_SERVICE.value,
            ),
            1,
        ),
        else_=0,
    )
    base = db.session.execute(
        select(
            func.coalesce(func.sum(occupied_delta), 0), func.coalesce(func.sum(in_service_delta), 0)
        ).where(AvailabilityEvent.shelter_id == shelter.id, AvailabilityEvent.occurred_at < start)
    ).one()
    events = db.session.execute(
        select(AvailabilityEvent.occurred_at, occupied_delta.label("occ"), in_service_delta.label("svc"))
        .where(AvailabilityEvent.shelter_id == shelter.id, AvailabilityEvent.occurred_at >= start)
        .order_by(AvailabilityEvent.occurred_at)
    ).all()
    by_day: dict[date, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for event in events:
        day = event.occurred_at.astimezone(zone).date()
        occ, svc = by_day[day]
        by_day[day] = (occ + event.occ, svc + event.svc)
    occupied, in_service = int(base[0]), int(base[1])
    points = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        occ, svc = by_day.get(day, (0, 0))
        occupied += occ
        in_service += svc
        points.append(OccupancyPoint(day=day, occupied=occupied, in_service=in_service))
    return points
