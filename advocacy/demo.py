"""Demo data: two agencies, three shelters, one user per role, a few cases.

Passwords are random and printed once by ``flask demo load``; demo users are
already enrolled in TOTP so that ``make code USER=...`` gives a newcomer a
code without a phone.  All names, aliases and addresses are invented.
"""

from __future__ import annotations

from sqlalchemy import select

from advocacy.auth.models import Agency, Role
from advocacy.auth.service import create_agency, create_user, random_passphrase
from advocacy.extensions import db
from advocacy.intake.service import open_case
from advocacy.shelters.service import add_shelter


def load_demo(*, if_empty: bool = True) -> list[tuple[str, str, str]] | None:
    if if_empty and db.session.scalar(select(Agency.id).limit(1)) is not None:
        return None
    north = create_agency("North Shore Safe Harbor (demo)", "north-shore")
    valley = create_agency("River Valley Family Safety (demo)", "river-valley")

    add_shelter(north.id, "Birch House", "NS-1", "North Shore", address="1208 Example Ave, Duluth")
    add_shelter(
        north.id, "Lakeview Family Residence", "NS-2", "North Shore", address="44 Sample St, Two Harbors"
    )
    add_shelter(valley.id, "Cedar Haven", "RV-1", "River Valley", address="9 Placeholder Rd, Mankato")

    logins: list[tuple[str, str, str]] = []
    accounts = (
        ("admin", "Alex Admin (demo)", north, Role.ADMIN),
        ("advocate", "Ana Advocate (demo)", north, Role.ADVOCATE),
        ("staff", "Sam Staff (demo)", north, Role.SHELTER_STAFF),
        ("coordinator", "Chris Coordinator (demo)", north, Role.COORDINATOR),
        ("valley", "Val Advocate (demo)", valley, Role.ADVOCATE),
    )
    users = {}
    for username, name, agency, role in accounts:
        password = random_passphrase()
        users[username] = create_user(username, name, password, [(agency, role)], enrol_totp=True)
        logins.append((username, role.value, password))

    open_case(north.id, users["advocate"].id, "Rosa M. (demo)", phone="+12185550101", language="es")
    open_case(north.id, users["advocate"].id, "Hodan A. (demo)", phone="+12185550102", language="so")
    open_case(valley.id, users["valley"].id, "Mai V. (demo)", phone="+15075550103", language="hmn")
    db.session.commit()
    return logins
