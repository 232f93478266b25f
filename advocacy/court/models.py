"""Courts, court events of a case, and the history of every change to an event.

A court belongs to one agency (its own list: the court's name, its IANA time
zone and, for the detailed reminder style only, its address).  A court event
keeps its start as UTC and is entered and shown in its court's zone, so a
hearing at 9:00 in Duluth stays at 9:00 in Duluth whatever zone the advocate's
browser or the server is in.  Its status moves only along :data:`EVENT`, and
the database refuses any other status (CHECK constraint).  Every change is a
row of :class:`CourtEventChange`, which only grows.

An event's court belongs to the event's agency through a composite key: a bug
cannot put one agency's hearing in another agency's court list.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
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
from advocacy.states import Machine, Transition
from advocacy.types import UTCDateTime
from advocacy.vocab import LabelledEnum, enum_column


class CourtEventKind(LabelledEnum):
    PROTECTION_ORDER = "protection_order", _l("Protection order hearing")
    ARRAIGNMENT = "arraignment", _l("Arraignment")
    PRETRIAL = "pretrial", _l("Pretrial hearing")
    TRIAL = "trial", _l("Trial")
    SENTENCING = "sentencing", _l("Sentencing")
    REVIEW = "review", _l("Review hearing")
    OTHER = "other", _l("Other court date")


class CourtEventStatus(LabelledEnum):
    SCHEDULED = "scheduled", _l("Scheduled")
    CONTINUED = "continued", _l("Continued to a new date")
    CANCELLED = "cancelled", _l("Cancelled")
    HELD = "held", _l("Held")


S = CourtEventStatus

#: The statuses of an event still ahead: the ones that have reminders.
UPCOMING = (S.SCHEDULED, S.CONTINUED)

#: How an event's status moves.  "change" corrects the details (a typo in the
#: time, another courtroom) and keeps the status; "continue" is the court
#: moving the hearing to a new date.  Cancelled and held are final.
EVENT = Machine(
    "court_event",
    CourtEventStatus,
    [
        Transition("schedule", (None,), S.SCHEDULED, _l("Court date added"), "court_event.created"),
        Transition("change", (S.SCHEDULED,), S.SCHEDULED, _l("Details changed"), "court_event.changed"),
        Transition(
            "change_continued", (S.CONTINUED,), S.CONTINUED, _l("Details changed"), "court_event.changed"
        ),
        Transition("continue", UPCOMING, S.CONTINUED, _l("Continued to a new date"), "court_event.continued"),
        Transition("cancel", UPCOMING, S.CANCELLED, _l("Cancelled"), "court_event.cancelled"),
        Transition("hold", UPCOMING, S.HELD, _l("Recorded as held"), "court_event.held"),
    ],
)


class Court(db.Model):
    """A court the agency's cases go to.  Not personal data: a public place."""

    __tablename__ = "court"
    __table_args__ = (
        UniqueConstraint("agency_id", "name", name="uq_court_agency_name"),
        # The target of the composite key that ties an event's court to the event's agency.
        UniqueConstraint("id", "agency_id", name="uq_court_id_agency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    #: An IANA zone name ("America/Chicago"), checked against the zone database.
    time_zone: Mapped[str] = mapped_column(String(64))
    #: Shown only in the detailed reminder style, which a victim must choose.
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class CourtSettings(db.Model):
    """An agency's reminder schedule.  A missing row means the defaults
    (:data:`advocacy.court.schedule.DEFAULT_SCHEDULE` and ``DEFAULT_DENSER``).

    Each schedule is a short text of offsets before the event: ``7d`` (seven
    days before, at the same time of day in the court's zone), ``2h`` (two
    hours before) and ``08:00`` (that time on the morning of the event).
    """

    __tablename__ = "court_settings"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True)
    schedule: Mapped[str] = mapped_column(String(100))
    #: Added to ``schedule`` for a case screened in as high danger.
    denser: Mapped[str] = mapped_column(String(100))


class CourtEvent(db.Model):
    __tablename__ = "court_event"
    __table_args__ = (
        ForeignKeyConstraint(
            ["court_id", "agency_id"], ["court.id", "court.agency_id"], name="fk_court_event_court_agency"
        ),
        # The case page: a case's events in time order.
        Index("ix_court_event_case_starts", "case_id", "starts_at"),
        # An agency's coming hearings (the demo, a calendar).
        Index("ix_court_event_agency_starts", "agency_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    court_id: Mapped[int] = mapped_column(Integer)
    courtroom: Mapped[str | None] = mapped_column(String(40), nullable=True)
    kind: Mapped[CourtEventKind] = mapped_column(enum_column(CourtEventKind, "kind", 32))
    #: UTC; entered and shown in the court's time zone.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[CourtEventStatus] = mapped_column(
        enum_column(CourtEventStatus, "status", 16), default=CourtEventStatus.SCHEDULED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    court = relationship(
        "Court",
        lazy="joined",
        innerjoin=True,
        primaryjoin="and_(CourtEvent.court_id == Court.id, CourtEvent.agency_id == Court.agency_id)",
        foreign_keys="[CourtEvent.court_id, CourtEvent.agency_id]",
        viewonly=True,
    )

    @property
    def upcoming(self) -> bool:
        return self.status in UPCOMING


class CourtEventChange(db.Model):
    """One change of one court event: who, when, what it was and what it became.  Append-only."""

    __tablename__ = "court_event_change"
    __table_args__ = (Index("ix_court_event_change_event", "event_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("court_event.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    # None: the app itself.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    #: One of :data:`EVENT`'s actions.
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    from_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    court_id: Mapped[int] = mapped_column(ForeignKey("court.id"))
    courtroom: Mapped[str | None] = mapped_column(String(40), nullable=True)
    #: Whether the advocate chose to text a "changed" or "cancelled" notice.
    notified: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    actor = relationship("User")
    court = relationship("Court")


make_append_only(CourtEventChange.__table__)  # type: ignore[arg-type]
