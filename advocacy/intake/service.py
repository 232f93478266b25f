"""Cases, intake drafts, risk screening and the high-danger protocol.

Views call these functions and render what they return; tests call them
directly.  Every read of a case goes through :mod:`advocacy.access` (another
agency's case is a 404) and every view or change of a case writes an audit
event, in the same transaction as the change.

What may leave the case page about a screening is :class:`ScreeningResult`
(screened in or not, instrument, level, date), built by
:func:`screening_result`.  It has no field for answers, so no later
serializer (hand-off, reports) can pick them up by accident.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, joinedload, load_only
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

from advocacy.access import agency_ids, get_scoped_or_404, scoped
from advocacy.audit.service import record
from advocacy.auth.models import Membership, Role, User
from advocacy.extensions import db, is_postgresql
from advocacy.intake import instruments as inst
from advocacy.intake.models import (
    DRAFT_DAYS,
    AccessNeed,
    Case,
    CaseStatus,
    Danger,
    IntakeDraft,
    Placement,
    PlacementKind,
    ProtocolOutcome,
    ProtocolStep,
    ProtocolStepKey,
    RiskInstrument,
    RiskScreening,
)
from advocacy.shelters.models import Referral, ReferralStatus, Shelter
from advocacy.shelters.service import Household, Refused, request_referral
from advocacy.types import lookup_hash, utcnow

PHONE_PURPOSE = "case.phone"
NAME_PURPOSE = "case.name"
CASE_ROLES = (Role.ADVOCATE, Role.ADMIN)
PER_PAGE = 50

#: The intake's steps, in order.  Each has a form in :mod:`advocacy.intake.forms`.
STEPS = ("person", "contact", "household", "needs", "screen", "consent", "placement")

#: Case fields that are personal and therefore only ever stored encrypted (the
#: model's types) and never put in a log, an audit event or a URL.
CASE_FIELDS = (
    "alias",
    "language",
    "interpreter_needed",
    "referral_source",
    "phone",
    "safe_to_text",
    "safe_to_call",
    "safe_voicemail",
    "code_word",
    "contact_note",
    "adults",
    "children_ages",
    "oldest_boy_age",
    "pets",
    "pets_note",
    "access_needs",
    "access_note",
    "cultural_program",
    "cultural_note",
    "consent_sms",
    "consent_share",
)


class AlreadyFinished(Exception):
    """The draft became a case in another request (a double click on "Open the case")."""


class NotReady(Exception):
    """A draft cannot become a case yet: ``step`` still needs answers."""

    def __init__(self, step: str) -> None:
        self.step = step
        super().__init__(step)


# --- cases ------------------------------------------------------------------------------------


def _hashes(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "alias" in values:
        out["name_hash"] = lookup_hash(values["alias"], NAME_PURPOSE) if values["alias"] else None
    if "phone" in values:
        out["phone_hash"] = lookup_hash(values["phone"], PHONE_PURPOSE) if values["phone"] else None
    return out


def open_case(
    agency_id: int,
    owner_id: int,
    alias: str,
    *,
    phone: str | None = None,
    language: str = "en",
    **details: Any,
) -> Case:
    """A new open case (flushed, not committed): the caller's transaction decides."""
    unknown = set(details) - set(CASE_FIELDS)
    if unknown:
        raise TypeError(f"not case fields: {sorted(unknown)}")
    values = {"alias": alias, "phone": phone or None, "language": language, **details}
    case = Case(agency_id=agency_id, owner_id=owner_id, **values, **_hashes(values))
    db.session.add(case)
    db.session.flush()
    record("case.created", "case", case.id, agency_id=agency_id, actor_id=owner_id)
    return case


def view_case(case_id: int) -> Case:
    case = get_scoped_or_404(Case, case_id, *CASE_ROLES)
    record("case.view", "case", case.id, agency_id=case.agency_id)
    db.session.commit()
    return case


def case_or_404(case_id: int) -> Case:
    """The case, for a change: the change itself is audited by its own function."""
    return get_scoped_or_404(Case, case_id, *CASE_ROLES)


