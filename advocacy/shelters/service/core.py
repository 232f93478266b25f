"""The core of every change of a shelter's board: one transition function, and expiry.

Rules kept here and nowhere else:

* A bed's state changes only through :meth:`BedChange.move`: a conditional
  ``UPDATE bed ... WHERE state = <expected>`` that counts the rows it changed.
  When two people take the last bed at the same moment, one update finds the
  bed already taken and that change is refused with a translated message.
  This holds on PostgreSQL (the second update waits for the first row lock,
  then re-checks its condition) and on SQLite (one writer at a time).
* Every change runs in :func:`changing`: holds past their time are expired
  first, then the change happens inside a savepoint of the caller's
  transaction, so a refusal undoes the change alone (the caller's unit of
  work commits the rest, such as the audit entry of the page that showed the
  refusal).  Services never commit.
* Every bed state change writes an :class:`AvailabilityEvent` (who, when,
  from, to) in the same transaction, and bumps the shelter's
  ``board_version`` last, so the boards' ETags change exactly when a board
  does.  Locks are taken in one order (case, hold, beds by id, shelter), so
  two changes never wait for each other in a circle.
* The states each action moves between are the tables of
  :mod:`advocacy.shelters.machines`, not literals in the functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update

from advocacy import clock
from advocacy.actor import Actor
from advocacy.audit.service import record
from advocacy.auth.models import Role
from advocacy.errors import BedsRefused, NotFound, Refused
from advocacy.extensions import db, is_postgresql
from advocacy.shelters import machines
from advocacy.shelters.models import (
    AvailabilityEvent,
    Bed,
    BedState,
    Hold,
    HoldStatus,
    NetworkSettings,
    Referral,
    ReferralStatus,
    Shelter,
)
from advocacy.uow import savepoint

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
#: Pending requests one referring agency may have at one shelter, unless the shelter's agency lowers it.
DEFAULT_PENDING_REFERRALS_PER_AGENCY = 2
MAX_PENDING_REFERRALS_PER_AGENCY = 10
#: Holds one run of :func:`expire_holds` ends at most (the command loops).
EXPIRY_BATCH = 200

#: The system actor that ends holds nobody ended in time.
EXPIRY = Actor.system("expire-holds")


def network_settings(agency_id: int) -> NetworkSettings:
    """The agency's rules, or the defaults (unsaved) when it never set any."""
    row = db.session.get(NetworkSettings, agency_id)
    return row or NetworkSettings(
        agency_id=agency_id,
        hold_minutes=DEFAULT_HOLD_MINUTES,
        stale_after_minutes=DEFAULT_STALE_AFTER_MINUTES,
        pending_referrals_per_agency=DEFAULT_PENDING_REFERRALS_PER_AGENCY,
    )


def hold_expiry(agency_id: int, now: datetime, minutes: int | None = None) -> datetime:
    return now + timedelta(minutes=minutes or network_settings(agency_id).hold_minutes)


# --- low-level writes, in lock order ---------------------------------------------------------


def lock_beds(bed_ids: Iterable[int]) -> None:
    """On PostgreSQL, lock the beds in id order first, so that two changes over
    overlapping beds queue instead of deadlocking."""
    if is_postgresql():
        db.session.execute(
            select(Bed.id).where(Bed.id.in_(sorted(bed_ids))).order_by(Bed.id).with_for_update()
        )


def record_events(
    shelter_id: int,
    agency_id: int,
    bed_ids: Iterable[int],
    *,
    action: str,
    actor: Actor,
    now: datetime,
    source: BedState | None = None,
    hold_id: int | None = None,
    stay_id: int | None = None,
    reason: str | None = None,
) -> None:
    """One availability event per bed: the only place that writes them.

    ``source`` is the state the beds left, for an action that may start from
    several; otherwise the action's own.
    """
    transition = machines.BED[action]
    if source is None:
        source = transition.sources[0]
    db.session.add_all(
        AvailabilityEvent(
            occurred_at=now,
            shelter_id=shelter_id,
            agency_id=agency_id,
            bed_id=bed_id,
            actor_id=actor.user_id,
            action=action,
            from_state=source.value if source is not None else None,
            to_state=transition.target.value,
            hold_id=hold_id,
            stay_id=stay_id,
            reason=reason,
        )
        for bed_id in sorted(set(bed_ids))
    )


