"""Cases: opening one, reading it, changing a section, closing, reopening,
reassigning, and finding cases in the list.

Every read goes through :mod:`advocacy.access` (another agency's case is
NotFound) and every view or change writes an audit event in the same
transaction as the change.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import defaultload, joinedload

from advocacy import clock
from advocacy.access import get_scoped, scoped
from advocacy.actor import Actor
from advocacy.audit.service import record
from advocacy.auth.models import Membership, Role, User
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db
from advocacy.intake.models import CASE, Case, CaseFacts
from advocacy.intake.service.names import index_name, name_matches
from advocacy.types import decrypt_tokens, lookup_hash, stored_token

PHONE_PURPOSE = "case.phone"
NAME_PURPOSE = "case.name"
CASE_ROLES = (Role.ADVOCATE, Role.ADMIN)
PER_PAGE = 50
#: How many matching cases the list counts at most (past the page asked for):
#: "of more than 10,000" above that.  Counting an agency's 80,000 cases took
#: the database longer than the rest of the page's statements together.
COUNT_UP_TO = 10_000

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


def _hashes(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "alias" in values:
        out["name_hash"] = lookup_hash(values["alias"], NAME_PURPOSE) if values["alias"] else None
    if "phone" in values:
        out["phone_hash"] = lookup_hash(values["phone"], PHONE_PURPOSE) if values["phone"] else None
    return out


def open_case(
    actor: Actor,
    agency_id: int,
    owner_id: int,
    alias: str,
    *,
    phone: str | None = None,
    language: str = "en",
    **details: Any,
) -> Case:
    """A new open case of one of the actor's agencies, owned by ``owner_id``."""
    unknown = set(details) - set(CASE_FIELDS)
    if unknown:
        raise TypeError(f"not case fields: {sorted(unknown)}")
    if agency_id not in actor.agency_ids(*CASE_ROLES):
        raise Refused(_("Choose one of your agencies."))
    values = {"alias": alias, "phone": phone or None, "language": language, **details}
    case = Case(agency_id=agency_id, owner_id=owner_id, **values, **_hashes(values))
    db.session.add(case)
    db.session.flush()
    index_name(case)
    record(actor, "case.created", "case", case.id, agency_id=agency_id)
    return case


def get_case(actor: Actor, case_id: int) -> Case:
    """The case, for a change (the change itself is audited by its own function)."""
    return get_scoped(actor, Case, case_id, *CASE_ROLES)


def owner_name_only(relationship: Any) -> tuple[Any, ...]:
    """Loader options for a page that names a person: their id and name in the same
    statement, not their whole account and every membership of it."""
    return (
        joinedload(relationship).load_only(User.id, User.display_name),
        defaultload(relationship).lazyload(User.memberships),
    )


def view_case(actor: Actor, case_id: int) -> Case:
    """The case, for a page that shows it: a view of the person's data, audited."""
    case = db.session.scalar(
        scoped(
            actor,
            select(Case).where(Case.id == case_id).options(*owner_name_only(Case.owner)),
            Case.agency_id,
            *CASE_ROLES,
        )
    )
    if case is None:
        raise NotFound()
    record_view(actor, case)
    return case


def record_view(actor: Actor, case: Case) -> None:
    record(actor, "case.view", "case", case.id, agency_id=case.agency_id)


def update_case(actor: Actor, case: Case, values: Mapping[str, Any], *, section: str) -> None:
    unknown = set(values) - set(CASE_FIELDS)
    if unknown:
        raise TypeError(f"not case fields: {sorted(unknown)}")
    for name, value in {**values, **_hashes(values)}.items():
        setattr(case, name, value)
    case.updated_at = clock.now()
    record(actor, f"case.updated.{section}", "case", case.id, agency_id=case.agency_id)
    db.session.flush()
    if "alias" in values:
        index_name(case)


def close_case(actor: Actor, case: Case, reason: str) -> None:
    transition = CASE["close"]
    if not transition.starts_from(case.status):
        raise Refused(_("This case is already closed."))
    case.status = transition.target
    case.close_reason = reason
    case.closed_at = case.updated_at = clock.now()
    record(actor, transition.audit or "case.closed", "case", case.id, agency_id=case.agency_id)
    db.session.flush()


