"""The audit log: who did what to which object and when, never what it contained;
append-only in the database, and hash-chained so that an edit is detected even
by someone who could switch the database's protection off."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from advocacy.audit.models import AuditEvent
from advocacy.audit.service import record
from advocacy.audit.verify import verify_chain
from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.intake.service import open_case
from advocacy.shelters.service import add_shelter
from tests.factories import system
from tests.helpers import PASSWORD, login, make_agency, make_user, text_of

ALIAS = "Rosalind Okonkwo-Vega"
PHONE = "+1 612 555 0147"
DISPLAY_NAME = "Test advocate"
SHELTER = "Cedar Hollow Safe House"
ADDRESS = "4417 Larkspur Avenue"


def all_audit_text() -> str:
    """Every column of every audit row, as the database returns it."""
    rows = db.session.execute(text("SELECT * FROM audit_event")).all()
    return "\n".join(" ".join("" if v is None else str(v) for v in row) for row in rows)


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def dialect() -> str:
    return db.session.get_bind().dialect.name


@contextmanager
def append_only_protection_off() -> Iterator[None]:
    """What an attacker with DDL rights would do before editing the table."""
    if dialect() == "sqlite":
        db.session.execute(text("DROP TRIGGER audit_event_no_update"))
        db.session.execute(text("DROP TRIGGER audit_event_no_delete"))
        db.session.commit()
        yield
        return
    db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
    db.session.commit()
    try:
        yield
    finally:
        db.session.rollback()
        db.session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_change"))
        db.session.commit()


@pytest.fixture
def activity(app: Flask, client: Any) -> dict[str, Any]:
    """A morning's work: a wrong password, an unknown user, a sign-in, a case read, a sign-out."""
    agency = make_agency()
    advocate = make_user(agency, Role.ADVOCATE, "fern-advocate")
    case = open_case(system(agency.id), agency.id, advocate.id, ALIAS, phone=PHONE)
    add_shelter(system(agency.id), agency.id, SHELTER, "Shelter F2", "North metro", address=ADDRESS)
    db.session.commit()
    client.post("/auth/login", data={"username": advocate.username, "password": "wrong password here"})
    client.post("/auth/login", data={"username": "ghost-user", "password": PASSWORD})
    login(client, advocate)
    assert client.get("/cases/").status_code == 200
    assert client.get(f"/cases/{case.id}").status_code == 200
    client.post("/auth/logout")
    return {"agency": agency, "advocate": advocate, "case": case}


def test_sign_in_case_view_and_sign_out_are_audited(activity: dict[str, Any]) -> None:
    done = actions()
    for expected in ("login.failure", "login.failure_unknown_user", "login.success", "case.view", "logout"):
        assert expected in done
    view = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.view"))
    assert view is not None
    assert view.actor_id == activity["advocate"].id
    assert view.agency_id == activity["agency"].id
    assert view.object_type == "case"
    assert view.object_id == str(activity["case"].id)


def test_audit_rows_hold_no_personal_data(activity: dict[str, Any]) -> None:
    dump = all_audit_text().lower()
    for secret in (
        activity["advocate"].username,
        "ghost-user",
        DISPLAY_NAME,
        ALIAS,
        PHONE,
        "6125550147",
        "555 0147",
        SHELTER,
        ADDRESS,
        PASSWORD,
        "wrong password here",
    ):
        assert secret.lower() not in dump, secret


def test_an_unknown_user_name_is_audited_without_the_name(activity: dict[str, Any]) -> None:
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login.failure_unknown_user"))
    assert row is not None
    assert (row.actor_id, row.object_type, row.object_id) == (None, None, None)


def test_the_chain_of_a_normal_day_verifies(activity: dict[str, Any]) -> None:
    report = verify_chain()
    assert report.ok
    assert report.checked == len(actions()) > 5
    assert report.first_bad_id is None


