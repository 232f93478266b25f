"""Risk screening: the instruments an agency can screen with, screenings and
their history, and the high-danger protocol a screened-in case sets in motion.

What may leave the case page about a screening is :class:`ScreeningResult`
(screened in or not, instrument, level, date), built by
:func:`screening_result`.  It has no field for answers, so no later
serializer (hand-off, reports) can pick them up by accident.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from advocacy import clock
from advocacy.actor import Actor
from advocacy.audit.service import record
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db
from advocacy.intake import instrument_format
from advocacy.intake import instruments as inst
from advocacy.intake.models import (
    Case,
    Danger,
    ProtocolOutcome,
    ProtocolStep,
    ProtocolStepKey,
    RiskInstrument,
    RiskScreening,
)
from advocacy.intake.service.cases import owner_name_only
from advocacy.uow import savepoint

# --- instruments ------------------------------------------------------------------------------


def available_instruments(agency_id: int) -> list[inst.Instrument]:
    """What an advocate of the agency can screen with: shipped first, then the agency's own."""
    own = db.session.scalars(
        select(RiskInstrument)
        .where(RiskInstrument.agency_id == agency_id, RiskInstrument.active.is_(True))
        .order_by(RiskInstrument.key, RiskInstrument.added_at)
    )
    return list(instrument_format.shipped().values()) + [instrument_of(row) for row in own]


@lru_cache(maxsize=64)
def _parsed(definition: str) -> inst.Instrument:
    """An accepted file parses the same every time: once per process, not once per request."""
    return instrument_format.parse(definition)


def instrument_of(row: RiskInstrument) -> inst.Instrument:
    return replace(_parsed(row.definition), agency_instrument_id=row.id)


def get_instrument(ref: str, agency_id: int) -> inst.Instrument:
    """An instrument by ``key@version`` (inactive ones too: history still needs them)."""
    shipped = instrument_format.shipped().get(ref)
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
        raise NotFound()
    return instrument_of(row)


def agency_instruments(agency_id: int) -> list[RiskInstrument]:
    return list(
        db.session.scalars(
            select(RiskInstrument)
            .where(RiskInstrument.agency_id == agency_id)
            .order_by(RiskInstrument.added_at)
        )
    )