def reopen_case(actor: Actor, case: Case) -> None:
    transition = CASE["reopen"]
    if not transition.starts_from(case.status):
        raise Refused(_("This case is already open."))
    case.status = transition.target
    case.close_reason = None
    case.closed_at = None
    case.updated_at = clock.now()
    record(actor, transition.audit or "case.reopened", "case", case.id, agency_id=case.agency_id)
    db.session.flush()


@dataclass(frozen=True)
class Owner:
    """Who may own a case, as the list's filter and the reassign form show them."""

    id: int
    display_name: str


def case_owners(agency_id: int) -> list[Owner]:
    """Who may own a case of the agency: its active advocates and admins.

    Two columns, not accounts: the pages only name them (a whole ``User``
    would also load every membership of every owner).  In the order of their
    names, sorted here: the database holds the names encrypted, and its order
    of the ciphertexts is no order at all."""
    owners = [
        Owner(row.id, row.display_name)
        for row in db.session.execute(_owners_statement(), {"agency_id": agency_id})
    ]
    return sorted(owners, key=lambda owner: (name_order(owner.display_name), owner.id))


def name_order(name: str) -> tuple[str, str]:
    """A sort key for people's names: letters without their accents first ("Ángel" by
    "Amina", not after "Zoe"), then as written, case aside."""
    folded = name.casefold()
    bare = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    return bare, folded


@cache
def _owners_statement() -> Any:
    """Built once (the case page and the list's filter ask on every view), the agency bound per call."""
    return (
        select(User.id, User.display_name)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.agency_id == bindparam("agency_id"),
            Membership.role.in_([r.value for r in CASE_ROLES]),
            User.active.is_(True),
        )
        .distinct()
    )


def reassign_case(actor: Actor, case: Case, owner_id: int) -> None:
    if owner_id not in {u.id for u in case_owners(case.agency_id)}:
        raise Refused(_("Choose an advocate of this agency."), "owner_id")
    case.owner_id = owner_id
    case.updated_at = clock.now()
    record(actor, "case.reassigned", "case", case.id, agency_id=case.agency_id)
    db.session.flush()


# --- the case list ----------------------------------------------------------------------------

_NUMBER = re.compile(r"^\s*(?:(\d{4})\s*-\s*)?0*(\d{1,12})\s*$")


def parse_case_number(text: str) -> tuple[int | None, int] | None:
    """``2026-000123``, ``000123`` or ``123``: (year or None, id); None if not a number."""
    match = _NUMBER.fullmatch(text)
    if not match:
        return None
    year, number = match.groups()
    if year and not 1970 <= int(year) <= 9998:
        return None
    return (int(year) if year else None, int(number))


@dataclass(frozen=True)
class CaseQuery:
    name: str = ""
    phone: str = ""  # E.164, as the search form normalized it
    number: str = ""
    status: str = ""
    danger: str = ""
    owner: str = ""  # "", "me" or a user id
    page: int = 1

    @property
    def searching(self) -> bool:
        return bool(self.name or self.phone or self.number or self.status or self.danger or self.owner)


@dataclass(frozen=True, slots=True)
class CaseRow(CaseFacts):
    """A case as the list shows it (:data:`_LIST_ROW`'s columns, the names decrypted)."""

    id: int
    agency_id: int
    owner_id: int | None
    alias: str
    language: str
    status: str
    danger: str
    opened_at: datetime
    last_screened_at: datetime | None
    owner_name: str | None


#: The list's columns; the alias and the owner's name as stored, decrypted together
#: for the page (:func:`advocacy.types.decrypt_tokens`).
_LIST_ROW = select(
    Case.id,
    Case.agency_id,
    Case.owner_id,
    stored_token(Case.alias).label("alias_token"),
    Case.language,
    Case.status,
    Case.danger,
    Case.opened_at,
    Case.last_screened_at,
    stored_token(User.display_name).label("owner_token"),
).outerjoin(User, User.id == Case.owner_id)