def update_case(case: Case, values: Mapping[str, Any], *, section: str, actor_id: int | None = None) -> None:
    unknown = set(values) - set(CASE_FIELDS)
    if unknown:
        raise TypeError(f"not case fields: {sorted(unknown)}")
    for name, value in {**values, **_hashes(values)}.items():
        setattr(case, name, value)
    case.updated_at = utcnow()
    record(f"case.updated.{section}", "case", case.id, agency_id=case.agency_id, actor_id=actor_id)
    db.session.commit()


def close_case(case: Case, reason: str, *, actor_id: int | None = None) -> None:
    if case.status == CaseStatus.CLOSED.value:
        raise Refused(_("This case is already closed."))
    case.status = CaseStatus.CLOSED.value
    case.close_reason = reason
    case.closed_at = case.updated_at = utcnow()
    record("case.closed", "case", case.id, agency_id=case.agency_id, actor_id=actor_id)
    db.session.commit()


def reopen_case(case: Case, *, actor_id: int | None = None) -> None:
    if case.status == CaseStatus.OPEN.value:
        raise Refused(_("This case is already open."))
    case.status = CaseStatus.OPEN.value
    case.close_reason = None
    case.closed_at = None
    case.updated_at = utcnow()
    record("case.reopened", "case", case.id, agency_id=case.agency_id, actor_id=actor_id)
    db.session.commit()


def case_owners(agency_id: int) -> list[User]:
    """Who may own a case of the agency: its active advocates and admins."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.agency_id == agency_id,
                Membership.role.in_([r.value for r in CASE_ROLES]),
                User.active.is_(True),
            )
            .distinct()
            .order_by(User.display_name, User.id)
        )
    )


def reassign_case(case: Case, owner_id: int, *, actor_id: int | None = None) -> None:
    if owner_id not in {u.id for u in case_owners(case.agency_id)}:
        raise Refused(_("Choose an advocate of this agency."))
    case.owner_id = owner_id
    case.updated_at = utcnow()
    record("case.reassigned", "case", case.id, agency_id=case.agency_id, actor_id=actor_id)
    db.session.commit()


# --- the case list ----------------------------------------------------------------------------

_NUMBER = re.compile(r"^\s*(?:(\d{4})\s*-\s*)?0*(\d{1,12})\s*$")


def parse_case_number(text: str) -> tuple[int | None, int] | None:
    """``2026-000123``, ``000123`` or ``123``: (year or None, id); None if not a number."""
    match = _NUMBER.match(text)
    if not match:
        return None
    year, number = match.groups()
    if year and not 1970 <= int(year) <= 9998:
        return None
    return (int(year) if year else None, int(number))


@dataclass(frozen=True)
class CaseQuery:
    name: str = ""
    number: str = ""
    status: str = ""
    danger: str = ""
    owner: str = ""  # "", "me" or a user id
    page: int = 1

    @property
    def searching(self) -> bool:
        return bool(self.name or self.number or self.status or self.danger or self.owner)


@dataclass(frozen=True)
class CasePage:
    cases: list[Case]
    total: int
    page: int
    pages: int
    per_page: int


def search_cases(query: CaseQuery, *, per_page: int = PER_PAGE) -> CasePage:
    """The agency's cases matching ``query``, newest first, one page at a time.

    A name is found through its keyed hash (exact match after normalizing case
    and spaces): names are never decrypted to be compared, so the search costs
    one index look-up at any number of cases.  Each filter has an index that
    starts with the agency.
    """
    record("case.search" if query.searching else "case.list", "case", agency_id=user_agency())
    # Audit first: a commit expires loaded objects, and reloading each row
    # afterwards would cost one query per case.
    db.session.commit()
    stmt = scoped(select(Case), Case.agency_id, *CASE_ROLES)
    if query.name:
        stmt = stmt.where(Case.name_hash == lookup_hash(query.name, NAME_PURPOSE))
    if query.number:
        parsed = parse_case_number(query.number)
        if parsed is None:
            return CasePage([], 0, 1, 1, per_page)
        year, case_id = parsed
        stmt = stmt.where(Case.id == case_id)
        if year is not None:
            stmt = stmt.where(
                Case.opened_at >= datetime(year, 1, 1, tzinfo=UTC),
                Case.opened_at < datetime(year + 1, 1, 1, tzinfo=UTC),
            )
    if query.status:
        stmt = stmt.where(Case.status == query.status)
    if query.danger:
        stmt = stmt.where(Case.danger == query.danger)
    if query.owner:
        owner_id = current_user.id if query.owner == "me" else int(query.owner)
        stmt = stmt.where(Case.owner_id == owner_id)
    total = db.session.scalar(stmt.with_only_columns(func.count()).order_by(None)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, query.page), pages)
    order = (Case.opened_at.desc(), Case.id.desc())
    # The page's ids first, from the index alone (a deep OFFSET skips index
    # entries, not table rows), then those 50 rows.
    ids = list(
        db.session.scalars(
            stmt.with_only_columns(Case.id).order_by(*order).offset((page - 1) * per_page).limit(per_page)
        )
    )
    cases = (
        list(
            db.session.scalars(
                # The list shows no contact details: do not decrypt them per row.
                scoped(select(Case), Case.agency_id, *CASE_ROLES)
                .where(Case.id.in_(ids))
                .options(
                    # The owner's name only, not their whole account row.
                    joinedload(Case.owner).load_only(User.id, User.display_name),
                    load_only(
                        Case.id,
                        Case.agency_id,
                        Case.owner_id,
                        Case.alias,
                        Case.language,
                        Case.status,
                        Case.danger,
                        Case.opened_at,
                        Case.last_screened_at,
                    ),
                )
                .order_by(*order)
            )
        )
        if ids
        else []
    )
    return CasePage(cases, total, page, pages, per_page)


# --- drafts -----------------------------------------------------------------------------------


def start_draft(*, agency_id: int, owner_id: int) -> IntakeDraft:
    now = utcnow()
    draft = IntakeDraft(
        agency_id=agency_id, owner_id=owner_id, data="{}", step=STEPS[0], created_at=now, updated_at=now
    )
    db.session.add(draft)
    db.session.flush()
    record("intake.started", "intake_draft", draft.id, agency_id=agency_id, actor_id=owner_id)
    db.session.commit()
    return draft


def draft_or_404(draft_id: int) -> IntakeDraft:
    return get_scoped_or_404(IntakeDraft, draft_id, *CASE_ROLES)


def view_draft(draft: IntakeDraft) -> None:
    """A step page shows what the person said: that is a view of their data."""
    record("intake.viewed", "intake_draft", draft.id, agency_id=draft.agency_id)
    db.session.commit()


def draft_data(draft: IntakeDraft) -> dict[str, Any]:
    return json.loads(draft.data or "{}")


def unfinished_drafts() -> list[IntakeDraft]:
    """The agency's intakes in progress, so that a colleague can finish one too."""
    return list(
        db.session.scalars(
            scoped(select(IntakeDraft).options(defer(IntakeDraft.data)), IntakeDraft.agency_id, *CASE_ROLES)
            .order_by(IntakeDraft.updated_at.desc())
            .limit(PER_PAGE)
        )
    )


