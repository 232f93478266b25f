"""Safety plans: reading a case's plan, saving a version, and the agency's local numbers.

Every function takes the acting :class:`~advocacy.actor.Actor`, reads through
:mod:`advocacy.access` (another agency's plan is NotFound), flushes and never
commits, and takes its time from :mod:`advocacy.clock`.

Two colleagues editing one plan: each save names the version it started
from (``base``).  The save moves the plan's ``current_version`` from
``base`` to ``base + 1`` in one ``UPDATE ... WHERE current_version = base``:
of two saves from the same base exactly one matches a row, on either engine
and under real concurrency (PostgreSQL re-reads the row after the first
commit), and the other raises :class:`EditConflict`, carrying the version
that won so the page can show the difference.  Nothing is overwritten.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import phonenumbers
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from advocacy import clock
from advocacy.access import get_scoped, scoped
from advocacy.actor import Actor
from advocacy.audit.service import record
from advocacy.auth.models import User
from advocacy.content.library import _best_locale
from advocacy.content.packs import Pack, looks_like_address
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db
from advocacy.i18n import registry
from advocacy.intake.models import Case
from advocacy.roles import Role
from advocacy.safety import content as plan_content
from advocacy.safety.content import Content
from advocacy.safety.models import LocalNumber, PlanVersion, SafetyPlan
from advocacy.uow import savepoint

PLAN_ROLES = (Role.ADVOCATE, Role.ADMIN)
MAX_LOCAL_NUMBERS = 20


class EditConflict(Refused):
    """Someone saved the plan after this person opened it: their save was not written."""

    def __init__(self, latest: PlanVersion | None, mine: Content) -> None:
        super().__init__(
            _("Someone else saved this plan while you were writing. Nothing of yours was saved yet.")
        )
        self.latest = latest
        self.mine = mine


@dataclass(frozen=True)
class PlanState:
    """What the plan page needs: the case, its plan (None before the first save) and the newest version."""

    case: Case
    plan: SafetyPlan | None
    latest: PlanVersion | None

    @property
    def version(self) -> int:
        return self.plan.current_version if self.plan else 0

    @property
    def content(self) -> Content:
        return plan_content.loads(self.latest.content) if self.latest else plan_content.empty()


# --- reading ----------------------------------------------------------------------------------


def _case(actor: Actor, case_id: int) -> Case:
    return get_scoped(actor, Case, case_id, *PLAN_ROLES)


def _plan_of(case: Case) -> SafetyPlan | None:
    return db.session.scalar(select(SafetyPlan).where(SafetyPlan.case_id == case.id))


def version_of(plan: SafetyPlan, number: int) -> PlanVersion:
    found = db.session.scalar(
        select(PlanVersion)
        .options(joinedload(PlanVersion.author))
        .where(PlanVersion.plan_id == plan.id, PlanVersion.number == number)
    )
    if found is None:
        raise NotFound()
    return found


def plan_state(actor: Actor, case_id: int, *, audit: bool = True) -> PlanState:
    """The case's plan for a page that shows it (a view of the victim's words, audited)."""
    case = _case(actor, case_id)
    plan = _plan_of(case)
    latest = version_of(plan, plan.current_version) if plan and plan.current_version else None
    if audit and plan is not None:
        record(actor, "safety_plan.view", "safety_plan", plan.id, agency_id=plan.agency_id)
    return PlanState(case, plan, latest)


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """What the case page says of a plan: its newest version's number, time, language
    and author.  Not the plan's words: the page does not show them, so they are not
    decrypted to draw it."""

    plan_id: int
    number: int
    created_at: datetime
    locale: str
    author_name: str | None


def plan_summary(actor: Actor, case: Case) -> PlanSummary | None:
    """The case's plan as its page's section names it (the case view is audited there)."""
    row = db.session.execute(
        _summary_statement(), {"case_id": case.id, "agency_ids": list(actor.agency_ids(*PLAN_ROLES))}
    ).first()
    return None if row is None else PlanSummary(*row)


@cache
def _summary_statement() -> Any:
    """Built once (every case page asks), the case and the actor's agencies bound per call."""
    return (
        select(
            SafetyPlan.id, PlanVersion.number, PlanVersion.created_at, PlanVersion.locale, User.display_name
        )
        .join(
            PlanVersion,
            (PlanVersion.plan_id == SafetyPlan.id) & (PlanVersion.number == SafetyPlan.current_version),
        )
        .outerjoin(User, User.id == PlanVersion.author_id)
        .where(
            SafetyPlan.case_id == bindparam("case_id"),
            SafetyPlan.agency_id.in_(bindparam("agency_ids", expanding=True)),
        )
    )


