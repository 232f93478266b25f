"""Intakes in progress: a draft saved at every step, until it opens a case.

A draft is encrypted JSON (the model's type), written at every step and by
the page's autosave, so a person who is signed out finds it again under
"Unfinished intakes" and a colleague of the agency can finish it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

from advocacy import clock
from advocacy.access import get_scoped, scoped
from advocacy.actor import Actor
from advocacy.audit.service import record
from advocacy.auth.models import User
from advocacy.errors import NotFound
from advocacy.extensions import db
from advocacy.intake.models import DRAFT_DAYS, Case, IntakeDraft, IntakeStep, PlacementKind
from advocacy.intake.service.cases import CASE_FIELDS, CASE_ROLES, PER_PAGE, open_case
from advocacy.intake.service.placements import add_placement, attach_referral, household_from
from advocacy.intake.service.screening import get_instrument, store_screening
from advocacy.shelters.service import Household, own_referral
from advocacy.uow import savepoint

#: The intake's steps, in order.  Each has a form in :mod:`advocacy.intake.forms`.
STEPS = tuple(step.value for step in IntakeStep)


class AlreadyFinished(Exception):
    """The draft became a case in another request (a double click on "Open the case")."""


class NotReady(Exception):
    """A draft cannot become a case yet: ``step`` still needs answers."""

    def __init__(self, step: str) -> None:
        self.step = step
        super().__init__(step)


def start_draft(actor: Actor, *, referral_id: int | None = None) -> IntakeDraft:
    """A new draft of the acting agency, owned by the advocate who starts it.

    ``referral_id``: the intake starts from a request made on the network board
    (beds already held); the case it opens gets that referral.
    """
    agency_id = actor.agency_for(*CASE_ROLES)
    data: dict[str, Any] = {}
    if referral_id is not None:
        if own_referral(actor, referral_id).from_agency_id != agency_id:
            raise NotFound()
        data["referral_id"] = referral_id
    now = clock.now()
    draft = IntakeDraft(
        agency_id=agency_id,
        owner_id=actor.user_id,
        data=json.dumps(data),
        step=STEPS[0],
        created_at=now,
        updated_at=now,
    )
    db.session.add(draft)
    db.session.flush()
    record(actor, "intake.started", "intake_draft", draft.id, agency_id=agency_id)
    return draft


def get_draft(actor: Actor, draft_id: int) -> IntakeDraft:
    return get_scoped(actor, IntakeDraft, draft_id, *CASE_ROLES)


def view_draft(actor: Actor, draft: IntakeDraft) -> None:
    """A step page shows what the person said: that is a view of their data."""
    record(actor, "intake.viewed", "intake_draft", draft.id, agency_id=draft.agency_id)


def draft_data(draft: IntakeDraft) -> dict[str, Any]:
    return json.loads(draft.data or "{}")


class DraftRow(NamedTuple):
    """An unfinished intake as its list shows it: five columns, not the draft (whose
    answers are not decrypted to list it) nor its owner's account."""

    id: int
    alias: str | None
    step: IntakeStep
    updated_at: datetime
    owner_name: str


def unfinished_drafts(actor: Actor) -> list[DraftRow]:
    """The agency's intakes in progress, so that a colleague can finish one too."""
    return [
        DraftRow(*row)
        for row in db.session.execute(
            scoped(
                actor,
                select(
                    IntakeDraft.id,
                    IntakeDraft.alias,
                    IntakeDraft.step,
                    IntakeDraft.updated_at,
                    User.display_name,
                ).join(User, User.id == IntakeDraft.owner_id),
                IntakeDraft.agency_id,
                *CASE_ROLES,
            )
            .order_by(IntakeDraft.updated_at.desc(), IntakeDraft.id.desc())
            .limit(PER_PAGE)
        )
    ]


def save_step(
    actor: Actor,
    draft: IntakeDraft,
    step: str,
    values: Mapping[str, Any],
    *,
    complete: bool,
    background: bool = False,
) -> None:
    """Merge a step's valid values into the draft.

    ``complete`` marks the step as answered in full (its form validated);
    an autosave or a step with errors saves what is valid and leaves the mark
    as it was, so a field with an error keeps its last good value.
    :class:`AlreadyFinished` when another request finished or deleted the
    draft meanwhile (nothing is written then).
    """
    if step not in STEPS:
        raise NotFound()
    data = draft_data(draft)
    data.setdefault("steps", {}).setdefault(step, {}).update(values)
    done = set(data.get("done", []))
    if complete:
        done.add(step)
    data["done"] = [s for s in STEPS if s in done]
    try:
        with savepoint():
            draft.data = json.dumps(data, ensure_ascii=False, sort_keys=True)
            if "alias" in values:
                draft.alias = (values["alias"] or "").strip() or None
            draft.step = step
            draft.updated_at = clock.now()
            db.session.flush()  # the draft's UPDATE matches no row if it is gone
    except StaleDataError:
        raise AlreadyFinished() from None
    record(
        actor,
        "intake.autosaved" if background else "intake.saved",
        "intake_draft",
        draft.id,
        agency_id=draft.agency_id,
    )


