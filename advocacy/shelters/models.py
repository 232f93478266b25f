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
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from advocacy import clock
from advocacy.appendonly import make_append_only
from advocacy.extensions import db
from advocacy.types import EncryptedString, UTCDateTime
from advocacy.vocab import LabelledEnum, enum_column


class BedState(LabelledEnum):
    AVAILABLE = "available", _l("Available")
    HELD = "held", _l("Held")
    OCCUPIED = "occupied", _l("Occupied")
    OUT_OF_SERVICE = "out_of_service", _l("Out of service")


class BedType(LabelledEnum):
    ADULT = "adult", _l("Adult bed")
    CHILD = "child", _l("Child bed")
    CRIB = "crib", _l("Crib")


class RoomType(LabelledEnum):
    SINGLE = "single", _l("Single room")
    FAMILY = "family", _l("Family room")


class CulturalProgram(LabelledEnum):
    """Culturally specific programs, as a fixed list so they translate and filter."""

    INDIGENOUS = "indigenous", _l("Indigenous-led")
    BLACK = "black", _l("Black-led")
    LATINE = "latine", _l("Latine-led")
    ASIAN_PACIFIC = "asian_pacific", _l("Asian and Pacific Islander")
    IMMIGRANT_REFUGEE = "immigrant_refugee", _l("Immigrant and refugee")
    LGBTQ = "lgbtq", _l("LGBTQ+")
    DEAF = "deaf", _l("Deaf and hard of hearing")
    ELDERS = "elders", _l("Elders")


class OutOfServiceReason(LabelledEnum):
    REPAIR = "repair", _l("Repair")
    CLEANING = "cleaning", _l("Cleaning")
    SAFETY = "safety", _l("Safety concern")
    STAFFING = "staffing", _l("Not enough staff")
    OTHER = "other", _l("Other")


class HoldStatus(LabelledEnum):
    ACTIVE = "active", _l("Active")
    RELEASED = "released", _l("Released")
    EXPIRED = "expired", _l("Expired")
    CHECKED_IN = "checked_in", _l("Checked in")


class ReferralStatus(LabelledEnum):
    PENDING = "pending", _l("Waiting for the shelter")
    ACCEPTED = "accepted", _l("Accepted")
    DECLINED = "declined", _l("Declined")
    CANCELLED = "cancelled", _l("Cancelled")
    EXPIRED = "expired", _l("Expired")
    ARRIVED = "arrived", _l("Arrived")


class DeclineReason(LabelledEnum):
    NO_LONGER_AVAILABLE = "no_longer_available", _l("The beds are no longer available")
    NOT_A_FIT = "not_a_fit", _l("The shelter cannot meet this household's needs")
    SAFETY = "safety", _l("Safety reasons")
    OTHER = "other", _l("Other reason: call the shelter's agency")


class NetworkSettings(db.Model):
    """An agency's rules for its shelters on the network.  A missing row means
    the defaults (see :func:`advocacy.shelters.service.network_settings`)."""

    __tablename__ = "network_settings"
    # Never fetch the deferred limit back after an INSERT (see below).
    __mapper_args__ = {"eager_defaults": False}

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True)
    hold_minutes: Mapped[int] = mapped_column(Integer, default=120)
    stale_after_minutes: Mapped[int] = mapped_column(Integer, default=360)
    # Requests one referring agency may have waiting at one of these shelters at a time:
    # another agency's advocates cannot hold every open bed with a burst of requests.
    # Deferred, and filled by the database's default: code that never asks for it
    # (the demo loaded into an older schema, say) neither reads nor writes it.
    pending_referrals_per_agency: Mapped[int] = mapped_column(Integer, server_default="2", deferred=True)


class Shelter(db.Model):
    __tablename__ = "shelter"
    # The target of the composite keys that tie a room, bed or hold to its shelter's agency.
    __table_args__ = (UniqueConstraint("id", "agency_id", name="uq_shelter_id_agency"),)

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
    # The shelter's intake line (a hotline, never an address), in E.164 and encrypted:
    # the network sees it only when the agency shares it (``intake_phone_shared``).
    intake_phone: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    intake_phone_shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    # When a person last changed or confirmed this shelter's beds (not an
    # automatic hold expiry): what "updated N minutes ago" means on the boards.
    availability_updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    # Bumped by every change of the board (bed states, holds, referrals): the
    # boards' ETags are built from it, so an unchanged board costs one query.
    board_version: Mapped[int] = mapped_column(Integer, default=0)

    rooms: Mapped[list[Room]] = relationship(
        back_populates="shelter", order_by="Room.label", foreign_keys="Room.shelter_id"
    )

    @property
    def language_tags(self) -> list[str]:
        return self.languages.split()


