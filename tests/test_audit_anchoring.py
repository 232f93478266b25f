"""The end of a chain cannot be cut off unnoticed: signed checkpoints remember
how long every chain was and how it ended, TRUNCATE is refused, and an operator
can keep the heads outside the database (``--expect-head``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from advocacy.audit.models import AuditEvent
from advocacy.audit.service import record
from advocacy.audit.verify import verify_chains, write_checkpoints
from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.shelters import service as shelters
from advocacy.shelters.models import AvailabilityEvent, BedType
from tests import factories
from tests.helpers import login, make_agency, make_user, text_of


def dialect() -> str:
    return db.session.get_bind().dialect.name


@contextmanager
def protection_off(table: str) -> Iterator[None]:
    """What a database owner would do before cutting rows off a table."""
    if dialect() == "sqlite":
        db.session.execute(text(f"DROP TRIGGER {table}_no_delete"))
        db.session.execute(text(f"DROP TRIGGER {table}_no_update"))
        db.session.commit()
        yield
        return
    db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    db.session.commit()
    try:
        yield
    finally:
        db.session.rollback()
        db.session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        db.session.commit()


@pytest.fixture
def north(app: Flask) -> Any:
    agency = make_agency("north")
    for n in range(6):
        record(factories.system(agency), "case.view", "case", n + 1, agency_id=agency.id)
    db.session.commit()
    return agency


def run_verify(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def newest_ids(agency_id: int, n: int) -> list[int]:
    return list(
        db.session.scalars(
            select(AuditEvent.id)
            .where(AuditEvent.chain_id == agency_id)
            .order_by(AuditEvent.seq.desc())
            .limit(n)
        )
    )


def cut_tail(agency_id: int, n: int, *, rewind_head: bool = True) -> None:
    """Delete the newest ``n`` entries of a chain and, as a careful attacker would, rewind its head row."""
    ids = newest_ids(agency_id, n + 1)
    with protection_off("audit_event"):
        for entry_id in ids[:n]:
            db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": entry_id})
        if rewind_head:
            head = db.session.scalar(select(AuditEvent.entry_hash).where(AuditEvent.id == ids[n]))
            db.session.execute(
                text("UPDATE audit_chain SET length = length - :n, head = :h WHERE chain_id = :c"),
                {"n": n, "h": head, "c": agency_id},
            )
        db.session.commit()


def test_a_cut_off_tail_fails_verification_and_says_how_many(app: Flask, north: Any) -> None:
    assert run_verify(app).exit_code == 0
    cut_tail(north.id, 2)
    result = run_verify(app)
    assert result.exit_code == 1, result.output
    assert f"audit:{north.id} SHORTENED: 2 entries missing at the end (5 remain)" in result.output


def test_a_cut_tail_is_found_by_the_head_row_before_any_checkpoint(app: Flask, north: Any) -> None:
    cut_tail(north.id, 3, rewind_head=False)
    report = verify_chains().chain(f"audit:{north.id}")
    assert report is not None and not report.ok and report.missing == 3


def test_a_cut_tail_stays_failed_after_the_next_run(app: Flask, north: Any) -> None:
    """A broken run's checkpoint records the failure but never becomes the anchor."""
    assert run_verify(app).exit_code == 0
    cut_tail(north.id, 1)
    assert run_verify(app).exit_code == 1
    assert run_verify(app).exit_code == 1


def test_an_expected_head_kept_elsewhere_catches_a_cut_that_removed_the_checkpoints(
    app: Flask, north: Any
) -> None:
    result = run_verify(app)
    token = next(
        line.split("head ")[1] for line in result.output.splitlines() if line.startswith(f"audit:{north.id} ")
    )
    assert token == f"audit:{north.id}/7/" + newest_head(north.id)
    cut_tail(north.id, 2)
    with protection_off("audit_checkpoint"):
        db.session.execute(text("DELETE FROM audit_checkpoint"))
        db.session.commit()
    assert run_verify(app, "--no-checkpoint").exit_code == 0  # nothing in the database remembers
    result = run_verify(app, "--expect-head", token)
    assert result.exit_code == 1
    assert "SHORTENED: 2 entries missing" in result.output


def newest_head(agency_id: int) -> str:
    head = db.session.scalar(
        select(AuditEvent.entry_hash)
        .where(AuditEvent.chain_id == agency_id)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )
    assert head is not None
    return head


def test_an_expected_head_that_does_not_match_fails(app: Flask, north: Any) -> None:
    result = run_verify(app, "--expect-head", f"audit:{north.id}/3/{'a' * 64}")
    assert result.exit_code == 1
    assert "changed since they were anchored" in result.output


def test_a_malformed_expected_head_is_a_usage_error(app: Flask, north: Any) -> None:
    result = run_verify(app, "--expect-head", f"audit:{north.id}/3/{'a' * 64}\n")
    assert result.exit_code == 2


