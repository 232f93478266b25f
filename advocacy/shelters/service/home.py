"""What the home pages read of the shelter network, for the acting agency only.

Read-only, and each function is one bounded statement on an index (the home
page is opened all day and never ends holds itself: a hold past its time is
left out here, and the boards end it):

* referrals waiting for an answer, reached through the active holds they keep
  (``ix_hold_status_expires_at``: holds are few at any time);
* holds ending within the hour, on the same index;
* beds out of service, through the agency's shelters (``ix_bed_shelter_id_state``);
* whether each board is stale (the agency's shelters and its settings);
* the referrals a person made that wait for a shelter or were just answered
  (``ix_referral_referred_by_created``, over the last two days: a referral
  cannot wait longer than its hold).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from advocacy import clock
from advocacy.access import scoped
from advocacy.actor import Actor
from advocacy.extensions import db
from advocacy.roles import Role
from advocacy.shelters.models import (
    Bed,
    BedState,
    Hold,
    HoldStatus,
    NetworkSettings,
    Referral,
    ReferralStatus,
    Shelter,
)
from advocacy.shelters.service.core import DEFAULT_STALE_AFTER_MINUTES, NETWORK_ROLES, STAFF_ROLES

HOME_LIMIT = 20
#: "Ending soon" on the staff's home page.
ENDING_WITHIN = timedelta(hours=1)
#: A referral answered this recently is still news to the advocate who made it.
JUST_ANSWERED = timedelta(days=1)
#: No referral waits longer than this (its hold ends well before).
REFERRAL_WINDOW = timedelta(days=2)


def acting_agency(actor: Actor, *roles: Role) -> int | None:
    """The acting agency, when the actor holds one of ``roles`` there."""
    if actor.agency_id is None or not actor.roles_in(actor.agency_id) & set(roles):
        return None
    return actor.agency_id


def referrals_waiting(actor: Actor, limit: int = HOME_LIMIT) -> list[Referral]:
    """Referrals to the acting agency's shelters that wait for an answer, oldest first."""
    agency = acting_agency(actor, *STAFF_ROLES)
    if agency is None:
        return []
    return list(
        db.session.scalars(
            scoped(actor, select(Referral), Referral.agency_id, *STAFF_ROLES)
            .join(Referral.hold)
            .join(Referral.shelter)
            .where(
                Hold.status == HoldStatus.ACTIVE,
                Hold.expires_at > clock.now(),
                Hold.agency_id == agency,
                Referral.agency_id == agency,
                Referral.status == ReferralStatus.PENDING,
            )
            .options(
                contains_eager(Referral.hold).load_only(Hold.id, Hold.expires_at),
                contains_eager(Referral.shelter).load_only(Shelter.id, Shelter.public_label),
            )
            .order_by(Referral.priority.desc(), Referral.created_at, Referral.id)
            .limit(limit)
        )
    )


@dataclass
class EndingHold:
    hold_id: int
    shelter_id: int
    shelter_label: str
    expires_at: datetime
    beds: list[str]
    token: str | None


def holds_ending_soon(actor: Actor, limit: int = HOME_LIMIT) -> list[EndingHold]:
    """The acting agency's holds that end within the hour, soonest first, with their
    beds and, for a referral's hold, its reference (staff match a household by it)."""
    agency = acting_agency(actor, *STAFF_ROLES)
    if agency is None:
        return []
    now = clock.now()
    rows = db.session.execute(
        scoped(
            actor,
            select(
                Hold.id, Hold.shelter_id, Shelter.public_label, Hold.expires_at, Bed.label, Referral.token
            ),
            Hold.agency_id,
            *STAFF_ROLES,
        )
        .join(Shelter, Shelter.id == Hold.shelter_id)
        .join(Bed, Bed.hold_id == Hold.id)
        .outerjoin(Referral, Referral.hold_id == Hold.id)
        .where(
            Hold.status == HoldStatus.ACTIVE,
            Hold.expires_at > now,
            Hold.expires_at <= now + ENDING_WITHIN,
            Hold.agency_id == agency,
        )
        .order_by(Hold.expires_at, Hold.id, Bed.label)
        .limit(limit * 8)  # a hold has a few beds
    ).all()
    holds: dict[int, EndingHold] = {}
    for hold_id, shelter_id, label, expires_at, bed, token in rows:
        entry = holds.setdefault(hold_id, EndingHold(hold_id, shelter_id, label, expires_at, [], token))
        entry.beds.append(bed)
    return list(holds.values())[:limit]