def test_each_agency_has_its_own_chain(activity: dict[str, Any]) -> None:
    """Sign-ins with an unknown name belong to no agency: the deployment's chain (0)."""
    agency_id = activity["agency"].id
    own = list(
        db.session.scalars(
            select(AuditEvent.seq).where(AuditEvent.chain_id == agency_id).order_by(AuditEvent.id)
        )
    )
    assert own == list(range(1, len(own) + 1))
    unknown = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login.failure_unknown_user"))
    assert unknown is not None and unknown.chain_id == 0 and unknown.seq is not None
    report = verify_chain()
    assert {c.chain for c in report.chains} == {"audit:0", f"audit:{agency_id}"}


def test_the_database_refuses_to_update_an_audit_row(activity: dict[str, Any]) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("UPDATE audit_event SET action = 'case.created' WHERE action = 'case.view'"))
        db.session.flush()
    db.session.rollback()
    assert "case.view" in actions()


def test_the_database_refuses_to_delete_an_audit_row(activity: dict[str, Any]) -> None:
    before = len(actions())
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM audit_event WHERE action = 'case.view'"))
        db.session.flush()
    db.session.rollback()
    assert len(actions()) == before


def row_id(action: str) -> int:
    found = db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == action).limit(1))
    assert found is not None
    return found


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE audit_event SET action = 'case.list' WHERE id = :id",
        "UPDATE audit_event SET actor_id = 9999 WHERE id = :id",
        "UPDATE audit_event SET object_id = '999' WHERE id = :id",
    ],
)
def test_an_edited_row_is_reported_by_verify(activity: dict[str, Any], edit: str) -> None:
    target = row_id("case.view")
    with append_only_protection_off():
        db.session.execute(text(edit), {"id": target})
        db.session.commit()
        db.session.expire_all()
        report = verify_chain()
    assert not report.ok
    assert report.first_bad_id == target
    chain = report.chain(f"audit:{activity['agency'].id}")
    assert chain is not None and not chain.ok
    assert chain.checked == db.session.scalar(select(AuditEvent.seq).where(AuditEvent.id == target)) - 1


def test_an_edit_with_a_recomputed_plain_hash_is_still_detected(activity: dict[str, Any]) -> None:
    """Without ADVOCACY_HASH_KEY an attacker cannot make the row's hash match."""
    import hashlib

    target = row_id("case.view")
    forged = hashlib.sha256(b"case.list").hexdigest()
    with append_only_protection_off():
        db.session.execute(
            text("UPDATE audit_event SET action = 'case.list', entry_hash = :h WHERE id = :id"),
            {"h": forged, "id": target},
        )
        db.session.commit()
        db.session.expire_all()
        report = verify_chain()
    assert report.first_bad_id == target


def test_a_deleted_row_is_reported_at_the_next_row(activity: dict[str, Any]) -> None:
    target = row_id("case.list")
    following = db.session.scalar(
        select(AuditEvent.id)
        .where(AuditEvent.id > target, AuditEvent.chain_id == activity["agency"].id)
        .order_by(AuditEvent.id)
    )
    with append_only_protection_off():
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": target})
        db.session.commit()
        db.session.expire_all()
        report = verify_chain()
    assert not report.ok
    assert report.first_bad_id == following


def test_verify_finds_an_edit_across_batch_boundaries(activity: dict[str, Any]) -> None:
    target = row_id("logout")
    with append_only_protection_off():
        db.session.execute(text("UPDATE audit_event SET actor_id = NULL WHERE id = :id"), {"id": target})
        db.session.commit()
        db.session.expire_all()
        report = verify_chain(batch_size=2)
    assert report.first_bad_id == target


def test_records_appended_after_verify_keep_the_chain_intact(activity: dict[str, Any]) -> None:
    for _ in range(3):
        record(system(activity["agency"]), "case.list", "case", agency_id=activity["agency"].id)
        db.session.commit()
    assert verify_chain(batch_size=2).ok


def test_flask_audit_verify_exit_codes(app: Flask, activity: dict[str, Any]) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"audit chains intact: {len(actions())} entries in 2 chains" in result.output

    target = row_id("case.view")
    with append_only_protection_off():
        db.session.execute(text("UPDATE audit_event SET action = 'case.list' WHERE id = :id"), {"id": target})
        db.session.commit()
        result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"audit:{activity['agency'].id} BROKEN at entry {target}" in result.output


