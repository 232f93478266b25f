"""Two requests for the same intake or case at once (a double click, or two
colleagues), on PostgreSQL with real concurrency: one case opens, beds are held
once, and the other request is told why nothing happened."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from advocacy.actor import Actor
from advocacy.auth.models import Role
from advocacy.extensions import db
from advocacy.intake import service
from advocacy.intake.instrument_format import shipped
from advocacy.intake.models import Case, IntakeDraft, Placement, RiskScreening
from advocacy.shelters import service as shelters
from advocacy.shelters.models import Bed, BedType, Referral, RoomType
from advocacy.shelters.service import Refused
from advocacy.uow import unit_of_work
from tests import factories
from tests.helpers import make_agency, make_user

pytestmark = pytest.mark.postgresql_only

ROUNDS = 15


@pytest.fixture
def settings(database_url: str):  # type: ignore[no-untyped-def]
    """Races send many requests from one advocate: no hourly flooding limit here."""
    from tests.conftest import make_settings

    return make_settings(database_url, referrals_per_advocate_hour=1_000_000)


def both_at_once(app: Flask, load: Callable[[], Any], act: Callable[[Any, int], Any]) -> list[Any]:
    """Two threads, each with its own session: load the object, wait for the other,
    then act as person ``i`` in a unit of work, as a request does (it commits, or
    rolls back when it raises).  A refusal comes back as its message; any other
    exception fails the test."""
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]
    errors: list[str] = []

    def run(i: int) -> None:
        with app.app_context():
            try:
                obj = load()
                db.session.commit()
                barrier.wait(timeout=30)
                with unit_of_work():
                    results[i] = act(obj, i)
            except service.AlreadyFinished:
                results[i] = "already finished"
            except Refused as refusal:
                results[i] = refusal.message
            except BaseException:  # noqa: BLE001 (reported to the main thread)
                errors.append(traceback.format_exc())
            finally:
                db.session.remove()

    db.session.commit()  # the main thread holds no transaction while the threads run
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a thread is stuck (a deadlock?)"
    assert not errors, "\n".join(errors)
    db.session.expire_all()
    return results


def ready_draft(owner: Actor) -> int:
    draft = service.start_draft(owner)
    lethality = shipped()["lethality-screen@1"]
    for step, values in (
        ("person", {"alias": "Twice Clicked", "language": "en", "referral_source": "self"}),
        ("contact", {"phone": None}),
        ("household", {"adults": 1, "pets": 0}),
        ("needs", {"access_needs": ""}),
        ("screen", {"instrument": lethality.ref, "answers": {q.key: "no" for q in lethality.questions}}),
        ("consent", {"consent_sms": False}),
    ):
        service.save_step(owner, draft, step, values, complete=True)
    db.session.commit()
    return draft.id


def test_two_requests_finishing_one_draft_open_one_case(app: Flask) -> None:
    agency = make_agency()
    # Ids only: the threads must not touch the main thread's objects (or its session).
    # Actors are plain values (ids), so the threads may share them.
    advocates = [factories.actor(make_user(agency, Role.ADVOCATE)) for _ in range(2)]
    for _round in range(ROUNDS):
        draft_id = ready_draft(advocates[0])
        results = both_at_once(
            app,
            lambda draft_id=draft_id: db.session.get(IntakeDraft, draft_id),
            lambda draft, i: service.finish_draft(advocates[i], draft).id,
        )
        assert sorted(map(str, results)).count("already finished") == 1, results
        case_id = next(r for r in results if isinstance(r, int))
        assert db.session.get(IntakeDraft, draft_id) is None
        assert db.session.scalar(select(func.count()).where(RiskScreening.case_id == case_id)) == 1
    assert db.session.scalar(select(func.count()).select_from(Case)) == ROUNDS


def test_two_requests_for_a_bed_for_one_case_hold_beds_once(app: Flask) -> None:
    """A double click on "Save" with a shelter chosen, or two colleagues at once:
    one referral, one hold; the other request is refused and holds nothing."""
    agency = make_agency()
    other = make_agency("other")
    setup = factories.system(other)
    shelter = shelters.add_shelter(setup, other.id, "Far House", "FH-1", "Far North")
    shelters.add_room(
        setup,
        shelter,
        "Family",
        room_type=RoomType.FAMILY,
        beds=[("A", BedType.ADULT), ("B", BedType.ADULT)],
    )
    shelters.add_room(setup, shelter, "Single", beds=[("C", BedType.ADULT), ("D", BedType.ADULT)])
    agency_id, shelter_id = agency.id, shelter.id
    db.session.commit()
    advocates = [factories.actor(make_user(agency, Role.ADVOCATE)) for _ in range(2)]
    for _round in range(ROUNDS):
        case_id = service.open_case(
            factories.system(agency_id), agency_id, advocates[0].user_id, "One Household"
        ).id
        db.session.commit()
        results = both_at_once(
            app,
            lambda case_id=case_id: db.session.get(Case, case_id),
            lambda case, i: service.place_referral(advocates[i], case, shelter_id).referral_id,
        )
        refused = [r for r in results if isinstance(r, str)]
        assert len(refused) == 1 and "already has beds held" in refused[0], results
        referral_id = next(r for r in results if isinstance(r, int))
        assert db.session.scalar(select(func.count()).where(Placement.case_id == case_id)) == 1
        held = db.session.scalar(
            select(func.count()).where(Bed.shelter_id == shelter_id, Bed.state == "held")
        )
        assert held == 1
        # The referring advocate cancels, which frees the bed for the next round.
        shelters.cancel_referral(advocates[0], referral_id)
        db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Referral)) == ROUNDS