def beds_out_of_service(actor: Actor, limit: int = 50) -> list[Any]:
    """The acting agency's beds out of service: shelter, bed, reason and since when."""
    agency = acting_agency(actor, *STAFF_ROLES)
    if agency is None:
        return []
    return list(
        db.session.execute(
            scoped(
                actor,
                select(
                    Shelter.id.label("shelter_id"),
                    Shelter.public_label,
                    Bed.label,
                    Bed.out_of_service_reason,
                    Bed.state_changed_at,
                ),
                Shelter.agency_id,
                *STAFF_ROLES,
            )
            .join(Bed, Bed.shelter_id == Shelter.id)
            .where(Shelter.agency_id == agency, Shelter.active, Bed.state == BedState.OUT_OF_SERVICE)
            .order_by(Shelter.public_label, Bed.label)
            .limit(limit)
        ).all()
    )


@dataclass
class BoardFreshness:
    shelter_id: int
    public_label: str
    updated_at: datetime
    stale: bool


def board_freshness(actor: Actor, limit: int = 50) -> list[BoardFreshness]:
    """Each of the acting agency's shelters: when its board was last updated and
    whether that is longer ago than the agency's "stale" setting.  Stale first."""
    agency = acting_agency(actor, *STAFF_ROLES)
    if agency is None:
        return []
    rows = db.session.execute(
        scoped(
            actor,
            select(
                Shelter.id,
                Shelter.public_label,
                Shelter.availability_updated_at,
                func.coalesce(NetworkSettings.stale_after_minutes, DEFAULT_STALE_AFTER_MINUTES),
            ),
            Shelter.agency_id,
            *STAFF_ROLES,
        )
        .outerjoin(NetworkSettings, NetworkSettings.agency_id == Shelter.agency_id)
        .where(Shelter.agency_id == agency, Shelter.active)
        .order_by(Shelter.availability_updated_at, Shelter.id)
        .limit(limit)
    ).all()
    now = clock.now()
    boards = [
        BoardFreshness(sid, label, updated, now - updated > timedelta(minutes=int(minutes)))
        for sid, label, updated, minutes in rows
    ]
    return sorted(boards, key=lambda b: (not b.stale, b.public_label))


def my_referrals(actor: Actor, limit: int = 10) -> list[Referral]:
    """The referrals the actor made for the acting agency that wait for a shelter or
    were answered in the last day, newest first (the shelter's label only)."""
    agency = acting_agency(actor, *NETWORK_ROLES)
    if agency is None or actor.user_id is None:
        return []
    now = clock.now()
    return list(
        db.session.scalars(
            scoped(actor, select(Referral), Referral.from_agency_id, *NETWORK_ROLES)
            .join(Referral.shelter)
            .where(
                Referral.referred_by_id == actor.user_id,
                Referral.from_agency_id == agency,
                Referral.created_at >= now - REFERRAL_WINDOW,
                or_(
                    Referral.status == ReferralStatus.PENDING,
                    Referral.decided_at >= now - JUST_ANSWERED,
                ),
            )
            .options(
                # The referring agency sees a label: the shelter's name and address are not loaded.
                contains_eager(Referral.shelter).load_only(Shelter.id, Shelter.public_label),
            )
            .order_by(Referral.created_at.desc(), Referral.id.desc())
            .limit(limit)
        )
    )
