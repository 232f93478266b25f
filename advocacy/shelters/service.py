"""Shelters, read through the agency scope.  Only staff of the owning agency see names."""

from __future__ import annotations

from sqlalchemy import select

from advocacy.access import get_scoped_or_404, scoped
from advocacy.audit.service import record
from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.shelters.models import Shelter

STAFF_ROLES = (Role.SHELTER_STAFF, Role.ADMIN)


def add_shelter(
    agency_id: int, name: str, public_label: str, region: str, address: str | None = None
) -> Shelter:
    shelter = Shelter(
        agency_id=agency_id, name=name, address=address, public_label=public_label, region=region
    )
    db.session.add(shelter)
    db.session.flush()
    record("shelter.created", "shelter", shelter.id, agency_id=agency_id)
    return shelter


def list_own_shelters() -> list[Shelter]:
    return list(
        db.session.scalars(
            scoped(select(Shelter), Shelter.agency_id, *STAFF_ROLES).order_by(Shelter.public_label)
        )
    )


def view_shelter(shelter_id: int) -> Shelter:
    shelter = get_scoped_or_404(Shelter, shelter_id, *STAFF_ROLES)
    record("shelter.view", "shelter", shelter.id, agency_id=shelter.agency_id)
    db.session.commit()
    return shelter
