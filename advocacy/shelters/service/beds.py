"""What shelter staff do to beds: hold, extend, release, check in and out, out of service.

Each function is one :func:`~advocacy.shelters.service.core.changing` block:
it is given the shelter (fetched through the agency scope by the caller),
touches only beds, holds and stays of that shelter (anything else is
NotFound), and refuses with a message that says what is actually wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select, update

from advocacy.actor import Actor
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db
from advocacy.shelters.models import Bed, BedState, Hold, HoldStatus, OutOfServiceReason, Shelter, Stay
from advocacy.shelters.service.core import (
    MAX_BEDS_PER_REQUEST,
    MAX_HOLD_MINUTES,
    BedChange,
    beds_of,
    changing,
    expire_holds,
    held_beds,
    hold_ended,
    hold_expiry,
    hold_of,
    lock_beds,
)


def _unchanged() -> str:
    """What follows the beds named in a refusal: nothing happened, the board is up to date."""
    return _("Nothing was changed; the board shows the beds as they are now.")


def place_hold(
    actor: Actor,
    shelter: Shelter,
    bed_ids: Iterable[int],
    *,
    note: str | None = None,
    minutes: int | None = None,
) -> Hold:
    """Hold the named available beds for a household on its way.

    ``minutes`` (else the agency's hold length) is bounded like the agency's
    setting: a hold of no time or of negative time would be over before it began.
    """
    if minutes is not None and not 15 <= minutes <= MAX_HOLD_MINUTES:
        raise Refused(_("A hold lasts from 15 minutes to 24 hours."))
    ids = [b.id for b in beds_of(shelter, bed_ids)]
    with changing(actor, shelter) as change:
        hold = Hold(
            shelter_id=shelter.id,
            agency_id=shelter.agency_id,
            placed_by_id=actor.user_id,
            status=HoldStatus.ACTIVE,
            note=note or None,
            created_at=change.now,
            expires_at=hold_expiry(shelter.agency_id, change.now, minutes),
        )
        db.session.add(hold)
        db.session.flush()
        lock_beds(ids)
        change.move(
            ids,
            "hold.placed",
            hold_id=hold.id,
            refused=_("Nothing was held; the board shows the beds as they are now."),
        )
        change.audit("hold.placed", "hold", hold.id)
        hold_id = hold.id
    return hold_of(shelter, hold_id)


def extend_hold(actor: Actor, shelter: Shelter, hold_id: int) -> Hold:
    """Restart the hold's time from now, for the agency's full hold length."""
    expire_holds(shelter_ids=[shelter.id])
    hold = hold_of(shelter, hold_id)
    with changing(actor, shelter, expire=False) as change:
        changed = db.session.execute(
            update(Hold)
            .where(Hold.id == hold.id, Hold.status == HoldStatus.ACTIVE)
            .values(expires_at=hold_expiry(shelter.agency_id, change.now))
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            raise Refused(hold_ended(hold.id))
        change.note(held_beds(hold.id), "hold.extended", hold_id=hold.id)
        change.audit("hold.extended", "hold", hold.id)
    return hold_of(shelter, hold_id)


def release_beds(
    change: BedChange, hold: Hold, *, action: str, referral_action: str, **referral_values: object
) -> None:
    """End a hold early and free its beds: staff release it, the shelter declines
    the referral, or the referring agency cancels it."""
    change.end_hold(hold, "release")
    beds = held_beds(hold.id)
    lock_beds(beds)
    change.move(beds, action, refused=_unchanged(), only_hold_id=hold.id)
    change.set_referral(hold.id, referral_action, **referral_values)


def release_hold(actor: Actor, shelter: Shelter, hold_id: int) -> None:
    expire_holds(shelter_ids=[shelter.id])
    hold = hold_of(shelter, hold_id)
    with changing(actor, shelter, expire=False) as change:
        release_beds(
            change, hold, action="hold.released", referral_action="cancel", decided_by_id=actor.user_id
        )
        change.audit("hold.released", "hold", hold.id)


def check_in(
    actor: Actor,
    shelter: Shelter,
    bed_ids: Iterable[int] = (),
    *,
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
    hold = hold_of(shelter, hold_id) if hold_id is not None else None
    if hold is not None and hold.status != HoldStatus.ACTIVE:
        raise Refused(hold_ended(hold.id))
    held = held_beds(hold.id) if hold is not None else []
    if hold is not None and not held:
        # Ended between the two reads (an expiry or a release committed meanwhile).
        raise Refused(hold_ended(hold.id))
    bed_ids = list(bed_ids)
    chosen = [b.id for b in beds_of(shelter, bed_ids)] if bed_ids else list(held)
    if not chosen:
        raise Refused(_("Choose at least one bed."))
    from_hold = [b for b in chosen if b in held]
    from_available = [b for b in chosen if b not in held]
    let_go = [b for b in held if b not in chosen]

    with changing(actor, shelter, expire=False) as change:
        if hold is not None:
            change.end_hold(hold, "check_in")
        stay = Stay(
            shelter_id=shelter.id,
            agency_id=shelter.agency_id,
            hold_id=hold.id if hold else None,
            adults=adults,
            children=children,
            note=note or None,
            checked_in_at=change.now,
            checked_in_by_id=actor.user_id,
        )
        db.session.add(stay)
        db.session.flush()
        lock_beds(chosen + let_go)
        change.move(
            from_hold,
            "stay.checked_in",
            source=BedState.HELD,
            stay_id=stay.id,
            only_hold_id=hold.id if hold else None,
            refused=_unchanged(),
        )
        change.move(
            from_available,
            "stay.checked_in",
            source=BedState.AVAILABLE,
            stay_id=stay.id,
            refused=_unchanged(),
        )
        if hold is not None:
            change.move(let_go, "hold.released", only_hold_id=hold.id, refused=_unchanged())
            change.set_referral(hold.id, "arrive")
        change.audit("stay.checked_in", "stay", stay.id)
        stay_id = stay.id
    found = db.session.get(Stay, stay_id)
    assert found is not None
    return found


@dataclass(frozen=True)
class CheckOut:
    """What a check-out would end, for the page that asks staff to confirm it."""

    stay: Stay
    bed_labels: tuple[str, ...]


def check_out_preview(
    actor: Actor, shelter: Shelter, *, stay_id: int | None = None, bed_id: int | None = None
) -> CheckOut:
    """The household a check-out would end (by its stay, or by one of its beds), changing nothing.

    Refused, as the check-out itself would be, when nobody is checked in there any more.
    """
    if bed_id is not None:
        (bed,) = beds_of(shelter, [bed_id])
        if bed.state != BedState.OCCUPIED or bed.stay_id is None:
            raise Refused(
                _("Nobody is checked in to bed %(bed)s, so there is nothing to check out.", bed=bed.label)
            )
        stay_id = bed.stay_id
    stay = db.session.scalar(select(Stay).where(Stay.id == stay_id, Stay.shelter_id == shelter.id))
    if stay is None:
        raise NotFound()
    if stay.checked_out_at is not None:
        raise Refused(_("This household has already been checked out."))
    labels = db.session.scalars(select(Bed.label).where(Bed.stay_id == stay.id).order_by(Bed.label))
    return CheckOut(stay, tuple(labels))


def check_out(actor: Actor, shelter: Shelter, stay_id: int) -> None:
    stay = db.session.scalar(select(Stay).where(Stay.id == stay_id, Stay.shelter_id == shelter.id))
    if stay is None:
        raise NotFound()
    with changing(actor, shelter, expire=False) as change:
        changed = db.session.execute(
            update(Stay)
            .where(Stay.id == stay.id, Stay.checked_out_at.is_(None))
            .values(checked_out_at=change.now, checked_out_by_id=actor.user_id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            raise Refused(_("This household has already been checked out."))
        beds = list(db.session.scalars(select(Bed.id).where(Bed.stay_id == stay.id)))
        lock_beds(beds)
        change.move(
            beds,
            "stay.checked_out",
            only_stay_id=stay.id,
            refused=_unchanged(),
        )
        change.audit("stay.checked_out", "stay", stay.id)


def check_out_bed(actor: Actor, shelter: Shelter, bed_id: int) -> None:
    """Check out the household in this bed (all its beds): an empty bed is refused."""
    (bed,) = beds_of(shelter, [bed_id])
    if bed.state != BedState.OCCUPIED or bed.stay_id is None:
        raise Refused(
            _("Nobody is checked in to bed %(bed)s, so there is nothing to check out.", bed=bed.label)
        )
    check_out(actor, shelter, bed.stay_id)


def take_out_of_service(
    actor: Actor, shelter: Shelter, bed_ids: Iterable[int], reason: OutOfServiceReason
) -> None:
    ids = [b.id for b in beds_of(shelter, bed_ids)]
    with changing(actor, shelter) as change:
        lock_beds(ids)
        change.move(
            ids,
            "bed.out_of_service",
            reason=reason.value,
            refused=_(
                "Only available beds can be taken out of service. Release the hold or check out first."
            ),
        )
        change.audit("bed.out_of_service", "shelter", shelter.id)


def return_to_service(actor: Actor, shelter: Shelter, bed_ids: Iterable[int]) -> None:
    ids = [b.id for b in beds_of(shelter, bed_ids)]
    with changing(actor, shelter, expire=False) as change:
        lock_beds(ids)
        change.move(
            ids,
            "bed.back_in_service",
            refused=_("Only beds that are out of service can be put back in service."),
        )
        change.audit("bed.back_in_service", "shelter", shelter.id)


def confirm_board(actor: Actor, shelter: Shelter) -> None:
    """Staff say the board is right as it stands: "updated" restarts without a change."""
    with changing(actor, shelter, expire=False) as change:
        change.audit("shelter.board_confirmed", "shelter", shelter.id)