def save_step(
    draft: IntakeDraft,
    step: str,
    values: Mapping[str, Any],
    *,
    complete: bool,
    actor_id: int | None = None,
    background: bool = False,
) -> None:
    """Merge a step's valid values into the draft and commit.

    ``complete`` marks the step as answered in full (its form validated);
    an autosave or a step with errors saves what is valid and leaves the mark
    as it was, so a field with an error keeps its last good value.
    """
    if step not in STEPS:
        abort(404)
    data = draft_data(draft)
    data.setdefault("steps", {}).setdefault(step, {}).update(values)
    done = set(data.get("done", []))
    if complete:
        done.add(step)
    data["done"] = [s for s in STEPS if s in done]
    draft.data = json.dumps(data, ensure_ascii=False, sort_keys=True)
    draft.step = step
    draft.updated_at = utcnow()
    try:
        db.session.flush()  # the draft's UPDATE matches no row if it is gone
    except StaleDataError:
        # The draft was finished or deleted in another request meanwhile.
        db.session.rollback()
        raise AlreadyFinished() from None
    record(
        "intake.autosaved" if background else "intake.saved",
        "intake_draft",
        draft.id,
        agency_id=draft.agency_id,
        actor_id=actor_id,
    )
    db.session.commit()


def step_values(draft: IntakeDraft, step: str) -> dict[str, Any]:
    return dict(draft_data(draft).get("steps", {}).get(step, {}))


def steps_done(draft: IntakeDraft) -> list[str]:
    return list(draft_data(draft).get("done", []))


