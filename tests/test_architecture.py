"""The shape the code keeps: services any caller can use, one clock, modules of a readable size.

These read the source, not the running app: a service that reaches for the
request, aborts, or commits on its own would still work in a view, and fail
only when a worker or the API calls it.  Better to fail here first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from advocacy.actor import ANONYMOUS, Actor
from advocacy.roles import Role

ROOT = Path(__file__).resolve().parent.parent / "advocacy"
#: "About 600 lines": a module past this becomes a package split along its seams.
MAX_MODULE_LINES = 600


def service_modules() -> list[Path]:
    # A service package may grow sub-packages: every module under it is a service module.
    found = sorted(ROOT.glob("*/service.py")) + sorted(ROOT.glob("*/service/**/*.py"))
    assert found, "no service modules found: the layout changed, so must this test"
    return found


def _names(tree: ast.AST) -> tuple[set[str], list[str]]:
    """What a module imports by name, and the methods it calls (``x.commit()``)."""
    imported: set[str] = set()
    calls: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            calls.append(node.func.attr)
    return imported, calls


FORBIDDEN_IMPORTS = {
    "flask_login.current_user": "services receive an actor, not current_user",
    "flask.request": "services take their input as arguments, not from the request",
    "flask.abort": "services raise the errors of advocacy.errors, not abort",
    "flask.session": "services keep no state in the browser's session",
    "werkzeug.exceptions.NotFound": "services raise advocacy.errors.NotFound",
}


@pytest.mark.parametrize("path", service_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_service_module_serves_every_caller(path: Path) -> None:
    imported, calls = _names(ast.parse(path.read_text()))
    problems = [reason for name, reason in FORBIDDEN_IMPORTS.items() if name in imported]
    if "commit" in calls:
        problems.append("services flush and never commit: the caller's unit of work commits")
    if "rollback" in calls:
        problems.append("services undo their own part with a savepoint, never the caller's transaction")
    assert not problems, f"{path.relative_to(ROOT)}: " + "; ".join(problems)


def test_the_architecture_test_can_fail(tmp_path: Path) -> None:
    """The checks above find what they look for (a test that cannot fail is a defect)."""
    bad = (
        "from flask_login import current_user\nfrom flask import abort\ndef f(db):\n    db.session.commit()\n"
    )
    imported, calls = _names(ast.parse(bad))
    assert "flask_login.current_user" in imported and "flask.abort" in imported and "commit" in calls


def test_time_is_read_from_the_one_clock() -> None:
    """Only advocacy/clock.py asks the system for the time (model defaults and services use it)."""
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name == "clock.py":
            continue
        text = path.read_text()
        for needle in ("datetime.now(", "datetime.utcnow(", "time.time()", "date.today()"):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert not offenders


def test_no_module_grows_past_about_600_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in ROOT.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these along their seams: {long}"


# --- the actor ---------------------------------------------------------------------------------


def test_a_user_of_several_agencies_acts_for_the_one_chosen() -> None:
    actor = Actor.of_user(7, [(1, Role.ADVOCATE), (2, Role.SHELTER_STAFF)], acting_agency_id=2)
    assert actor.agency_id == 2
    assert actor.agency_ids(Role.ADVOCATE) == [1]
    # Something new for an advocate goes to the one agency where they are one.
    assert actor.agency_for(Role.ADVOCATE) == 1
    assert actor.agency_for(Role.SHELTER_STAFF) == 2


def test_an_acting_agency_one_no_longer_belongs_to_falls_back_to_the_first() -> None:
    actor = Actor.of_user(7, [(3, Role.ADVOCATE), (5, Role.ADVOCATE)], acting_agency_id=9)
    assert actor.agency_id == 3


def test_a_choice_among_several_agencies_is_never_guessed() -> None:
    from advocacy.errors import Forbidden

    actor = Actor.of_user(7, [(1, Role.ADMIN), (2, Role.ADMIN), (3, Role.ADVOCATE)], acting_agency_id=3)
    with pytest.raises(Forbidden):
        actor.agency_for(Role.ADMIN)


def test_a_partner_holds_no_staff_role_and_only_its_agency() -> None:
    partner = Actor.partner(4, agency_id=2, scopes={"handoff:read"})
    assert partner.agency_ids() == [2]
    assert partner.agency_ids(Role.ADVOCATE) == []
    assert not partner.has_role(*Role)
    assert partner.may("handoff:read") and not partner.may("handoff:write")


def test_the_system_acts_for_its_named_agency_or_none() -> None:
    assert Actor.system("worker", 3).agency_ids(Role.ADVOCATE) == [3]
    assert Actor.system("maintenance").agency_ids() == []
    assert ANONYMOUS.agency_ids() == [] and not ANONYMOUS.is_authenticated