def touch(shelter_id: int, now: datetime, *, by_person: bool = True) -> None:
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


def held_beds(hold_id: int) -> list[int]:
    return list(db.session.scalars(select(Bed.id).where(Bed.hold_id == hold_id).order_by(Bed.id)))


def end_hold(hold: Hold, action: str, now: datetime) -> bool:
    """Close an active hold; False when someone else closed it first.

    An expiry closes the hold only if it is still due when the row is locked:
    a hold extended by staff between the due-query and this update stays
    (PostgreSQL re-checks the condition on the row the extension committed).
    It ends at its own ``expires_at``, the moment its beds became free.
    """
    transition = machines.HOLD[action]
    stmt = update(Hold).where(Hold.id == hold.id, Hold.status.in_(transition.source_values))
    if transition.target is HoldStatus.EXPIRED:
        stmt = stmt.where(Hold.expires_at <= now).values(status=transition.target, ended_at=Hold.expires_at)
    else:
        stmt = stmt.values(status=transition.target, ended_at=now)
    changed = db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount
    return changed == 1


def set_referral(hold_id: int, action: str, now: datetime, **values: Any) -> None:
    """Move the open referral of a hold, if there is one (a staff hold has none)."""
    transition = machines.REFERRAL[action]
    db.session.execute(
        update(Referral)
        .where(Referral.hold_id == hold_id, Referral.status.in_(transition.source_values))
        .values(status=transition.target, decided_at=now, **values)
        .execution_options(synchronize_session=False)
    )


# --- refusals that say what is actually wrong -------------------------------------------------


def bed_fact(label: str, state: str, wanted: BedState, *, other_hold: bool, other_stay: bool) -> str:
    """What is true of one bed that stood in the way of a change that needed it ``wanted``."""
    if state == BedState.OCCUPIED.value:
        if other_stay:
            return _("Bed %(bed)s is occupied by another household.", bed=label)
        return _("Bed %(bed)s is occupied.", bed=label)
    if state == BedState.HELD.value:
        if other_hold:
            return _("Bed %(bed)s is held for another household.", bed=label)
        return _("Bed %(bed)s is held.", bed=label)
    if state == BedState.OUT_OF_SERVICE.value:
        return _("Bed %(bed)s is out of service.", bed=label)
    if wanted is BedState.OCCUPIED:
        return _("Bed %(bed)s is not occupied any more.", bed=label)
    if wanted is BedState.HELD:
        return _("Bed %(bed)s is not held any more.", bed=label)
    if wanted is BedState.OUT_OF_SERVICE:
        return _("Bed %(bed)s is already in service.", bed=label)
    return _("Bed %(bed)s is available.", bed=label)


def beds_refused(
    bed_ids: Sequence[int],
    wanted: BedState,
    tail: str,
    *,
    only_hold_id: int | None = None,
    only_stay_id: int | None = None,
) -> BedsRefused:
    """The refusal of a change, naming each bed in its way and its state, then ``tail``
    (what was not done, and what to do instead)."""
    rows = db.session.execute(
        select(Bed.label, Bed.state, Bed.hold_id, Bed.stay_id).where(Bed.id.in_(bed_ids)).order_by(Bed.label)
    ).all()
    facts = [
        bed_fact(
            row.label,
            row.state,
            wanted,
            other_hold=only_hold_id is not None and row.hold_id not in (None, only_hold_id),
            other_stay=only_stay_id is not None and row.stay_id not in (None, only_stay_id),
        )
        for row in rows
    ]
    return BedsRefused(" ".join([*facts, tail]), tuple((row.label, str(row.state)) for row in rows))


def hold_ended(hold_id: int) -> str:
    """How a hold that is no longer active ended, as the person acting on it needs to hear."""
    status = db.session.scalar(select(Hold.status).where(Hold.id == hold_id))
    if status == HoldStatus.CHECKED_IN.value:
        return _("This hold was already used: its household is checked in.")
    if status == HoldStatus.RELEASED.value:
        return _("This hold was already released. Its beds went back to available.")
    if status == HoldStatus.EXPIRED.value:
        return _("This hold already ended: its time ran out and its beds went back to available.")
    return _("This hold has changed meanwhile. Nothing was changed; the board shows it now.")