def test_a_forged_checkpoint_is_refused(app: Flask, north: Any) -> None:
    """Lowering a checkpoint's length to hide a cut needs the hash key."""
    assert run_verify(app).exit_code == 0
    cut_tail(north.id, 2)
    with protection_off("audit_checkpoint"):
        db.session.execute(text("UPDATE audit_checkpoint SET length = 5"))
        db.session.commit()
        result = run_verify(app, "--no-checkpoint")
    assert result.exit_code == 1
    assert "is not signed with this deployment's key" in result.output


def test_checkpoints_go_to_the_structured_log(
    app: Flask, north: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="advocacy.audit")
    write_checkpoints(verify_chains())
    logged = [r for r in caplog.records if r.getMessage() == "audit checkpoint"]
    mine = next(r for r in logged if r.chain == f"audit:{north.id}")  # type: ignore[attr-defined]
    assert mine.expect_head == f"audit:{north.id}/7/{newest_head(north.id)}"  # type: ignore[attr-defined]
    assert len(mine.signature) == 64  # type: ignore[attr-defined]


@pytest.mark.postgresql_only
@pytest.mark.parametrize("table", ["audit_event", "availability_event", "audit_checkpoint"])
def test_postgresql_refuses_to_truncate_an_append_only_table(app: Flask, north: Any, table: str) -> None:
    if dialect() != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(f"TRUNCATE {table} CASCADE"))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 7


def test_a_truncated_chain_is_reported_with_every_entry_missing(app: Flask, north: Any) -> None:
    assert run_verify(app).exit_code == 0
    with protection_off("audit_event"):
        db.session.execute(text("DELETE FROM audit_event"))
        db.session.execute(text("DELETE FROM audit_chain"))
        db.session.commit()
    result = run_verify(app)
    assert result.exit_code == 1
    assert f"audit:{north.id} SHORTENED: 7 entries missing at the end (0 remain)" in result.output


# -- the availability history ---------------------------------------------------------------------


@pytest.fixture
def beds(app: Flask) -> Any:
    agency = make_agency("lake")
    setup = factories.system(agency)
    shelter = shelters.add_shelter(
        setup, agency.id, "Birch House", "NS-1", "North Shore", address="1 Example Ave"
    )
    shelters.add_room(setup, shelter, "A", beds=[(f"A{n}", BedType.ADULT) for n in (1, 2, 3)])
    db.session.commit()
    return agency


def test_a_cut_off_availability_history_fails_verification(app: Flask, beds: Any) -> None:
    assert db.session.scalar(select(func.count()).select_from(AvailabilityEvent)) == 3
    assert run_verify(app).exit_code == 0
    newest = db.session.scalar(select(func.max(AvailabilityEvent.id)))
    with protection_off("availability_event"):
        db.session.execute(text("DELETE FROM availability_event WHERE id = :id"), {"id": newest})
        db.session.commit()
    result = run_verify(app)
    assert result.exit_code == 1
    assert f"availability:{beds.id} SHORTENED: 1 entries missing at the end (2 remain)" in result.output


def test_an_edited_availability_event_before_the_checkpoint_fails(app: Flask, beds: Any) -> None:
    assert run_verify(app).exit_code == 0
    first = db.session.scalar(select(func.min(AvailabilityEvent.id)))
    with protection_off("availability_event"):
        db.session.execute(
            text("UPDATE availability_event SET reason = 'other' WHERE id = :id"), {"id": first}
        )
        db.session.commit()
    result = run_verify(app)
    assert result.exit_code == 1
    assert f"availability:{beds.id} BROKEN" in result.output


# -- what an agency's admin sees ------------------------------------------------------------------


def test_the_audit_page_shows_the_agencys_own_count_not_the_deployments(app: Flask, client: Any) -> None:
    north = make_agency("north")
    south = make_agency("south")
    admin = make_user(north, Role.ADMIN)
    for n in range(40):
        record(factories.system(south), "case.view", "case", n + 1, agency_id=south.id)
    db.session.commit()
    login(client, admin)
    own = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.agency_id == north.id)
    )
    total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    page = text_of(client.get("/admin/audit"))
    assert f"has {own} entries" in page
    # The deployment's count is never the figure shown (a bare "44" also matched a clock time, 2:44).
    assert f"has {total} entries" not in page
    assert f"{total} entries" not in page


def test_the_audit_page_does_not_verify_the_chain(
    app: Flask, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from advocacy.audit import verify

    def walked(*_args: Any) -> None:
        raise AssertionError("the page walked a chain")

    monkeypatch.setattr(verify, "_walk_audit", walked)
    monkeypatch.setattr(verify, "_walk_availability", walked)
    north = make_agency("north")
    login(client, make_user(north, Role.ADMIN))
    assert client.get("/admin/audit").status_code == 200