@dataclass(frozen=True)
class CasePage:
    """One page of the list.  ``more``: more cases match than were counted
    (``total`` is then how many were, at least :data:`COUNT_UP_TO` and at least
    one page past this one), so ``pages`` is not the last page."""

    cases: list[CaseRow]
    total: int
    page: int
    pages: int
    per_page: int
    more: bool = False


def search_cases(actor: Actor, query: CaseQuery, *, per_page: int = PER_PAGE) -> CasePage:
    """The actor's agencies' cases matching ``query``, newest first, one page at a time.

    A name is found through the name index (:mod:`.names`): any one of its
    tokens, as written or as it sounds, ranked whole name first, then by
    tokens matched as written, then by sounds matched; names are never
    decrypted to be compared.  A phone number is found through its keyed hash
    (E.164).  Each filter has an index.  The search is audited once for each
    agency it reads.
    """
    for agency_id in actor.agency_ids(*CASE_ROLES):
        record(actor, "case.search" if query.searching else "case.list", "case", agency_id=agency_id)
    stmt = scoped(actor, select(Case), Case.agency_id, *CASE_ROLES)
    order: tuple[Any, ...] = (Case.opened_at.desc(), Case.id.desc())
    if query.name:
        matches = name_matches(query.name, actor.agency_ids(*CASE_ROLES))
        stmt = stmt.join(matches, matches.c.case_id == Case.id)
        whole = Case.name_hash == lookup_hash(query.name, NAME_PURPOSE)
        order = (whole.desc(), matches.c.exact.desc(), matches.c.hits.desc(), *order)
    if query.phone:
        stmt = stmt.where(Case.phone_hash == lookup_hash(query.phone, PHONE_PURPOSE))
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
        owner_id = actor.user_id if query.owner == "me" else int(query.owner)
        stmt = stmt.where(Case.owner_id == owner_id)
    # Counted up to a bound past the page asked for: enough to number the pages
    # around it and to know whether there is a next one, never a whole statewide
    # agency's cases for the first page.
    bound = max(COUNT_UP_TO, (max(1, query.page) + 1) * per_page)
    count = select(func.count()).select_from(
        stmt.with_only_columns(Case.id).order_by(None).limit(bound + 1).subquery()
    )

    def page_rows(page: int) -> list[Any]:
        # The page's ids from the index alone (a deep OFFSET skips index entries, not
        # table rows), numbered in the list's order (a ranking the outer query cannot
        # repeat), then those 50 rows, each with the count (asked once): one statement.
        page_ids = (
            stmt.with_only_columns(Case.id, func.row_number().over(order_by=order).label("position"))
            .order_by(*order)
            .offset((page - 1) * per_page)
            .limit(per_page)
            .subquery("page_ids")
        )
        return list(
            db.session.execute(
                # Ten columns, not ORM objects: the list shows no contact details (nothing of
                # them is decrypted per row) and names the owner, nothing more of the account.
                scoped(
                    actor,
                    _LIST_ROW.add_columns(count.scalar_subquery().label("counted")),
                    Case.agency_id,
                    *CASE_ROLES,
                )
                .join(page_ids, page_ids.c.id == Case.id)
                .order_by(page_ids.c.position)
            )
        )

    page = max(1, query.page)
    rows = page_rows(page)
    # A page past the last one has no rows to bring the count: it is asked alone,
    # and the last page is shown instead.
    counted = rows[0].counted if rows else (db.session.scalar(count) or 0)
    more = counted > bound
    total = min(counted, bound)
    pages = max(1, math.ceil(total / per_page))
    if not rows:
        page = min(page, pages)
        if counted:
            rows = page_rows(page)
    plain = decrypt_tokens(token for row in rows for token in (row.alias_token, row.owner_token))
    cases = [
        CaseRow(
            id=row.id,
            agency_id=row.agency_id,
            owner_id=row.owner_id,
            alias=plain[row.alias_token],
            language=row.language,
            status=row.status,
            danger=row.danger,
            opened_at=row.opened_at,
            last_screened_at=row.last_screened_at,
            owner_name=None if row.owner_token is None else plain[row.owner_token],
        )
        for row in rows
    ]
    return CasePage(cases, total, page, pages, per_page, more)