def next_step(step: str) -> str | None:
    i = STEPS.index(step)
    return STEPS[i + 1] if i + 1 < len(STEPS) else None


def discard_draft(draft: IntakeDraft, *, actor_id: int | None = None) -> None:
    record("intake.discarded", "intake_draft", draft.id, agency_id=draft.agency_id, actor_id=actor_id)
    db.session.delete(draft)
    db.session.commit()


def purge_stale_drafts(*, days: int = DRAFT_DAYS, now: datetime | None = None) -> int:
    """Delete the drafts nobody has changed for ``days``; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    stale = db.session.execute(
        select(IntakeDraft.id, IntakeDraft.agency_id).where(IntakeDraft.updated_at < cutoff)
    ).all()
    for draft_id, agency_id in stale:
        record("intake.expired", "intake_draft", draft_id, agency_id=agency_id)
    if stale:
        db.session.execute(delete(IntakeDraft).where(IntakeDraft.id.in_([d for d, _a in stale])))
    db.session.commit()
    return len(stale)


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


def draft_household(draft: IntakeDraft) -> Household:
    steps = draft_data(draft).get("steps", {})
    return household_from({**steps.get("person", {}), **steps.get("household", {}), **steps.get("needs", {})})


def judgment_reason(screen: Mapping[str, Any]) -> str | None:
    """The advocate's reason from a draft's screen step: it counts only with the judgment box ticked."""
    return (screen.get("judgment_reason") or None) if screen.get("judgment") else None


def finish_draft(draft: IntakeDraft, *, actor_id: int) -> Case:
    """Open the case the draft describes, with its screening, in one transaction.

    The bed, if one is wanted, is requested afterwards (:func:`place_referral`):
    a request holds beds at once, so it is made only for a case that exists.
    """
    try:
        data = draft_data(draft)
        draft_id, agency_id, owner_id = draft.id, draft.agency_id, draft.owner_id
    except ObjectDeletedError:  # finished by another request since it was read
        db.session.rollback()
        raise AlreadyFinished() from None
    done = set(data.get("done", []))
    for step in STEPS[:-1]:
        if step not in done:
            raise NotReady(step)
    # Two requests finishing the same draft (a double click) must not open two
    # cases: only the one whose DELETE removes the row goes on.  On PostgreSQL
    # the second DELETE waits for the first to commit and then finds nothing.
    removed = db.session.execute(
        delete(IntakeDraft).where(IntakeDraft.id == draft_id).execution_options(synchronize_session=False)
    ).rowcount
    if removed != 1:
        db.session.rollback()
        raise AlreadyFinished()
    steps = data["steps"]
    values: dict[str, Any] = {}
    for step in ("person", "contact", "household", "needs", "consent"):
        values.update({k: v for k, v in steps[step].items() if k in CASE_FIELDS})
    alias = values.pop("alias")
    case = open_case(agency_id, owner_id, alias, **values)
    screen = steps["screen"]
    if screen.get("instrument"):
        instrument = get_instrument(screen["instrument"], agency_id)
        _store_screening(
            case,
            instrument,
            screen.get("answers", {}),
            judgment_reason=judgment_reason(screen),
            actor_id=actor_id,
        )
    bed = steps.get("placement", {}).get("bed")
    if bed in (PlacementKind.NO_BED_NEEDED.value, PlacementKind.LATER.value):
        _add_placement(case, bed, actor_id=actor_id)
    record("intake.finished", "intake_draft", draft_id, agency_id=agency_id, actor_id=actor_id)
    db.session.commit()
    return case


# --- instruments ------------------------------------------------------------------------------


def available_instruments(agency_id: int) -> list[inst.Instrument]:
    """What an advocate of the agency can screen with: shipped first, then the agency's own."""
    own = db.session.scalars(
        select(RiskInstrument)
        .where(RiskInstrument.agency_id == agency_id, RiskInstrument.active.is_(True))
        .order_by(RiskInstrument.key, RiskInstrument.added_at)
    )
    return list(inst.shipped().values()) + [instrument_of(row) for row in own]


@lru_cache(maxsize=64)
def _parsed(definition: str) -> inst.Instrument:
    """An accepted file parses the same every time: once per process, not once per request."""
    return inst.parse(definition)


def instrument_of(row: RiskInstrument) -> inst.Instrument:
    return replace(_parsed(row.definition), agency_instrument_id=row.id)