def test_the_admin_audit_page_shows_the_last_verification(app: Flask, client: Any) -> None:
    agency = make_agency()
    admin = make_user(agency, Role.ADMIN)
    login(client, admin)
    assert "has not been verified yet" in text_of(client.get("/admin/audit"))
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
    assert "Last verified" in text_of(client.get("/admin/audit"))
    assert "were intact" in text_of(client.get("/admin/audit"))
    target = row_id("user.created")
    with append_only_protection_off():
        db.session.execute(text("UPDATE audit_event SET action = 'logout' WHERE id = :id"), {"id": target})
        db.session.commit()
        assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 1
        page = text_of(client.get("/admin/audit"))
    assert f"the chain is broken at entry {target}" in page


# --- the append at commit ---------------------------------------------------------------------------


def entries_of(chain_id: int) -> list[tuple[int, str]]:
    return [
        (row.seq, row.action)
        for row in db.session.execute(
            select(AuditEvent.seq, AuditEvent.action)
            .where(AuditEvent.chain_id == chain_id)
            .order_by(AuditEvent.seq)
        )
    ]


def test_an_entry_recorded_in_a_refused_savepoint_goes_with_it(app: Flask) -> None:
    """A service that refuses after recording undoes its savepoint: its entry is
    not appended; the entry of the view around it, and a released savepoint's, are."""
    north = make_agency("north")
    actor = system(north.id)
    db.session.commit()
    record(actor, "case.view", "case", 1, agency_id=north.id)
    try:
        with db.session.begin_nested():
            record(actor, "case.close", "case", 1, agency_id=north.id)
            raise ValueError("refused")
    except ValueError:
        pass
    with db.session.begin_nested():
        record(actor, "case.note", "case", 1, agency_id=north.id)
    db.session.commit()
    assert [action for _seq, action in entries_of(north.id)][-2:] == ["case.view", "case.note"]
    assert verify_chain().ok


def test_a_rolled_back_transaction_appends_nothing(app: Flask) -> None:
    north = make_agency("north")
    db.session.commit()
    before = entries_of(north.id)
    record(system(north.id), "case.view", "case", 1, agency_id=north.id)
    db.session.rollback()
    db.session.commit()
    assert entries_of(north.id) == before


def test_an_entry_recorded_before_anything_was_read_goes_with_a_rollback(app: Flask) -> None:
    north = make_agency("north")
    agency_id, actor = north.id, system(north.id)
    db.session.commit()
    assert db.session().get_transaction() is None
    record(actor, "case.view", "case", 1, agency_id=agency_id)  # no statement sent yet
    db.session.rollback()
    db.session.commit()
    assert "case.view" not in [action for _seq, action in entries_of(agency_id)]


def test_a_reader_in_the_same_transaction_sees_its_entries(app: Flask) -> None:
    """What the session's autoflush does for its objects: the admin's audit page
    lists the entry of the request that shows it."""
    north = make_agency("north")
    db.session.commit()
    record(system(north.id), "audit.view", agency_id=north.id)
    assert entries_of(north.id)[-1][1] == "audit.view"
    db.session.commit()
    assert [action for _seq, action in entries_of(north.id)].count("audit.view") == 1


def test_entries_for_two_chains_are_appended_in_chain_order(app: Flask) -> None:
    """Two transactions each appending to the same two chains take their locks in
    one order, so neither waits for the other in a circle."""
    first, second = make_agency("first"), make_agency("second")
    db.session.commit()
    record(system(second.id), "case.view", "case", 1, agency_id=second.id)
    record(system(first.id), "case.view", "case", 2, agency_id=first.id)
    db.session.commit()
    ids = dict(
        db.session.execute(
            select(AuditEvent.chain_id, AuditEvent.id).where(AuditEvent.action == "case.view")
        ).all()
    )
    assert ids[first.id] < ids[second.id]
