"""Safety plans through the services: versions, concurrent edits, local numbers."""

from __future__ import annotations

import threading
import traceback

import pytest
from flask import Flask
from sqlalchemy import func, select

from advocacy.auth.models import Role
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db
from advocacy.safety import content as plan_content
from advocacy.safety import service
from advocacy.safety.models import PlanVersion, SafetyPlan
from advocacy.uow import unit_of_work
from tests import factories


def _words(text: str, *, place: str = "") -> dict:
    sections = {"during_incident": {"notes": [{"text": text}]}}
    if place:
        sections["during_incident"]["safe_places"] = [{"place": place, "how_to_get_there": "walk"}]
    return {"sections": sections, "checked": ["phone", "id_papers"]}


@pytest.fixture
def world(app: Flask):  # type: ignore[no-untyped-def]
    north = factories.agency("north")
    advocate = factories.user(north)
    colleague = factories.user(north)
    case = factories.case(advocate, "Maple", language="es")
    return north, advocate, colleague, case


def test_every_save_is_a_version_with_its_author_time_and_words(world, clock) -> None:  # type: ignore[no-untyped-def]
    _north, advocate, colleague, case = world
    first = service.save_plan(
        factories.actor(advocate), case, base=0, content=_words("Go to the neighbour"), packs=[], locale="es"
    )
    factories.commit()
    clock.advance(minutes=5)
    second = service.save_plan(
        factories.actor(colleague),
        case,
        base=1,
        content=_words("Go to Rosa's", place="Rosa's porch"),
        packs=["rural"],
        locale="es",
    )
    factories.commit()

    assert (first.number, second.number) == (1, 2)
    assert (first.author_id, second.author_id) == (advocate.id, colleague.id)
    assert second.created_at > first.created_at
    assert second.pack_keys == ["general", "rural"]
    stored = plan_content.loads(second.content)
    assert stored["sections"]["during_incident"]["notes"] == [{"text": "Go to Rosa's"}]
    assert stored["checked"] == ["id_papers", "phone"]
    # The first version is kept as it was.
    assert plan_content.loads(first.content)["sections"]["during_incident"]["notes"] == [
        {"text": "Go to the neighbour"}
    ]
    plan = db.session.scalar(select(SafetyPlan))
    assert plan.current_version == 2
    assert [v.number for v in service.versions(factories.actor(advocate), plan)] == [2, 1]


def test_the_second_save_from_the_same_version_is_told_and_writes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    _north, advocate, colleague, case = world
    service.save_plan(factories.actor(advocate), case, base=0, content=_words("one"), packs=[], locale="es")
    factories.commit()
    service.save_plan(factories.actor(advocate), case, base=1, content=_words("mine"), packs=[], locale="es")
    factories.commit()

    with pytest.raises(service.EditConflict) as conflict:
        service.save_plan(
            factories.actor(colleague), case, base=1, content=_words("theirs"), packs=[], locale="es"
        )
    db.session.rollback()
    assert conflict.value.latest.number == 2
    assert conflict.value.mine["sections"]["during_incident"]["notes"] == [{"text": "theirs"}]
    assert db.session.scalar(select(func.count(PlanVersion.id))) == 2
    latest = db.session.scalar(select(PlanVersion).where(PlanVersion.number == 2))
    assert "mine" in plan_content.loads(latest.content)["sections"]["during_incident"]["notes"][0]["text"]


def test_two_first_saves_of_one_case_make_one_plan(world) -> None:  # type: ignore[no-untyped-def]
    _north, advocate, colleague, case = world
    service.save_plan(factories.actor(advocate), case, base=0, content=_words("a"), packs=[], locale="en")
    factories.commit()
    with pytest.raises(service.EditConflict):
        service.save_plan(
            factories.actor(colleague), case, base=0, content=_words("b"), packs=[], locale="en"
        )
    db.session.rollback()
    assert db.session.scalar(select(func.count(SafetyPlan.id))) == 1


def test_another_agencys_advocate_cannot_read_or_save_the_plan(world) -> None:  # type: ignore[no-untyped-def]
    _north, advocate, _colleague, case = world
    service.save_plan(factories.actor(advocate), case, base=0, content=_words("a"), packs=[], locale="en")
    factories.commit()
    south = factories.agency("south")
    stranger = factories.user(south)
    with pytest.raises(NotFound):
        service.plan_state(factories.actor(stranger), case.id)
    with pytest.raises(NotFound):
        service.save_plan(factories.actor(stranger), case, base=1, content=_words("x"), packs=[], locale="en")