def get_instrument(ref: str, agency_id: int) -> inst.Instrument:
    """An instrument by ``key@version`` (inactive ones too: history still needs them)."""
    shipped = inst.shipped().get(ref)
    if shipped is not None:
        return shipped
    key, _sep, version = ref.partition("@")
    row = db.session.scalar(
        select(RiskInstrument).where(
            RiskInstrument.agency_id == agency_id,
            RiskInstrument.key == key,
            RiskInstrument.version == version,
        )
    )
    if row is None:
        abort(404)
    return instrument_of(row)


def agency_instruments(agency_id: int) -> list[RiskInstrument]:
    return list(
        db.session.scalars(
            select(RiskInstrument)
            .where(RiskInstrument.agency_id == agency_id)
            .order_by(RiskInstrument.added_at)
        )
    )


def add_instrument(agency_id: int, raw: bytes, *, actor_id: int | None = None) -> RiskInstrument:
    """Accept an instrument file for the agency, or raise :class:`InstrumentError`."""
    instrument = inst.parse(raw)
    if instrument.key in inst.shipped_keys():
        raise inst.InstrumentError(
            "key", _("“%(value)s” is the key of an instrument the app ships.", value=instrument.key)
        )
    exists = db.session.scalar(
        select(RiskInstrument.id).where(
            RiskInstrument.agency_id == agency_id,
            RiskInstrument.key == instrument.key,
            RiskInstrument.version == instrument.version,
        )
    )
    if exists:
        raise inst.InstrumentError(
            "version",
            _("Your agency already has version %(version)s of this instrument.", version=instrument.version),
        )
    row = RiskInstrument(
        agency_id=agency_id,
        key=instrument.key,
        version=instrument.version,
        definition=raw.decode("utf-8"),
        sha256=instrument.sha256,
        added_by_id=actor_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # the same version uploaded twice at the same moment
        raise inst.InstrumentError(
            "version",
            _("Your agency already has version %(version)s of this instrument.", version=instrument.version),
        ) from None
    record("instrument.added", "risk_instrument", row.id, agency_id=agency_id, actor_id=actor_id)
    db.session.commit()
    return row


def set_instrument_active(
    agency_id: int, instrument_id: int, active: bool, *, actor_id: int | None = None
) -> None:
    row = db.session.scalar(
        select(RiskInstrument).where(
            RiskInstrument.id == instrument_id, RiskInstrument.agency_id == agency_id
        )
    )
    if row is None:
        abort(404)
    row.active = active
    record(
        "instrument.enabled" if active else "instrument.disabled",
        "risk_instrument",
        row.id,
        agency_id=agency_id,
        actor_id=actor_id,
    )
    db.session.commit()


# --- screening --------------------------------------------------------------------------------


def _store_screening(
    case: Case,
    instrument: inst.Instrument,
    answers: Mapping[str, str],
    *,
    judgment_reason: str | None,
    actor_id: int | None,
) -> RiskScreening:
    answers = inst.check_answers(instrument, answers)
    outcome = inst.evaluate(instrument, answers, judgment=bool(judgment_reason))
    now = utcnow()
    screening = RiskScreening(
        case_id=case.id,
        agency_id=case.agency_id,
        instrument_key=instrument.key,
        instrument_version=instrument.version,
        screened_at=now,
        screened_by_id=actor_id,
        answers=json.dumps(answers, sort_keys=True),
        score=outcome.score,
        level=outcome.level.key,
        screened_in=outcome.screened_in,
        by_judgment=outcome.by_judgment,
        judgment_reason=judgment_reason,
    )
    db.session.add(screening)
    db.session.flush()
    case.danger = Danger.HIGH.value if outcome.screened_in else Danger.STANDARD.value
    case.last_screened_at = now
    if outcome.screened_in:
        for step in ProtocolStepKey:
            db.session.add(
                ProtocolStep(
                    case_id=case.id, agency_id=case.agency_id, screening_id=screening.id, step=step.value
                )
            )
    record("case.screened", "case", case.id, agency_id=case.agency_id, actor_id=actor_id)
    return screening


def screen_case(
    case: Case,
    instrument: inst.Instrument,
    answers: Mapping[str, str],
    *,
    judgment_reason: str | None = None,
    actor_id: int | None = None,
) -> RiskScreening:
    """Record a (re-)screening; the case's danger follows the newest one."""
    screening = _store_screening(
        case, instrument, answers, judgment_reason=judgment_reason, actor_id=actor_id
    )
    case.updated_at = screening.screened_at
    db.session.commit()
    return screening


@dataclass(frozen=True)
class ScreeningResult:
    """What may ever leave the case page about a screening: no answers, no reason."""

    screened_in: bool
    instrument: str
    level: str
    screened_on: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "screened_in": self.screened_in,
            "instrument": self.instrument,
            "level": self.level,
            "date": self.screened_on,
        }


