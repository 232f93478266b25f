"""What an advocate's home page reads: their open cases and their unfinished intakes.

Read-only, and each is one bounded statement on an index, because the home
page is opened all day: the open cases are read per danger level (high danger
first) from ``ix_case_agency_owner_status_danger``, each level a range of that
index newest first, in one ``UNION ALL`` joined with the cases' open protocol
steps.  Only the acting agency's rows are read: the home page shows the
panels of the roles a person holds where they work now.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, literal, select, union_all
from sqlalchemy.orm import lazyload, load_only

from advocacy.access import scoped
from advocacy.actor import Actor
from advocacy.audit.service import record
from advocacy.extensions import db
from advocacy.intake.models import Case, CaseStatus, Danger, IntakeDraft, ProtocolStep, ProtocolStepKey
from advocacy.intake.service.cases import CASE_ROLES

#: How many of each the home page lists; the case list and the intakes page have the rest.
HOME_LIMIT = 10

#: The order of the danger levels on the home page: what needs acting on first.
DANGER_ORDER = (Danger.HIGH, Danger.UNSCREENED, Danger.STANDARD)


@dataclass
class HomeCase:
    case: Case
    open_steps: list[ProtocolStepKey] = field(default_factory=list)


def _acting(actor: Actor) -> list[int]:
    """The acting agency, when the actor works with cases there; else nothing."""
    if not actor.acts_as(*CASE_ROLES):
        return []
    return [actor.agency_id]


def my_open_cases(actor: Actor, limit: int = HOME_LIMIT) -> list[HomeCase]:
    """The actor's own open cases in the acting agency, high danger first, then not
    screened yet, then the rest, each newest first; with their open protocol steps.

    Audited as a look at the case list (the panel shows the cases' aliases).
    """
    agencies = _acting(actor)
    if not agencies or actor.user_id is None:
        return []
    levels = []
    for rank, danger in enumerate(DANGER_ORDER):
        level = (
            scoped(actor, select(Case.id, Case.opened_at), Case.agency_id, *CASE_ROLES)
            .where(
                Case.agency_id.in_(agencies),
                Case.owner_id == actor.user_id,
                Case.status == CaseStatus.OPEN,
                Case.danger == danger,
            )
            .order_by(Case.opened_at.desc(), Case.id.desc())
            .limit(limit)
            .subquery()
        )
        levels.append(select(level.c.id, level.c.opened_at, literal(rank).label("rank")))
    ranked = union_all(*levels).subquery()
    top = (
        select(ranked.c.id, ranked.c.rank)
        .order_by(ranked.c.rank, ranked.c.opened_at.desc(), ranked.c.id.desc())
        .limit(limit)
        .subquery()
    )
    rows = db.session.execute(
        select(Case, ProtocolStep.step, top.c.rank)
        .join(top, top.c.id == Case.id)
        .outerjoin(ProtocolStep, and_(ProtocolStep.case_id == Case.id, ProtocolStep.done_at.is_(None)))
        .options(
            lazyload(Case.owner),  # the actor's own: not joined again
            # No contact details are shown: they are not even decrypted.
            load_only(
                Case.id, Case.agency_id, Case.alias, Case.danger, Case.opened_at, Case.last_screened_at
            ),
        )
        .order_by(top.c.rank, Case.opened_at.desc(), Case.id.desc(), ProtocolStep.id)
    ).all()
    found: dict[int, HomeCase] = {}
    for case, step, _rank in rows:
        entry = found.setdefault(case.id, HomeCase(case))
        if step is not None:
            entry.open_steps.append(ProtocolStepKey(step))
    if found:
        record(actor, "case.home", "case", agency_id=agencies[0])
    return list(found.values())


def my_unfinished_intakes(actor: Actor, limit: int = HOME_LIMIT) -> list[IntakeDraft]:
    """The actor's own intakes in progress in the acting agency, latest first (on the
    owner's index: drafts are few, and purged after some days)."""
    agencies = _acting(actor)
    if not agencies or actor.user_id is None:
        return []
    return list(
        db.session.scalars(
            scoped(actor, select(IntakeDraft), IntakeDraft.agency_id, *CASE_ROLES)
            .where(IntakeDraft.agency_id.in_(agencies), IntakeDraft.owner_id == actor.user_id)
            .options(
                lazyload("*"),
                load_only(IntakeDraft.id, IntakeDraft.alias, IntakeDraft.step, IntakeDraft.updated_at),
            )
            .order_by(IntakeDraft.updated_at.desc(), IntakeDraft.id.desc())
            .limit(limit)
        )
    )