def referral_ended(referral_id: int) -> str:
    """Why a referral can no longer be answered or cancelled: what became of it."""
    row = db.session.execute(
        select(Referral.token, Referral.status).where(Referral.id == referral_id)
    ).one_or_none()
    if row is None:
        raise NotFound()
    token, status = row.token, str(row.status)
    if status == ReferralStatus.PENDING.value:
        return _("Referral %(token)s is still waiting for the shelter's answer.", token=token)
    if status == ReferralStatus.ACCEPTED.value:
        return _("Referral %(token)s is already accepted.", token=token)
    if status == ReferralStatus.DECLINED.value:
        return _("Referral %(token)s was already declined.", token=token)
    if status == ReferralStatus.CANCELLED.value:
        return _("Referral %(token)s was already cancelled.", token=token)
    if status == ReferralStatus.EXPIRED.value:
        return _("Referral %(token)s expired: its hold ran out.", token=token)
    return _("The household of referral %(token)s has already arrived.", token=token)


# --- the one transition function -------------------------------------------------------------


class BedChange:
    """What one change of a board does, step by step, inside :func:`changing`."""

    def __init__(self, actor: Actor, shelter: Shelter, now: datetime) -> None:
        self.actor = actor
        self.shelter = shelter
        self.now = now

    def move(
        self,
        bed_ids: Sequence[int],
        action: str,
        *,
        refused: str | None,
        source: BedState | None = None,
        hold_id: int | None = None,
        stay_id: int | None = None,
        only_hold_id: int | None = None,
        only_stay_id: int | None = None,
        reason: str | None = None,
    ) -> bool:
        """Move every bed in ``bed_ids`` as ``action`` says, or none.

        When a bed is no longer where the action starts (or, with
        ``only_hold_id``, no longer held by that hold), raise
        :class:`Refused` with ``refused``; with ``refused=None`` return False
        instead, for a caller that tries again.
        """
        if not bed_ids:
            return True
        transition = machines.BED[action]
        start = source or transition.sources[0]
        assert transition.starts_from(start), (action, start)
        target = transition.target
        stmt = (
            update(Bed)
            .where(Bed.id.in_(bed_ids), Bed.shelter_id == self.shelter.id, Bed.state == start)
            .values(
                state=target,
                hold_id=hold_id,
                stay_id=stay_id,
                out_of_service_reason=reason if target is BedState.OUT_OF_SERVICE else None,
                state_changed_at=self.now,
            )
            .execution_options(synchronize_session=False)
        )
        if only_hold_id is not None:
            stmt = stmt.where(Bed.hold_id == only_hold_id)
        if only_stay_id is not None:
            stmt = stmt.where(Bed.stay_id == only_stay_id)
        # RETURNING says which beds moved: the others are the ones in the way,
        # and the refusal names them (one statement, on both engines).
        moved = set(db.session.scalars(stmt.returning(Bed.id)))
        if len(moved) != len(set(bed_ids)):
            if refused is None:
                return False
            in_way = sorted(set(bed_ids) - moved)
            raise beds_refused(in_way, start, refused, only_hold_id=only_hold_id, only_stay_id=only_stay_id)
        record_events(
            self.shelter.id,
            self.shelter.agency_id,
            bed_ids,
            action=action,
            actor=self.actor,
            now=self.now,
            source=start,
            hold_id=hold_id if hold_id is not None else only_hold_id,
            stay_id=stay_id if stay_id is not None else only_stay_id,
            reason=reason,
        )
        return True

    def note(self, bed_ids: Iterable[int], action: str, *, hold_id: int | None = None) -> None:
        """Events for beds whose state stays (a hold extended)."""
        record_events(
            self.shelter.id,
            self.shelter.agency_id,
            bed_ids,
            action=action,
            actor=self.actor,
            now=self.now,
            hold_id=hold_id,
        )

    def end_hold(self, hold: Hold, action: str) -> None:
        """End the hold, or refuse saying how it already ended."""
        if not end_hold(hold, action, self.now):
            raise Refused(hold_ended(hold.id))

    def set_referral(self, hold_id: int, action: str, **values: Any) -> None:
        set_referral(hold_id, action, self.now, **values)

    def audit(self, action: str, object_type: str, object_id: int, *, agency_id: int | None = None) -> None:
        record(
            self.actor,
            action,
            object_type,
            object_id,
            agency_id=self.shelter.agency_id if agency_id is None else agency_id,
        )