def screening_result(screening: RiskScreening) -> ScreeningResult:
    return ScreeningResult(
        screened_in=screening.screened_in,
        instrument=f"{screening.instrument_key}@{screening.instrument_version}",
        level=screening.level,
        screened_on=screening.screened_at.date().isoformat(),
    )


def latest_screening(case: Case) -> RiskScreening | None:
    return db.session.scalar(
        select(RiskScreening)
        .where(RiskScreening.case_id == case.id)
        .order_by(RiskScreening.screened_at.desc(), RiskScreening.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class ScreeningEntry:
    """One screening as the case page shows it, with its trend against the one before."""

    screening: RiskScreening
    instrument: inst.Instrument
    level: inst.Level
    trend: str | None  # "higher", "lower", "same" or None for the first of its instrument
    answers: dict[str, str]


def risk_history(case: Case) -> list[ScreeningEntry]:
    """Every screening of the case, newest first.  Raw answers: the case page only."""
    rows = list(
        db.session.scalars(
            select(RiskScreening)
            .where(RiskScreening.case_id == case.id)
            .order_by(RiskScreening.screened_at, RiskScreening.id)
        )
    )
    previous: dict[str, RiskScreening] = {}
    instruments: dict[str, inst.Instrument] = {}  # one look-up per instrument, not per screening
    entries = []
    for row in rows:
        ref = f"{row.instrument_key}@{row.instrument_version}"
        if ref not in instruments:
            instruments[ref] = get_instrument(ref, case.agency_id)
        instrument = instruments[ref]
        before = previous.get(row.instrument_key)
        trend = None
        if before is not None:
            now_rank = (row.screened_in, row.score)
            then_rank = (before.screened_in, before.score)
            trend = "higher" if now_rank > then_rank else "lower" if now_rank < then_rank else "same"
        previous[row.instrument_key] = row
        level = instrument.level(row.level) or instrument.levels[-1]
        entries.append(ScreeningEntry(row, instrument, level, trend, json.loads(row.answers)))
    return list(reversed(entries))


# --- the high-danger protocol ---------------------------------------------------------------


def protocol_steps(case: Case) -> list[ProtocolStep]:
    """The steps of the newest screened-in screening, in protocol order."""
    latest = db.session.scalar(
        select(RiskScreening.id)
        .where(RiskScreening.case_id == case.id, RiskScreening.screened_in.is_(True))
        .order_by(RiskScreening.screened_at.desc(), RiskScreening.id.desc())
        .limit(1)
    )
    if latest is None:
        return []
    order = {step.value: i for i, step in enumerate(ProtocolStepKey)}
    rows = db.session.scalars(select(ProtocolStep).where(ProtocolStep.screening_id == latest))
    return sorted(rows, key=lambda s: order.get(s.step, 99))


def _complete(
    step: ProtocolStep, outcome: ProtocolOutcome, *, note: str | None, actor_id: int | None
) -> None:
    step.outcome = outcome.value
    step.note = note or None
    step.done_at = utcnow()
    step.done_by_id = actor_id


def complete_step(
    case: Case,
    step_id: int,
    outcome: ProtocolOutcome,
    *,
    note: str | None = None,
    actor_id: int | None = None,
) -> ProtocolStep:
    step = db.session.scalar(
        select(ProtocolStep).where(ProtocolStep.id == step_id, ProtocolStep.case_id == case.id)
    )
    if step is None:
        abort(404)
    _complete(step, outcome, note=note, actor_id=actor_id)
    record(f"case.protocol.{step.step}", "case", case.id, agency_id=case.agency_id, actor_id=actor_id)
    db.session.commit()
    return step


def open_protocol_steps(case_ids: Iterable[int]) -> dict[int, int]:
    """How many protocol steps each case still has open (for the list's flag)."""
    ids = list(case_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ProtocolStep.case_id, func.count())
        .where(ProtocolStep.case_id.in_(ids), ProtocolStep.done_at.is_(None))
        .group_by(ProtocolStep.case_id)
    )
    return {case_id: count for case_id, count in rows}


# --- placement --------------------------------------------------------------------------------


def case_household(case: Case) -> Household:
    return household_from({name: getattr(case, name) for name in HOUSEHOLD_FIELDS})


def _add_placement(
    case: Case, kind: str, *, referral_id: int | None = None, note: str | None = None, actor_id: int | None
) -> Placement:
    placement = Placement(
        case_id=case.id,
        agency_id=case.agency_id,
        kind=kind,
        referral_id=referral_id,
        note=note,
        created_by_id=actor_id,
    )
    db.session.add(placement)
    db.session.flush()
    record(f"case.placement.{kind}", "case", case.id, agency_id=case.agency_id, actor_id=actor_id)
    return placement


def record_placement(
    case: Case, kind: PlacementKind, *, note: str | None = None, actor_id: int | None = None
) -> None:
    if kind is PlacementKind.REFERRAL:
        raise ValueError("a referral is placed with place_referral")
    _add_placement(case, kind.value, note=note, actor_id=actor_id)
    db.session.commit()


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
        .where(
            Placement.case_id == case_id,
            Referral.status.in_([ReferralStatus.PENDING.value, ReferralStatus.ACCEPTED.value]),
        )
        .limit(1)
    )