def versions(actor: Actor, plan: SafetyPlan) -> list[PlanVersion]:
    """Every version of the plan, newest first."""
    get_scoped(actor, SafetyPlan, plan.id, *PLAN_ROLES)
    return list(
        db.session.scalars(
            select(PlanVersion)
            .options(joinedload(PlanVersion.author))
            .where(PlanVersion.plan_id == plan.id)
            .order_by(PlanVersion.number.desc())
        )
    )


def get_version(actor: Actor, case_id: int, number: int) -> tuple[PlanState, PlanVersion]:
    state = plan_state(actor, case_id)
    if state.plan is None:
        raise NotFound()
    return state, version_of(state.plan, number)


# --- choosing packs and language --------------------------------------------------------------


def clean_packs(keys: Iterable[str]) -> list[str]:
    """Known pack keys in pack order; the general pack is always part of a plan."""
    wanted = {k for k in keys}
    unknown = wanted - set(Pack.values())
    if unknown:
        raise Refused(_("Choose the guidance from the list."), "packs")
    wanted.add(Pack.GENERAL.value)
    return [p.value for p in Pack if p.value in wanted]


def plan_locale(tag: str | None) -> str:
    """The registry language the plan is written and printed in, from the case's language."""
    return _best_locale(tag or "en")


def clean_locale(tag: str) -> str:
    if tag not in registry():
        raise Refused(_("Choose a language from the list."), "locale")
    return tag


# --- saving -----------------------------------------------------------------------------------