def add_instrument(actor: Actor, agency_id: int, raw: bytes) -> RiskInstrument:
    """Accept an instrument file for the agency, or raise :class:`InstrumentError`."""
    instrument = instrument_format.parse(raw)
    if instrument.key in instrument_format.shipped_keys():
        raise instrument_format.InstrumentError(
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
        raise instrument_format.InstrumentError(
            "version",
            _("Your agency already has version %(version)s of this instrument.", version=instrument.version),
        )
    row = RiskInstrument(
        agency_id=agency_id,
        key=instrument.key,
        version=instrument.version,
        definition=raw.decode("utf-8"),
        sha256=instrument.sha256,
        added_by_id=actor.user_id,
    )
    try:
        with savepoint():
            db.session.add(row)
    except IntegrityError:  # the same version uploaded twice at the same moment
        raise instrument_format.InstrumentError(
            "version",
            _("Your agency already has version %(version)s of this instrument.", version=instrument.version),
        ) from None
    record(actor, "instrument.added", "risk_instrument", row.id, agency_id=agency_id)
    return row


def set_instrument_active(actor: Actor, agency_id: int, instrument_id: int, active: bool) -> None:
    row = db.session.scalar(
        select(RiskInstrument).where(
            RiskInstrument.id == instrument_id, RiskInstrument.agency_id == agency_id
        )
    )
    if row is None:
        raise NotFound()
    row.active = active
    record(
        actor,
        "instrument.enabled" if active else "instrument.disabled",
        "risk_instrument",
        row.id,
        agency_id=agency_id,
    )
    db.session.flush()


# --- screening --------------------------------------------------------------------------------


def store_screening(
    actor: Actor,
    case: Case,
    instrument: inst.Instrument,
    answers: Mapping[str, str],
    *,
    judgment_reason: str | None,
) -> RiskScreening:
    """Record a screening and let the case's danger follow it (intake and re-screen alike)."""
    answers = inst.check_answers(instrument, answers)
    outcome = inst.evaluate(instrument, answers, judgment=bool(judgment_reason))
    now = clock.now()
    danger_before = case.danger
    screening = RiskScreening(
        case_id=case.id,
        agency_id=case.agency_id,
        instrument_key=instrument.key,
        instrument_version=instrument.version,
        screened_at=now,
        screened_by_id=actor.user_id,
        answers=json.dumps(answers, sort_keys=True),
        score=outcome.score,
        level=outcome.level.key,
        screened_in=outcome.screened_in,
        by_judgment=outcome.by_judgment,
        judgment_reason=judgment_reason,
    )
    db.session.add(screening)
    db.session.flush()
    # Only the newest lower result can wait for review; any new screening replaces it.
    db.session.execute(
        update(RiskScreening)
        .where(
            RiskScreening.case_id == case.id,
            RiskScreening.lower_pending.is_(True),
            RiskScreening.id != screening.id,
        )
        .values(lower_pending=False)
    )
    if outcome.screened_in:
        case.danger = Danger.HIGH.value
    elif case.danger == Danger.HIGH.value:
        # Danger is never lowered silently: "High danger" and its open steps
        # stay until an advocate confirms the lower result (confirm_lowering).
        screening.lower_pending = True
    else:
        case.danger = Danger.STANDARD.value
    case.last_screened_at = now
    if outcome.screened_in:
        for step in ProtocolStepKey:
            db.session.add(
                ProtocolStep(
                    case_id=case.id, agency_id=case.agency_id, screening_id=screening.id, step=step.value
                )
            )
    record(actor, "case.screened", "case", case.id, agency_id=case.agency_id)
    if screening.lower_pending:
        record(actor, "case.danger.lower_pending", "case", case.id, agency_id=case.agency_id)
    if case.danger != danger_before:
        _replan_reminders(actor, case)
    return screening


def _replan_reminders(actor: Actor, case: Case) -> None:
    """The case's danger chose its court dates' reminder schedule (denser when
    high): plan them afresh in this same unit of work, so a case screened in
    gets the extra reminders at once and a saved screening is never left with
    reminders on the old schedule.  A lower result pending review changes no
    danger, so it drops nothing.  (Imported here: the court domain builds on
    intake, not the other way round.)"""
    from advocacy.court.service.reminders import replan_case

    db.session.flush()
    replan_case(actor, case)


def pending_lowering(case: Case) -> RiskScreening | None:
    """The lower result that waits for an advocate's review, if any."""
    if case.danger != Danger.HIGH.value:
        return None
    return db.session.scalar(
        select(RiskScreening).where(RiskScreening.case_id == case.id, RiskScreening.lower_pending.is_(True))
    )


#: A reason for lowering is a sentence, not an essay.
MAX_LOWERING_REASON = 500


def confirm_lowering(actor: Actor, case: Case, reason: str) -> RiskScreening:
    """An advocate confirms the pending lower result: the case's danger follows it.

    The reason is kept (encrypted) on the screening with who and when, and the
    change is audited.  Open protocol steps stay as they are: what was done
    and what was not remains on the record.
    """
    pending = pending_lowering(case)
    if pending is None:
        raise Refused(_("No lower result is waiting for review."))
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_("Say why the danger is lower now."), "reason")
    if len(reason) > MAX_LOWERING_REASON:
        raise Refused(_("Keep the reason under %(num)d characters.", num=MAX_LOWERING_REASON), "reason")
    pending.lower_pending = False
    pending.lowered_at = clock.now()
    pending.lowered_by_id = actor.user_id
    pending.lowering_reason = reason
    case.danger = Danger.STANDARD.value
    case.updated_at = pending.lowered_at
    record(actor, "case.danger.lowered", "case", case.id, agency_id=case.agency_id)
    _replan_reminders(actor, case)
    return pending


def screen_case(
    actor: Actor,
    case: Case,
    instrument: inst.Instrument,
    answers: Mapping[str, str],
    *,
    judgment_reason: str | None = None,
) -> RiskScreening:
    """Record a (re-)screening; the case's danger follows the newest one."""
    screening = store_screening(actor, case, instrument, answers, judgment_reason=judgment_reason)
    case.updated_at = screening.screened_at
    db.session.flush()
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


@cache
def _history_statement() -> Any:
    """Built once (every case page asks), the case bound per call."""
    return (
        select(RiskScreening)
        .options(*owner_name_only(RiskScreening.screened_by))  # not one query per advocate
        .where(RiskScreening.case_id == bindparam("case_id"))
        .order_by(RiskScreening.screened_at, RiskScreening.id)
    )


def risk_history(case: Case) -> list[ScreeningEntry]:
    """Every screening of the case, newest first.  Raw answers: the case page only."""
    rows = list(db.session.scalars(_history_statement(), {"case_id": case.id}))
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
    rows = db.session.scalars(
        select(ProtocolStep)
        .options(*owner_name_only(ProtocolStep.done_by))  # not one query per advocate
        .where(ProtocolStep.screening_id == latest)
    )
    return sorted(rows, key=lambda s: order.get(s.step, 99))


def complete(actor: Actor, step: ProtocolStep, outcome: ProtocolOutcome, *, note: str | None = None) -> None:
    """Record how a step went (the one way a step is done, by hand or by the app)."""
    step.outcome = outcome
    step.note = note or None
    step.done_at = clock.now()
    step.done_by_id = actor.user_id


def complete_step(
    actor: Actor,
    case: Case,
    step_id: int,
    outcome: ProtocolOutcome,
    *,
    note: str | None = None,
) -> ProtocolStep:
    step = db.session.scalar(
        select(ProtocolStep).where(ProtocolStep.id == step_id, ProtocolStep.case_id == case.id)
    )
    if step is None:
        raise NotFound()
    complete(actor, step, outcome, note=note)
    record(actor, f"case.protocol.{step.step}", "case", case.id, agency_id=case.agency_id)
    db.session.flush()
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
