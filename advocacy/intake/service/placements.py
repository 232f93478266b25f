"""Where a case's household sleeps: a bed asked for in the network, "no bed
needed" or "find a bed later", as the referring agency knows it.

The referral carries the household's numbers only (see
:class:`~advocacy.shelters.service.Household`); the placement that links it
to the case stays on the referring side, so the shelter's agency never sees
the case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import load_only

from advocacy.access import scoped
from advocacy.actor import Actor
from advocacy.audit.service import record
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db, is_postgresql
from advocacy.intake.models import (
    AccessNeed,
    Case,
    CaseStatus,
    Placement,
    PlacementKind,
    ProtocolOutcome,
    ProtocolStepKey,
)
from advocacy.intake.service.cases import CASE_ROLES
from advocacy.intake.service.screening import complete, protocol_steps
from advocacy.shelters.machines import OPEN_REFERRAL
from advocacy.shelters.models import Referral, Shelter
from advocacy.shelters.service import Household, cancel_referral, own_referral, request_referral
from advocacy.uow import savepoint

#: The case fields a referral's household is made of (numbers, ages, needs, language).
HOUSEHOLD_FIELDS = ("adults", "children_ages", "oldest_boy_age", "pets", "access_needs", "language")


def household_from(values: Mapping[str, Any]) -> Household:
    """The household as a referral may carry it, from a draft's or a case's values."""
    needs = str(values.get("access_needs", "")).split()
    return Household(
        adults=int(values.get("adults") or 1),
        children_ages=tuple(int(a) for a in str(values.get("children_ages") or "").split()),
        oldest_boy_age=values.get("oldest_boy_age"),
        pets=int(values.get("pets") or 0),
        needs_accessible=AccessNeed.WHEELCHAIR.value in needs,
        language=str(values.get("language") or "") or None,
    )


def case_household(case: Case) -> Household:
    return household_from({name: getattr(case, name) for name in HOUSEHOLD_FIELDS})


def add_placement(
    actor: Actor, case: Case, kind: str, *, referral_id: int | None = None, note: str | None = None
) -> Placement:
    placement = Placement(
        case_id=case.id,
        agency_id=case.agency_id,
        kind=kind,
        referral_id=referral_id,
        note=note,
        created_by_id=actor.user_id,
    )
    db.session.add(placement)
    db.session.flush()
    record(actor, f"case.placement.{kind}", "case", case.id, agency_id=case.agency_id)
    return placement


def record_placement(actor: Actor, case: Case, kind: PlacementKind, *, note: str | None = None) -> None:
    if kind is PlacementKind.REFERRAL:
        raise ValueError("a referral is placed with place_referral")
    add_placement(actor, case, kind.value, note=note)


def _lock_case(case_id: int) -> None:
    """Serialize changes to one case's placement (PostgreSQL row lock; SQLite has one writer)."""
    stmt = select(Case.id).where(Case.id == case_id)
    if is_postgresql():
        stmt = stmt.with_for_update()
    db.session.execute(stmt)


def active_referral(case_id: int) -> Referral | None:
    """The case's referral that still holds beds (waiting for the shelter, or accepted)."""
    return db.session.scalar(
        select(Referral)
        .join(Placement, Placement.referral_id == Referral.id)
        .where(Placement.case_id == case_id, Referral.status.in_(OPEN_REFERRAL))
        .limit(1)
    )


def place_referral(
    actor: Actor,
    case: Case,
    shelter_id: int,
    *,
    priority: bool | None = None,
    household: Household | None = None,
) -> Placement:
    """Hold beds for the case's household at a shelter of the network.

    The referral carries the household's numbers only (the case's, unless the
    advocate typed them on the network board: ``household``) and, for a screened-in
    case, "priority".  The case row is locked first and the referral and the
    placement are written in one savepoint: two requests for one case (a
    double click, two colleagues) hold beds once, and the other is refused.
    :class:`Refused` also when nothing fits any more; nothing changes then.
    """
    if case.status != CaseStatus.OPEN.value:
        raise Refused(_("Case %(number)s is closed. Reopen it before asking for a bed.", number=case.number))
    household = household or case_household(case)
    wants_priority = case.high_danger if priority is None else priority
    with savepoint():
        _lock_case(case.id)
        held = active_referral(case.id)
        if held is not None:
            raise Refused(
                _(
                    "This case already has beds held (referral %(token)s). Cancel that referral, or wait for "
                    "the shelter's answer, before asking another shelter.",
                    token=held.token,
                )
            )
        referral = request_referral(
            actor, shelter_id, household, from_agency_id=case.agency_id, priority=wants_priority
        )
        placement = add_placement(actor, case, PlacementKind.REFERRAL.value, referral_id=referral.id)
        if wants_priority:
            for step in protocol_steps(case):
                if step.step == ProtocolStepKey.PRIORITY_PLACEMENT and step.done_at is None:
                    complete(actor, step, ProtocolOutcome.DONE)
    return placement


