"""Two requests finishing the same intake at once (a double click on "Open the
case", or two colleagues), on PostgreSQL with real concurrency: one case opens,
the other request is told the intake is already finished."""

from __future__ import annotations

import threading
import traceback
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.intake import service
from advocacy.intake.instruments import shipped
from advocacy.intake.models import Case, IntakeDraft, RiskScreening
from tests.helpers import make_agency, make_user

pytestmark = pytest.mark.postgresql_only

ROUNDS = 15


def ready_draft(agency_id: int, owner_id: int) -> int:
    draft = service.start_draft(agency_id=agency_id, owner_id=owner_id)
    lethality = shipped()["lethality-screen@1"]
    for step, values in (
        ("person", {"alias": "Twice Clicked", "language": "en", "referral_source": "self"}),
        ("contact", {"phone": None}),
        ("household", {"adults": 1, "pets": 0}),
        ("needs", {"access_needs": ""}),
        ("screen", {"instrument": lethality.ref, "answers": {q.key: "no" for q in lethality.questions}}),
        ("consent", {"consent_sms": False}),
    ):
        service.save_step(draft, step, values, complete=True)
    return draft.id


def test_two_requests_finishing_one_draft_open_one_case(app: Flask) -> None:
    agency = make_agency()
    # Ids only: the threads must not touch the main thread's objects (or its session).
    agency_id = agency.id
    advocates = [make_user(agency, Role.ADVOCATE).id, make_user(agency, Role.ADVOCATE).id]
    for _round in range(ROUNDS):
        draft_id = ready_draft(agency_id, advocates[0])
        db.session.commit()
        barrier = threading.Barrier(2)
        results: list[Any] = [None, None]

        def finish(
            i: int,
            draft_id: int = draft_id,
            barrier: threading.Barrier = barrier,
            results: list[Any] = results,
        ) -> None:
            with app.app_context():
                try:
                    draft = db.session.get(IntakeDraft, draft_id)
                    assert draft is not None
                    db.session.commit()
                    barrier.wait(timeout=30)
                    results[i] = service.finish_draft(draft, actor_id=advocates[i]).id
                except service.AlreadyFinished:
                    results[i] = "already finished"
                except BaseException:  # noqa: BLE001 (reported to the main thread)
                    results[i] = traceback.format_exc()
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=finish, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
            assert not thread.is_alive()
        assert sorted(map(str, results)).count("already finished") == 1, results
        case_id = next(r for r in results if isinstance(r, int))
        db.session.expire_all()
        assert db.session.get(IntakeDraft, draft_id) is None
        assert db.session.scalar(select(func.count()).where(RiskScreening.case_id == case_id)) == 1
    assert db.session.scalar(select(func.count()).select_from(Case)) == ROUNDS