def save_plan(
    actor: Actor,
    case: Case,
    *,
    base: int,
    content: Mapping[str, Any],
    packs: Iterable[str],
    locale: str,
) -> PlanVersion:
    """A new version of the case's plan, if nobody saved one since version ``base``.

    ``base`` is 0 for a case without a plan.  Raises :class:`EditConflict`
    (with the winning version) when another save came first, and
    :class:`Refused` for content out of bounds; nothing is written then.
    """
    if case.agency_id not in actor.agency_ids(*PLAN_ROLES):
        raise NotFound()
    clean = plan_content.normalize(content)
    _check_plan_words(case.agency_id, clean)
    pack_keys = clean_packs(packs)
    tag = clean_locale(locale)
    now = clock.now()
    plan = _plan_of(case)
    if plan is None:
        if base != 0:
            raise NotFound()
        try:
            with savepoint():
                plan = SafetyPlan(
                    agency_id=case.agency_id,
                    case_id=case.id,
                    current_version=1,
                    created_at=now,
                    updated_at=now,
                )
                db.session.add(plan)
                db.session.flush()
        except IntegrityError:
            # A colleague's first save of the same case's plan committed first.
            plan = _plan_of(case)
            raise EditConflict(version_of(plan, plan.current_version) if plan else None, clean) from None
        number = 1
    else:
        moved = db.session.execute(
            update(SafetyPlan)
            .where(SafetyPlan.id == plan.id, SafetyPlan.current_version == base)
            .values(current_version=base + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            db.session.refresh(plan)
            raise EditConflict(version_of(plan, plan.current_version), clean)
        db.session.refresh(plan)
        number = base + 1
    version = PlanVersion(
        plan_id=plan.id,
        number=number,
        author_id=actor.user_id,
        created_at=now,
        packs=" ".join(pack_keys),
        locale=tag,
        content=plan_content.dumps(clean),
    )
    db.session.add(version)
    db.session.flush()
    record(actor, "safety_plan.saved", "safety_plan", plan.id, agency_id=plan.agency_id)
    return version


# --- the agency's local numbers ---------------------------------------------------------------

_NUMBER_CHARS = re.compile(r"[0-9+()\-. ]{3,24}")


def local_numbers(agency_id: int) -> list[LocalNumber]:
    """The agency's active local numbers, in the order the admin set."""
    return list(
        db.session.scalars(
            select(LocalNumber)
            .where(LocalNumber.agency_id == agency_id, LocalNumber.active.is_(True))
            .order_by(LocalNumber.position, LocalNumber.id)
        )
    )


def _format_number(raw: str) -> str:
    text = raw.strip()
    if not _NUMBER_CHARS.fullmatch(text) or sum(c.isdigit() for c in text) < 3:
        raise Refused(
            _("Write a phone number, for example 218-555-0100, or a short number like 211."), "number"
        )
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) <= 6:
        return digits
    try:
        parsed = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise Refused(_("This is not a phone number that can be called."), "number")
    if parsed.country_code == 1:
        national = str(parsed.national_number)
        return f"{national[:3]}-{national[3:6]}-{national[6:]}"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _shelter_names(agency_id: int) -> list[str]:
    from advocacy.shelters.models import Shelter

    return [
        s.name for s in db.session.scalars(select(Shelter).where(Shelter.agency_id == agency_id)) if s.name
    ]


def _check_words(agency_id: int, values: Mapping[str, str], *, plan: bool = False) -> None:
    names = [n.casefold() for n in _shelter_names(agency_id)]
    for name, value in values.items():
        if looks_like_address(value):
            raise Refused(_("No addresses here: a plan never says where someone could be found."), name)
        if any(shelter and shelter in value.casefold() for shelter in names):
            if plan:
                raise Refused(
                    _(
                        'No shelter names in a plan: it may be printed or texted. Write "the place we talked about".'
                    ),
                    name,
                )
            raise Refused(_("No shelter names here: a plan never names a shelter."), name)


def _check_plan_words(agency_id: int, clean: Content) -> None:
    """A plan is printed and texted: no street address and no name of the agency's shelters in it."""
    values = {
        f"{section}.{entry}.{index}.{part}": value
        for section, found in clean["sections"].items()
        for entry, rows in found.items()
        for index, row in enumerate(rows)
        for part, value in row.items()
    }
    _check_words(agency_id, values, plan=True)


def add_local_number(
    actor: Actor, agency_id: int, *, name: str, number: str, hours: str, languages: str
) -> LocalNumber:
    """A local number for every plan of the agency's cases (agency admins only)."""
    if agency_id not in actor.agency_ids(Role.ADMIN):
        raise NotFound()
    values = {"name": name.strip(), "hours": hours.strip(), "languages": languages.strip()}
    limits = {"name": 120, "hours": 120, "languages": 200}
    for key, value in values.items():
        if not value:
            raise Refused(_("This is needed."), key)
        if len(value) > limits[key]:
            raise Refused(_("Keep this under %(count)d characters.", count=limits[key]), key)
    _check_words(agency_id, values)
    formatted = _format_number(number)
    count = db.session.scalar(
        select(func.count(LocalNumber.id)).where(
            LocalNumber.agency_id == agency_id, LocalNumber.active.is_(True)
        )
    )
    if (count or 0) >= MAX_LOCAL_NUMBERS:
        raise Refused(_("An agency has at most %(count)d local numbers.", count=MAX_LOCAL_NUMBERS), "name")
    made = LocalNumber(agency_id=agency_id, number=formatted, position=(count or 0) + 1, **values)
    db.session.add(made)
    db.session.flush()
    record(actor, "safety.local_number.added", "safety_local_number", made.id, agency_id=agency_id)
    return made


def remove_local_number(actor: Actor, number_id: int) -> None:
    """Plans stop showing the number; versions already printed keep what they printed."""
    found = get_scoped(actor, LocalNumber, number_id, Role.ADMIN)
    found.active = False
    db.session.flush()
    record(actor, "safety.local_number.removed", "safety_local_number", found.id, agency_id=found.agency_id)


def admin_agency_numbers(actor: Actor) -> dict[int, list[LocalNumber]]:
    """The local numbers of each agency the actor administers."""
    rows = db.session.scalars(
        scoped(
            actor,
            select(LocalNumber).where(LocalNumber.active.is_(True)),
            LocalNumber.agency_id,
            Role.ADMIN,
        ).order_by(LocalNumber.agency_id, LocalNumber.position, LocalNumber.id)
    )
    out: dict[int, list[LocalNumber]] = {a: [] for a in actor.agency_ids(Role.ADMIN)}
    for row in rows:
        out.setdefault(row.agency_id, []).append(row)
    return out