class Room(db.Model):
    __tablename__ = "room"
    __table_args__ = (
        UniqueConstraint("id", "shelter_id", name="uq_room_id_shelter"),
        # A room belongs to its shelter's agency: the database refuses any other.
        ForeignKeyConstraint(
            ["shelter_id", "agency_id"], ["shelter.id", "shelter.agency_id"], name="fk_room_shelter_agency"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelter.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    room_type: Mapped[RoomType] = mapped_column(
        enum_column(RoomType, "room_type", 16), default=RoomType.SINGLE
    )
    accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    pets_allowed: Mapped[bool] = mapped_column(Boolean, default=False)

    shelter: Mapped[Shelter] = relationship(back_populates="rooms", foreign_keys=[shelter_id])
    beds: Mapped[list[Bed]] = relationship(
        back_populates="room", order_by="Bed.label", foreign_keys="Bed.room_id"
    )


class Bed(db.Model):
    __tablename__ = "bed"
    __table_args__ = (
        Index("ix_bed_shelter_id_state", "shelter_id", "state"),
        # A bed belongs to its room's shelter and to that shelter's agency.
        ForeignKeyConstraint(
            ["room_id", "shelter_id"], ["room.id", "room.shelter_id"], name="fk_bed_room_shelter"
        ),
        ForeignKeyConstraint(
            ["shelter_id", "agency_id"], ["shelter.id", "shelter.agency_id"], name="fk_bed_shelter_agency"
        ),
        # Each state carries exactly what it needs: a held bed its hold, an
        # occupied bed its stay, a bed out of service its reason; no other does.
        CheckConstraint("(state = 'held') = (hold_id IS NOT NULL)", name="held_has_hold"),
        CheckConstraint("(state = 'occupied') = (stay_id IS NOT NULL)", name="occupied_has_stay"),
        CheckConstraint(
            "(state = 'out_of_service') = (out_of_service_reason IS NOT NULL)",
            name="out_of_service_has_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), index=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelter.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    bed_type: Mapped[BedType] = mapped_column(enum_column(BedType, "bed_type", 16), default=BedType.ADULT)
    state: Mapped[BedState] = mapped_column(enum_column(BedState, "state", 16), default=BedState.AVAILABLE)
    out_of_service_reason: Mapped[OutOfServiceReason | None] = mapped_column(
        enum_column(OutOfServiceReason, "out_of_service_reason", 32), nullable=True
    )
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("hold.id"), nullable=True, index=True)
    stay_id: Mapped[int | None] = mapped_column(ForeignKey("stay.id"), nullable=True, index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    room: Mapped[Room] = relationship(back_populates="beds", foreign_keys=[room_id])


class Hold(db.Model):
    """Beds kept for a household on its way.  It ends by check-in, release, or
    by itself at ``expires_at`` (:func:`advocacy.shelters.service.expire_holds`)."""

    __tablename__ = "hold"
    __table_args__ = (
        Index("ix_hold_status_expires_at", "status", "expires_at"),
        ForeignKeyConstraint(
            ["shelter_id", "agency_id"], ["shelter.id", "shelter.agency_id"], name="fk_hold_shelter_agency"
        ),
        # An active hold has not ended; an ended one says when.
        CheckConstraint("(status = 'active') = (ended_at IS NULL)", name="ended_when_not_active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelter.id"), index=True)
    # The shelter's agency (the one that may extend, release or check in).
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    status: Mapped[HoldStatus] = mapped_column(
        enum_column(HoldStatus, "status", 16), default=HoldStatus.ACTIVE
    )
    # Staff's own words ("expected from the hotline call"), agency-only and encrypted.
    note: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
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
    __table_args__ = (
        CheckConstraint("decline_reason IS NULL OR status = 'declined'", name="reason_only_when_declined"),
        # The advocate's home page: the referrals they made lately, newest first.
        Index("ix_referral_referred_by_created", "referred_by_id", "created_at"),
    )

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
    status: Mapped[ReferralStatus] = mapped_column(
        enum_column(ReferralStatus, "status", 16), default=ReferralStatus.PENDING
    )
    decline_reason: Mapped[DeclineReason | None] = mapped_column(
        enum_column(DeclineReason, "decline_reason", 32), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
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
    __table_args__ = (
        CheckConstraint("checked_out_at IS NULL OR checked_out_at >= checked_in_at", name="out_after_in"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelter.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("hold.id"), nullable=True)
    adults: Mapped[int] = mapped_column(Integer, default=1)
    children: Mapped[int] = mapped_column(Integer, default=0)
    # The front desk's own reference (initials, "family in room 3"): encrypted.
    note: Mapped[str | None] = mapped_column(EncryptedString(), nullable=True)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    checked_out_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)


class AvailabilityEvent(db.Model):
    """One change of one bed's state: who, when, from, to.  Append-only."""

    __tablename__ = "availability_event"
    __table_args__ = (Index("ix_availability_event_shelter_id_occurred_at", "shelter_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
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