def test_text_too_long_is_refused_naming_its_field(world) -> None:  # type: ignore[no-untyped-def]
    _north, advocate, _colleague, case = world
    with pytest.raises(Refused) as refused:
        service.save_plan(
            factories.actor(advocate), case, base=0, content=_words("x" * 2001), packs=[], locale="en"
        )
    assert refused.value.field == "during_incident.notes.0.text"


def test_an_unknown_pack_or_language_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    _north, advocate, _colleague, case = world
    with pytest.raises(Refused):
        service.save_plan(
            factories.actor(advocate), case, base=0, content={}, packs=["astrology"], locale="en"
        )
    with pytest.raises(Refused):
        service.save_plan(factories.actor(advocate), case, base=0, content={}, packs=[], locale="xx")


def test_empty_entries_are_not_kept(world) -> None:  # type: ignore[no-untyped-def]
    clean = plan_content.normalize(
        {"sections": {"children": {"code_word": [{"word": " ", "meaning": ""}], "notes": [{"text": " hi "}]}}}
    )
    assert clean["sections"] == {"children": {"notes": [{"text": "hi"}]}}


# --- local numbers ----------------------------------------------------------------------------


def test_the_agency_admin_adds_a_local_number_with_hours_and_languages(app: Flask) -> None:
    north = factories.agency("north")
    admin = factories.user(north, Role.ADMIN)
    made = service.add_local_number(
        factories.actor(admin),
        north.id,
        name="North crisis line",
        number="(218) 555 0100",
        hours="24 hours",
        languages="English, Ojibwe",
    )
    factories.commit()
    assert made.number == "218-555-0100"
    assert [n.name for n in service.local_numbers(north.id)] == ["North crisis line"]


def test_an_advocate_cannot_add_a_local_number(app: Flask) -> None:
    north = factories.agency("north")
    advocate = factories.user(north)
    with pytest.raises(NotFound):
        service.add_local_number(
            factories.actor(advocate), north.id, name="x", number="211", hours="24h", languages="en"
        )


@pytest.mark.parametrize(
    ("name", "hours"),
    [("Birch House front desk", "24 hours"), ("Crisis line", "Walk in at 1208 Example Ave")],
)
def test_a_local_number_never_carries_a_shelter_name_or_an_address(app: Flask, name: str, hours: str) -> None:
    north = factories.agency("north")
    admin = factories.user(north, Role.ADMIN)
    factories.shelter(north, name="Birch House")
    with pytest.raises(Refused):
        service.add_local_number(
            factories.actor(admin),
            north.id,
            name=name,
            number="218-555-0100",
            hours=hours,
            languages="English",
        )


def test_a_removed_local_number_is_no_longer_listed(app: Flask) -> None:
    north = factories.agency("north")
    admin = factories.user(north, Role.ADMIN)
    made = service.add_local_number(
        factories.actor(admin),
        north.id,
        name="Legal clinic",
        number="211",
        hours="Mon-Fri",
        languages="English",
    )
    service.remove_local_number(factories.actor(admin), made.id)
    factories.commit()
    assert service.local_numbers(north.id) == []


# --- two colleagues at once, on PostgreSQL ----------------------------------------------------


def _save(app: Flask, who, case_id: int, base: int, barrier, outcomes: list, index: int) -> None:  # type: ignore[no-untyped-def]
    """One colleague's save in their own thread, session and transaction, released with the other's."""
    from advocacy.intake.models import Case

    with app.app_context():
        try:
            found = db.session.get(Case, case_id)
            db.session.commit()
            barrier.wait(timeout=30)
            with unit_of_work():
                outcomes[index] = service.save_plan(
                    who, found, base=base, content=_words(f"{index}"), packs=[], locale="en"
                ).number
        except service.EditConflict as conflict:
            outcomes[index] = ("told", conflict.latest.number)
        except BaseException:  # noqa: BLE001 (reported to the main thread)
            outcomes[index] = traceback.format_exc()
        finally:
            db.session.remove()


@pytest.mark.postgresql_only
@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)
def test_two_colleagues_saving_at_once_one_wins_one_is_told(app: Flask, world) -> None:  # type: ignore[no-untyped-def]
    _north, advocate, colleague, case = world
    service.save_plan(factories.actor(advocate), case, base=0, content=_words("start"), packs=[], locale="en")
    factories.commit()
    people = [factories.actor(advocate), factories.actor(colleague)]
    case_id = case.id
    for round_ in range(10):
        base = round_ + 1
        outcomes: list[object] = [None, None]
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=_save, args=(app, people[i], case_id, base, barrier, outcomes, i))
            for i in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        saved = [o for o in outcomes if isinstance(o, int)]
        told = [o for o in outcomes if isinstance(o, tuple)]
        assert saved == [base + 1] and told == [("told", base + 1)], outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count(PlanVersion.id))) == 11