def step_values(draft: IntakeDraft, step: str) -> dict[str, Any]:
    return dict(draft_data(draft).get("steps", {}).get(step, {}))


def steps_done(draft: IntakeDraft) -> list[str]:
    return list(draft_data(draft).get("done", []))


def next_step(step: str) -> str | None:
    i = STEPS.index(step)
    return STEPS[i + 1] if i + 1 < len(STEPS) else None


def discard_draft(actor: Actor, draft: IntakeDraft) -> None:
    record(actor, "intake.discarded", "intake_draft", draft.id, agency_id=draft.agency_id)
    db.session.delete(draft)
    db.session.flush()


def purge_stale_drafts(actor: Actor, *, days: int = DRAFT_DAYS) -> int:
    """Delete the drafts nobody has changed for ``days``; returns how many.

    Deployment-wide maintenance (``flask intake purge-drafts``): each deletion
    is audited in the draft's own agency.
    """
    cutoff = clock.now() - timedelta(days=days)
    stale = db.session.execute(
        select(IntakeDraft.id, IntakeDraft.agency_id).where(IntakeDraft.updated_at < cutoff)
    ).all()
    for draft_id, agency_id in stale:
        record(actor, "intake.expired", "intake_draft", draft_id, agency_id=agency_id)
    if stale:
        db.session.execute(delete(IntakeDraft).where(IntakeDraft.id.in_([d for d, _a in stale])))
    return len(stale)


# --- from a draft to a case -----------------------------------------------------------------------


def draft_referral_id(draft: IntakeDraft) -> int | None:
    """The referral the intake was started from on the network board, if any."""
    value = draft_data(draft).get("referral_id")
    return int(value) if value is not None else None


def draft_household(draft: IntakeDraft) -> Household:
    steps = draft_data(draft).get("steps", {})
    return household_from({**steps.get("person", {}), **steps.get("household", {}), **steps.get("needs", {})})


def judgment_reason(screen: Mapping[str, Any]) -> str | None:
    """The advocate's reason from a draft's screen step: it counts only with the judgment box ticked."""
    return (screen.get("judgment_reason") or None) if screen.get("judgment") else None


def finish_draft(actor: Actor, draft: IntakeDraft) -> Case:
    """Open the case the draft describes, with its screening, as one part of the
    caller's transaction (undone alone when it cannot finish).

    The bed, if one is wanted, is requested afterwards
    (:func:`~advocacy.intake.service.placements.place_referral`): a request
    holds beds at once, so it is made only for a case that exists; when it is
    refused, the case stays open.
    """
    try:
        data = draft_data(draft)
        draft_id, agency_id, owner_id = draft.id, draft.agency_id, draft.owner_id
    except ObjectDeletedError:  # finished by another request since it was read
        raise AlreadyFinished() from None
    done = set(data.get("done", []))
    for step in STEPS[:-1]:
        if step not in done:
            raise NotReady(step)
    with savepoint():
        # Two requests finishing the same draft (a double click) must not open two
        # cases: only the one whose DELETE removes the row goes on.  On PostgreSQL
        # the second DELETE waits for the first to commit and then finds nothing.
        removed = db.session.execute(
            delete(IntakeDraft).where(IntakeDraft.id == draft_id).execution_options(synchronize_session=False)
        ).rowcount
        if removed != 1:
            raise AlreadyFinished()
        steps = data["steps"]
        values: dict[str, Any] = {}
        for step in ("person", "contact", "household", "needs", "consent"):
            values.update({k: v for k, v in steps[step].items() if k in CASE_FIELDS})
        alias = values.pop("alias")
        case = open_case(actor, agency_id, owner_id, alias, **values)
        screen = steps["screen"]
        if screen.get("instrument"):
            instrument = get_instrument(screen["instrument"], agency_id)
            store_screening(
                actor, case, instrument, screen.get("answers", {}), judgment_reason=judgment_reason(screen)
            )
        bed = steps.get("placement", {}).get("bed")
        if data.get("referral_id") is not None:
            attach_referral(actor, case, int(data["referral_id"]))
        elif bed in (PlacementKind.NO_BED_NEEDED.value, PlacementKind.LATER.value):
            add_placement(actor, case, bed)
        record(actor, "intake.finished", "intake_draft", draft_id, agency_id=agency_id)
    return case