def place_referral(case: Case, shelter_id: int, *, actor_id: int, priority: bool | None = None) -> Placement:
    """Hold beds for the case's household at a shelter of the network.

    The referral carries the household's numbers only (see
    :class:`~advocacy.shelters.service.Household`) and, for a screened-in case,
    "priority".  The placement is written in the referral's own transaction,
    after the case row is locked: two requests for one case (a double click,
    two colleagues) hold beds once, and the other is refused.  :class:`Refused`
    also when nothing fits any more; nothing changes then.
    """
    case_id, agency_id = case.id, case.agency_id
    household = case_household(case)
    wants_priority = case.high_danger if priority is None else priority
    placed: list[int] = []

    def link(referral: Referral) -> None:
        _lock_case(case_id)
        held = active_referral(case_id)
        if held is not None:
            raise Refused(
                _(
                    "This case already has beds held (referral %(token)s). Cancel that referral, or wait for "
                    "the shelter's answer, before asking another shelter.",
                    token=held.token,
                )
            )
        owner = db.session.get(Case, case_id)
        assert owner is not None
        placed.append(
            _add_placement(owner, PlacementKind.REFERRAL.value, referral_id=referral.id, actor_id=actor_id).id
        )
        if wants_priority:
            for step in protocol_steps(owner):
                if step.step == ProtocolStepKey.PRIORITY_PLACEMENT.value and step.done_at is None:
                    _complete(step, ProtocolOutcome.DONE, note=None, actor_id=actor_id)

    request_referral(
        shelter_id,
        household,
        actor_id=actor_id,
        from_agency_id=agency_id,
        priority=wants_priority,
        before_commit=link,
    )
    placement = db.session.get(Placement, placed[-1])
    assert placement is not None
    return placement


@dataclass(frozen=True)
class PlacementView:
    placement: Placement
    referral: Referral | None
    shelter_label: str | None
    shelter_region: str | None


def placements(case: Case) -> list[PlacementView]:
    """The case's placements, newest first, with the shelter's public label only."""
    rows = db.session.execute(
        select(Placement, Referral, Shelter.public_label, Shelter.region)
        .outerjoin(Referral, Referral.id == Placement.referral_id)
        .outerjoin(Shelter, Shelter.id == Referral.shelter_id)
        .where(Placement.case_id == case.id)
        .order_by(Placement.created_at.desc(), Placement.id.desc())
    ).all()
    return [PlacementView(p, r, label, region) for p, r, label, region in rows]


def user_agency(*roles: Role) -> int:
    """The agency a new case or draft belongs to: the user's first with one of ``roles``."""
    ids = agency_ids(*(roles or CASE_ROLES))
    if not ids:
        abort(403)
    return ids[0]
