"""Audit appends under real concurrency on PostgreSQL: agencies do not queue
behind each other, each chain stays one unbroken line, and an edit after the
run is still found."""

from __future__ import annotations

import threading
import traceback
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from advocacy.audit.models import AuditEvent
from advocacy.audit.service import append_pending, record
from advocacy.audit.verify import verify_chains
from advocacy.extensions import db
from tests import factories
from tests.helpers import make_agency

pytestmark = pytest.mark.postgresql_only


@pytest.fixture(params=["postgresql"])
def engine_name(request: pytest.FixtureRequest) -> str:
    return request.param


def test_32_concurrent_case_views_across_4_agencies_keep_every_chain_intact(app: Flask) -> None:
    agencies = [make_agency(f"a{n}").id for n in range(4)]
    start = threading.Barrier(32)
    errors: list[str] = []

    def views(agency_id: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for n in range(10):
                    record(factories.system(agency_id), "case.view", "case", n + 1, agency_id=agency_id)
                    db.session.commit()
                db.session.remove()
        except Exception:  # noqa: BLE001 - reported below
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=views, args=(agencies[n % 4],)) for n in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify_chains()
    assert report.ok, report
    for agency_id in agencies:
        chain = report.chain(f"audit:{agency_id}")
        assert chain is not None and chain.checked == 8 * 10 + 1  # and agency.created

    target = db.session.scalar(
        select(AuditEvent.id).where(AuditEvent.chain_id == agencies[2], AuditEvent.seq == 40)
    )
    db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
    db.session.execute(text("UPDATE audit_event SET object_id = '999' WHERE id = :id"), {"id": target})
    db.session.commit()
    try:
        report = verify_chains()
    finally:
        db.session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_change"))
        db.session.commit()
    assert not report.ok
    assert report.first_bad_id == target
    assert [c.chain for c in report.chains if not c.ok] == [f"audit:{agencies[2]}"]


def appending_while_another_transaction_holds(
    app: Flask, holder_agency: int, other_agency: int, *, holder_committing: bool = True
) -> Any:
    """One request has recorded an entry for ``holder_agency``'s chain and not
    committed; another appends to ``other_agency``'s.

    ``holder_committing``: the first request is in its commit, its entry
    appended (what the commit does first) and the commit not yet through;
    otherwise it is still rendering, its entry only recorded.  The second
    request gives up after a second rather than wait: the result is None when
    it appended, the error when it would have had to queue.
    """
    appended = threading.Event()
    done = threading.Event()
    outcome: list[Any] = []

    def holder() -> None:
        with app.app_context():
            record(factories.system(holder_agency), "case.view", "case", 1, agency_id=holder_agency)
            if holder_committing:
                append_pending(db.session())
            appended.set()
            done.wait(timeout=30)
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert appended.wait(timeout=30)
        with app.app_context():
            db.session.execute(text("SET LOCAL lock_timeout = '1s'"))
            try:
                record(factories.system(other_agency), "case.view", "case", 2, agency_id=other_agency)
                db.session.commit()
                outcome.append(None)
            except OperationalError as exc:
                db.session.rollback()
                outcome.append(exc)
            db.session.remove()
    finally:
        done.set()
        thread.join()
    return outcome[0]


def test_an_agency_does_not_wait_for_another_agencys_open_transaction(app: Flask) -> None:
    north, south = make_agency("north").id, make_agency("south").id
    assert appending_while_another_transaction_holds(app, north, south) is None
    assert verify_chains().ok


def test_the_same_agencys_appends_do_wait_for_each_other(app: Flask) -> None:
    north = make_agency("north").id
    error = appending_while_another_transaction_holds(app, north, north)
    assert isinstance(error, OperationalError) and "lock timeout" in str(error)
    assert verify_chains().ok


def test_a_case_view_still_rendering_does_not_hold_its_agencys_chain(app: Flask) -> None:
    """The view recorded its entry when it read the case; its chain's place is
    claimed at its commit, so the agency's other views append meanwhile."""
    north = make_agency("north").id
    assert appending_while_another_transaction_holds(app, north, north, holder_committing=False) is None
    report = verify_chains()
    assert report.ok, report
    chain = report.chain(f"audit:{north}")
    assert chain is not None and chain.checked == 3  # agency.created, then both views
