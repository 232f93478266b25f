"""The shelter network: shelters, rooms, beds, holds, referrals, stays and the
append-only availability history.

A shelter has two identities.  ``name`` and ``address`` are the agency's own
knowledge and are encrypted; ``public_label`` and ``region`` are what other
agencies of the network see, chosen by the agency so as not to identify the
place.  Nothing that another agency can reach is built from the first two.

A bed's ``state`` is changed only by :mod:`advocacy.shelters.service`, always
with a conditional ``UPDATE ... WHERE state = <expected>``: two people taking
the last bed at the same moment cannot both succeed, on either engine.  Rooms
and beds carry their shelter's ``agency_id`` so every query can be scoped
without a join.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from advocacy.appendonly import make_append_only
from advocacy.extensions import db
from advocacy.types import EncryptedString, UTCDateTime, utcnow
from advocacy.vocab import LABELS, LabelledEnum


class BedState(LabelledEnum):
    AVAILABLE = "available"
    HELD = "held"
    OCCUPIED = "occupied"
    OUT_OF_SERVICE = "out_of_service"


class BedType(LabelledEnum):
    ADULT = "adult"
    CHILD = "child"
    CRIB = "crib"


class RoomType(LabelledEnum):
    SINGLE = "single"
    FAMILY = "family"


class CulturalProgram(LabelledEnum):
    """Culturally specific programs, as a fixed list so they translate and filter."""

    INDIGENOUS = "indigenous"
    BLACK = "black"
    LATINE = "latine"
    ASIAN_PACIFIC = "asian_pacific"
    IMMIGRANT_REFUGEE = "immigrant_refugee"
    LGBTQ = "lgbtq"
    DEAF = "deaf"
    ELDERS = "elders"


class OutOfServiceReason(LabelledEnum):
    REPAIR = "repair"
    CLEANING = "cleaning"
    SAFETY = "safety"
    STAFFING = "staffing"
    OTHER = "other"


class HoldStatus(LabelledEnum):
    ACTIVE = "active"
    RELEASED = "released"
    EXPIRED = "expired"
    CHECKED_IN = "checked_in"


class ReferralStatus(LabelledEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    ARRIVED = "arrived"


class DeclineReason(LabelledEnum):
    NO_LONGER_AVAILABLE = "no_longer_available"
    NOT_A_FIT = "not_a_fit"
    SAFETY = "safety"
    OTHER = "other"


LABELS.update(
    {
        (BedState, BedState.AVAILABLE.value): _l("Available"),
        (BedState, BedState.HELD.value): _l("Held"),
        (BedState, BedState.OCCUPIED.value): _l("Occupied"),
        (BedState, BedState.OUT_OF_SERVICE.value): _l("Out of service"),
        (BedType, BedType.ADULT.value): _l("Adult bed"),
        (BedType, BedType.CHILD.value): _l("Child bed"),
        (BedType, BedType.CRIB.value): _l("Crib"),
        (RoomType, RoomType.SINGLE.value): _l("Single room"),
        (RoomType, RoomType.FAMILY.value): _l("Family room"),
        (CulturalProgram, CulturalProgram.INDIGENOUS.value): _l("Indigenous-led"),
        (CulturalProgram, CulturalProgram.BLACK.value): _l("Black-led"),
        (CulturalProgram, CulturalProgram.LATINE.value): _l("Latine-led"),
        (CulturalProgram, CulturalProgram.ASIAN_PACIFIC.value): _l("Asian and Pacific Islander"),
        (CulturalProgram, CulturalProgram.IMMIGRANT_REFUGEE.value): _l("Immigrant and refugee"),
        (CulturalProgram, CulturalProgram.LGBTQ.value): _l("LGBTQ+"),
        (CulturalProgram, CulturalProgram.DEAF.value): _l("Deaf and hard of hearing"),
        (CulturalProgram, CulturalProgram.ELDERS.value): _l("Elders"),
        (OutOfServiceReason, OutOfServiceReason.REPAIR.value): _l("Repair"),
        (OutOfServiceReason, OutOfServiceReason.CLEANING.value): _l("Cleaning"),
        (OutOfServiceReason, OutOfServiceReason.SAFETY.value): _l("Safety concern"),
        (OutOfServiceReason, OutOfServiceReason.STAFFING.value): _l("Not enough staff"),
        (OutOfServiceReason, OutOfServiceReason.OTHER.value): _l("Other"),
        (HoldStatus, HoldStatus.ACTIVE.value): _l("Active"),
        (HoldStatus, HoldStatus.RELEASED.value): _l("Released"),
        (HoldStatus, HoldStatus.EXPIRED.value): _l("Expired"),
        (HoldStatus, HoldStatus.CHECKED_IN.value): _l("Checked in"),
        (ReferralStatus, ReferralStatus.PENDING.value): _l("Waiting for the shelter"),
        (ReferralStatus, ReferralStatus.ACCEPTED.value): _l("Accepted"),
        (ReferralStatus, ReferralStatus.DECLINED.value): _l("Declined"),
        (ReferralStatus, ReferralStatus.CANCELLED.value): _l("Cancelled"),
        (ReferralStatus, ReferralStatus.EXPIRED.value): _l("Expired"),
        (ReferralStatus, ReferralStatus.ARRIVED.value): _l("Arrived"),
        (DeclineReason, DeclineReason.NO_LONGER_AVAILABLE.value): _l("The beds are no longer available"),
        (DeclineReason, DeclineReason.NOT_A_FIT.value): _l("The shelter cannot meet this household's needs"),
        (DeclineReason, DeclineReason.SAFETY.value): _l("Safety reasons"),
        (DeclineReason, DeclineReason.OTHER.value): _l("Other reason: call the shelter's agency"),
    }
)


class NetworkSettings(db.Model):
    """An agency's rules for its shelters on the network.  A missing row means
    the defaults (see :func:`advocacy.shelters.service.network_settings`)."""

    __tablename__ = "network_settings"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True)
    hold_minutes: Mapped[int] = mapped_column(Integer, default=120)
    stale_after_minutes: Mapped[int] = mapped_column(Integer, default=360)


class Shelter(db.Model):
    __tablename__ = "shelter"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(EncryptedString())
    address: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    public_label: Mapped[str] = mapped_column(String(80))
    region: Mapped[str] = mapped_column(String(80))
    # Registry tags of the languages the staff speak, space-separated ("en so").
    languages: Mapped[str] = mapped_column(String(200), default="en")
    cultural_program: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Oldest age at which a boy may stay with his family in a family room; None: no limit.
    boys_age_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_stay_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When a person last changed or confirmed this shelter's beds (not an
    # automatic hold expiry): what "updated N minutes ago" means on the boards.
    availability_updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Bumped by every change of the board (bed states, holds, referrals): the
    # boards' ETags are built from it, so an unchanged board costs one query.
    board_version: Mapped[int] = mapped_column(Integer, default=0)

    rooms: Mapped[list[Room]] = relationship(back_populates="shelter", order_by="Room.label")

    @property
    def language_tags(self) -> list[str]:
        return self.languages.split()


class Room(db.Model):
    __tablename__ = "room"

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelter.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    room_type: Mapped[str] = mapped_column(String(16), default=RoomType.SINGLE.value)
    accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    pets_allowed: Mapped[bool] = mapped_column(Boolean, default=False)

    shelter: Mapped[Shelter] = relationship(back_populates="rooms")
    beds: Mapped[list[Bed]] = relationship(back_populates="room", order_by="Bed.label")


class Bed(db.Model):
    __tablename__ = "bed"
    __table_args__ = (Index("ix_bed_shelter_id_state", "shelter_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), index=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelter.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    bed_type: Mapped[str] = mapped_column(String(16), default=BedType.ADULT.value)
    state: Mapped[str] = mapped_column(String(16), default=BedState.AVAILABLE.value)
    out_of_service_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("hold.id"), nullable=True, index=True)
    stay_id: Mapped[int | None] = mapped_column(ForeignKey("stay.id"), nullable=True, index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    room: Mapped[Room] = relationship(back_populates="beds")


class Hold(db.Model):
    """Beds kept for a household on its way.  It ends by check-in, release, or
    by itself at ``expires_at`` (:func:`advocacy.shelters.service.expire_holds`)."""

    __tablename__ = "hold"
    __table_args__ = (Index("ix_hold_status_expires_at", "status", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelter.id"), index=True)
    # The shelter's agency (the one that may extend, release or check in).
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=HoldStatus.ACTIVE.value)
    # Staff's own words ("expected from the hotline call"), agency-only and encrypted.
    note: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Referral(db.Model):
    """A hold asked for from the network board, possibly by another agency.

    It carries a random token and the household's composition, and nothing
    else about the household: no name, birth date, phone or address crosses
    agencies.  The referring agency learns the shelter's label and the
    referral's status; the shelter's staff learn the token and composition.
    """

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(16), unique=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelter.id"), index=True)
    # The shelter's agency: its staff decide.
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    from_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("hold.id"), unique=True)
    adults: Mapped[int] = mapped_column(Integer, default=1)
    # Children's ages in whole years, space-separated ("2 7 11"); no names, no birth dates.
    children_ages: Mapped[str] = mapped_column(String(100), default="")
    oldest_boy_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pets: Mapped[int] = mapped_column(Integer, default=0)
    needs_accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Asked for by the referring advocate (a screened-in case): the shelter sees
    # "priority", never why.
    priority: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default=ReferralStatus.PENDING.value)
    decline_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    hold: Mapped[Hold] = relationship()
    shelter: Mapped[Shelter] = relationship()

    @property
    def ages(self) -> list[int]:
        return [int(a) for a in self.children_ages.split()]


class Stay(db.Model):
    """A household in one or more beds, from check-in to check-out.  Stay data
    says where a person is: it never leaves the shelter's agency."""

    __tablename__ = "stay"

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelter.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("hold.id"), nullable=True)
    adults: Mapped[int] = mapped_column(Integer, default=1)
    children: Mapped[int] = mapped_column(Integer, default=0)
    # The front desk's own reference (initials, "family in room 3"): encrypted.
    note: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    checked_out_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)


class AvailabilityEvent(db.Model):
    """One change of one bed's state: who, when, from, to.  Append-only."""

    __tablename__ = "availability_event"
    __table_args__ = (Index("ix_availability_event_shelter_id_occurred_at", "shelter_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelter.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"), index=True)
    # None: the app itself (a hold that expired).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    # What happened, from a fixed list (hold.placed, stay.checked_in, ...).
    action: Mapped[str] = mapped_column(String(32))
    # None for a bed that did not exist before.
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str] = mapped_column(String(16))
    hold_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stay_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)


make_append_only(AvailabilityEvent.__table__)  # type: ignore[arg-type]
