"""Opening and reading cases.  Reads go through the access helper and the audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import defer

from advocacy.access import get_scoped_or_404, scoped
from advocacy.audit.service import record
from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.intake.models import Case
from advocacy.types import lookup_hash

PHONE_PURPOSE = "case.phone"
CASE_ROLES = (Role.ADVOCATE, Role.ADMIN)


def open_case(
    agency_id: int, owner_id: int, alias: str, *, phone: str | None = None, language: str = "en"
) -> Case:
    case = Case(
        agency_id=agency_id,
        owner_id=owner_id,
        alias=alias,
        phone=phone,
        phone_hash=lookup_hash(phone, PHONE_PURPOSE) if phone else None,
        language=language,
    )
    db.session.add(case)
    db.session.flush()
    record("case.created", "case", case.id, agency_id=agency_id, actor_id=owner_id)
    return case


def list_cases(limit: int = 50) -> list[Case]:
    # Audit first: a commit expires loaded objects, and reloading each row
    # afterwards would cost one query per case.
    record("case.list", "case")
    db.session.commit()
    return list(
        db.session.scalars(
            # The list shows no phone number: do not decrypt one per row.
            scoped(select(Case).options(defer(Case.phone)), Case.agency_id, *CASE_ROLES)
            .order_by(Case.opened_at.desc())
            .limit(limit)
        )
    )


def view_case(case_id: int) -> Case:
    case = get_scoped_or_404(Case, case_id, *CASE_ROLES)
    record("case.view", "case", case.id, agency_id=case.agency_id)
    db.session.commit()
    return case