@contextmanager
def changing(
    actor: Actor, shelter: Shelter, *, by_person: bool = True, expire: bool = True
) -> Iterator[BedChange]:
    """expire → (savepoint: the change → touch) → fresh reads.

    ``by_person=False`` for a change nobody made by looking at the board (a
    referral from another agency, a new bed): the board's "updated" time stays.
    """
    if expire:
        expire_holds(shelter_ids=[shelter.id])
    with savepoint():
        change = BedChange(actor, shelter, clock.now())
        yield change
        touch(shelter.id, change.now, by_person=by_person)
    # The updates bypass the session's objects: forget them so the next read is fresh.
    db.session.expire_all()


# --- holds expire by themselves ---------------------------------------------------------


@cache
def _due_holds_statement(some_shelters: bool) -> Any:
    """The holds past their time (of the shelters bound as ``ids``), built once:
    every board view and every change asks it first."""
    stmt = select(Hold).where(Hold.status == HoldStatus.ACTIVE, Hold.expires_at <= bindparam("now"))
    if some_shelters:
        stmt = stmt.where(Hold.shelter_id.in_(bindparam("ids", expanding=True)))
    return stmt.order_by(Hold.id).limit(EXPIRY_BATCH)


def expire_holds(shelter_ids: Iterable[int] | None = None) -> int:
    """Free the beds of every hold past its time; returns how many holds ended.

    Runs before every board is read and every change, and from ``flask
    shelters expire-holds``.  Cheap when nothing is due (one indexed query).
    Safe from any number of processes at once: a hold is ended by whoever
    closes it first (each in its own savepoint), and its events carry the
    hold's own expiry time, so history says when the bed really became free.
    """
    now = clock.now()
    if shelter_ids is None:
        due = list(db.session.scalars(_due_holds_statement(False), {"now": now}))
    else:
        due = list(db.session.scalars(_due_holds_statement(True), {"now": now, "ids": list(shelter_ids)}))
    ended = 0
    for hold in due:
        shelter = db.session.get(Shelter, hold.shelter_id)
        assert shelter is not None
        with savepoint():
            if not end_hold(hold, "expire", now):
                continue  # someone else ended it first
            # The expiry time as the locked row has it now, not as this session
            # may have cached it (an extension may have committed meanwhile).
            expired_at = db.session.scalar(select(Hold.expires_at).where(Hold.id == hold.id))
            assert expired_at is not None
            beds = held_beds(hold.id)
            lock_beds(beds)
            BedChange(EXPIRY, shelter, expired_at).move(
                beds, "hold.expired", refused=None, only_hold_id=hold.id
            )
            set_referral(hold.id, "expire", now)
            touch(shelter.id, now, by_person=False)
            ended += 1
    if ended:
        db.session.expire_all()
    return ended


# --- what a change is about ---------------------------------------------------------------------


def beds_of(shelter: Shelter, bed_ids: Iterable[int]) -> list[Bed]:
    """The beds named, all of this shelter, or NotFound (another shelter's or agency's bed)."""
    wanted = sorted({int(b) for b in bed_ids})
    if not wanted:
        raise Refused(_("Choose at least one bed."))
    if len(wanted) > MAX_BEDS_PER_REQUEST * 4:
        raise Refused(_("Choose fewer beds at a time."))
    beds = list(db.session.scalars(select(Bed).where(Bed.id.in_(wanted), Bed.shelter_id == shelter.id)))
    if len(beds) != len(wanted):
        raise NotFound()
    return beds


def hold_of(shelter: Shelter, hold_id: int) -> Hold:
    hold = db.session.scalar(select(Hold).where(Hold.id == hold_id, Hold.shelter_id == shelter.id))
    if hold is None:
        raise NotFound()
    return hold