def case_referral(case: Case, referral_id: int) -> Referral:
    """A referral placed for this case (through its placement); any other is NotFound."""
    referral = db.session.scalar(
        select(Referral)
        .join(Placement, Placement.referral_id == Referral.id)
        .where(Placement.case_id == case.id, Referral.id == referral_id)
    )
    if referral is None:
        raise NotFound()
    return referral


def cancel_case_referral(actor: Actor, case: Case, referral_id: int) -> Referral:
    """The case no longer needs the beds held for it: the referral is cancelled and its
    beds are free for others at once (audited on the referral and on the case)."""
    referral = case_referral(case, referral_id)
    cancel_referral(actor, referral.id)
    record(actor, "case.placement.cancelled", "case", case.id, agency_id=case.agency_id)
    return referral


def attach_referral(actor: Actor, case: Case, referral_id: int) -> Placement:
    """Tie a referral the case's agency made on the network board to the case
    (an intake started from the request finishes here).

    Only the agency's own referral (the shelter's agency never learns the
    case), only one not tied to a case yet.
    """
    referral = own_referral(actor, referral_id)
    if referral.from_agency_id != case.agency_id:
        raise NotFound()
    taken = db.session.scalar(select(Placement.case_id).where(Placement.referral_id == referral.id))
    if taken is not None:
        raise Refused(_("Referral %(token)s already belongs to a case.", token=referral.token))
    return add_placement(actor, case, PlacementKind.REFERRAL.value, referral_id=referral.id)


@dataclass(frozen=True)
class CaseChoice:
    """An open case as the network board's request offers it: its number and alias."""

    id: int
    number: str
    alias: str


#: The most open cases the request form offers (the advocate's own, newest first).
MAX_CASE_CHOICES = 100


def open_cases_to_refer(actor: Actor) -> list[CaseChoice]:
    """The actor's own open cases in the acting agency, newest first, for a referral
    made from the network board.  Nobody without a case role gets any."""
    if actor.user_id is None or not actor.has_role(*CASE_ROLES):
        return []
    rows = db.session.scalars(
        scoped(
            actor,
            select(Case).options(load_only(Case.id, Case.opened_at, Case.alias)),
            Case.agency_id,
            *CASE_ROLES,
        )
        .where(
            Case.agency_id == actor.agency_for(*CASE_ROLES),
            Case.owner_id == actor.user_id,
            Case.status == CaseStatus.OPEN.value,
        )
        .order_by(Case.opened_at.desc(), Case.id.desc())
        .limit(MAX_CASE_CHOICES)
    )
    return [CaseChoice(case.id, case.number, case.alias) for case in rows]


@dataclass(frozen=True)
class CaseLink:
    id: int
    number: str


def referral_cases(actor: Actor, referral_ids: list[int]) -> dict[int, CaseLink]:
    """The case each referral belongs to, for the referring agency's list: only cases
    of the actor's own agencies where it has a case role (never the shelter's side)."""
    if not referral_ids:
        return {}
    rows = db.session.execute(
        scoped(
            actor,
            select(Placement.referral_id, Case.id, Case.opened_at)
            .join(Case, Case.id == Placement.case_id)
            .where(Placement.referral_id.in_(referral_ids)),
            Case.agency_id,
            *CASE_ROLES,
        )
    ).all()
    return {row.referral_id: CaseLink(row.id, f"{row.opened_at.year}-{row.id:06d}") for row in rows}


@dataclass(frozen=True)
class PlacementView:
    placement: Placement
    referral: Referral | None
    shelter_label: str | None
    shelter_region: str | None


@cache
def _placements_statement() -> Any:
    """Built once (every case page asks), the case bound per call."""
    return (
        select(Placement, Referral, Shelter.public_label, Shelter.region)
        .outerjoin(Referral, Referral.id == Placement.referral_id)
        .outerjoin(Shelter, Shelter.id == Referral.shelter_id)
        .where(Placement.case_id == bindparam("case_id"))
        .order_by(Placement.created_at.desc(), Placement.id.desc())
    )


def placements(case: Case) -> list[PlacementView]:
    """The case's placements, newest first, with the shelter's public label only."""
    rows = db.session.execute(_placements_statement(), {"case_id": case.id}).all()
    return [PlacementView(p, r, label, region) for p, r, label, region in rows]
