"""An advocate texts parts of a safety plan to the victim's confirmed safe number through the outbox:
only to a confirmed number, in the victim's language, discreet by default, never a shelter."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from advocacy.clock import FrozenClock
from advocacy.demo.network import SHELTERS as DEMO_SHELTERS
from advocacy.errors import Forbidden, NotFound, Refused
from advocacy.extensions import db
from advocacy.notify.models import EndReason, MessageKind, MessageState, OutboxMessage, Subscription
from advocacy.notify.segments import measure
from advocacy.notify.service import enrol
from advocacy.notify.service.render import render_message
from advocacy.roles import Role
from advocacy.safety import sending, service, texts
from advocacy.safety.models import SafetyPlan
from tests import factories
from tests.helpers import sign_in, text_of

#: Tuesday 1 December 2026, noon in Chicago: outside quiet hours.
NOON = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
VICTIM = "+12185550101"


@pytest.fixture
def world(app: Flask, clock: FrozenClock) -> dict[str, Any]:
    clock.set(NOON)
    north = factories.agency("north")
    advocate = factories.user(north, Role.ADVOCATE)
    for spec in DEMO_SHELTERS:
        factories.shelter(north, name=spec.name, address=spec.address, label=spec.label, region=spec.region)
    case = factories.case(advocate, "Maple", phone=VICTIM, safe_to_text=True, consent_sms=True, language="es")
    actor = factories.actor(advocate)
    service.save_plan(
        actor,
        case,
        base=0,
        content={
            "sections": {"during_incident": {"code_word": [{"word": "mango", "meaning": "llamar al 911"}]}},
            "checked": ["phone"],
        },
        packs=["general", "rural"],
        locale="es",
    )
    factories.commit()
    return {"agency": north, "advocate": advocate, "case": case, "actor": actor}


def confirm(world: dict[str, Any], locale: str = "es") -> Subscription:
    return factories.confirmed_subscription(world["actor"], world["case"], locale)


def plan_rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == MessageKind.PLAN_TEXT)
            .order_by(OutboxMessage.send_after, OutboxMessage.id)
        )
    )


def words(row: OutboxMessage) -> str:
    return render_message(row, enrol.sender_for(row.agency_id)).text


def test_the_numbers_are_queued_to_the_confirmed_number_in_spanish_and_discreetly(
    world: dict[str, Any],
) -> None:
    sub = confirm(world)
    sent = sending.send_plan_texts(world["actor"], world["case"].id, [texts.NUMBERS])
    factories.commit()
    rows = plan_rows()
    assert rows and [r.id for r in rows] == [m.id for m in sent.messages]
    assert {r.subscription_id for r in rows} == {sub.id}
    plan = db.session.scalar(select(SafetyPlan))
    assert {(r.source_type, r.source_id) for r in rows} == {("safety_plan", plan.id)}
    body = "\n".join(words(r) for r in rows)
    assert "1-800-799-7233" in body and "Línea de ayuda" in body
    assert "Violence" not in body and "StrongHearts" not in body
    assert not sent.waits_for_quiet_hours


def test_each_piece_keeps_its_budget_and_no_shelter_is_named(world: dict[str, Any]) -> None:
    confirm(world)
    every = texts.parts_offered()
    sending.send_plan_texts(world["actor"], world["case"].id, every, discreet=False)
    factories.commit()
    rows = plan_rows()
    assert len(rows) > len(every)
    assert "mango" in "\n".join(words(r) for r in rows)
    for row in rows:
        text = words(row)
        assert measure(text).segments <= texts.PIECE_SEGMENTS
        assert set(json.loads(row.params)) == {"text"}
        for spec in DEMO_SHELTERS:
            street = spec.address.split(",")[0].strip()
            assert spec.name not in text and street not in text and spec.address not in text


def test_an_unconfirmed_number_gets_nothing(world: dict[str, Any]) -> None:
    enrol.start_enrolment(world["actor"], world["case"], phone=None, locale="es", acknowledge_draft=True)
    factories.commit()
    with pytest.raises(Refused, match="no confirmed safe number"):
        sending.send_plan_texts(world["actor"], world["case"].id, [texts.NUMBERS])
    assert plan_rows() == []


def test_a_number_that_replied_stop_gets_nothing(world: dict[str, Any]) -> None:
    sub = confirm(world)
    enrol.end_subscription(world["actor"], sub, EndReason.OPTED_OUT)
    factories.commit()
    with pytest.raises(Refused, match="no confirmed safe number"):
        sending.send_plan_texts(world["actor"], world["case"].id, [texts.NUMBERS])
    assert plan_rows() == []


def test_a_section_is_refused_in_the_discreet_style(world: dict[str, Any]) -> None:
    confirm(world)
    with pytest.raises(Refused):
        sending.send_plan_texts(world["actor"], world["case"].id, ["during_incident"])
    assert plan_rows() == []


def test_a_plan_saved_since_the_preview_is_not_sent(world: dict[str, Any]) -> None:
    confirm(world)
    with pytest.raises(Refused, match="changed"):
        sending.send_plan_texts(world["actor"], world["case"].id, [texts.NUMBERS], version_number=0)
    assert plan_rows() == []


def test_at_night_the_pieces_wait_for_the_end_of_quiet_hours(
    world: dict[str, Any], clock: FrozenClock
) -> None:
    confirm(world)
    clock.set(datetime(2026, 12, 2, 4, 0, tzinfo=UTC))  # 22:00 in Chicago
    sent = sending.send_plan_texts(world["actor"], world["case"].id, [texts.NUMBERS])
    assert sent.waits_for_quiet_hours
    assert sent.first_at == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # 08:00 in Chicago


def test_another_agencys_advocate_cannot_text_the_plan(world: dict[str, Any]) -> None:
    confirm(world)
    south = factories.user(factories.agency("south"), Role.ADVOCATE)
    with pytest.raises((NotFound, Forbidden)):
        sending.send_plan_texts(factories.actor(south), world["case"].id, [texts.NUMBERS])
    assert plan_rows() == []


# --- Through the app ------------------------------------------------------------------


def test_the_advocate_sends_the_numbers_and_the_worker_sends_them_on_the_console(
    world: dict[str, Any], app: Flask, client: Any
) -> None:
    confirm(world)
    sign_in(client, world["advocate"])
    page = f"/safety-plans/case/{world['case'].id}/text"
    preview = text_of(client.get(f"{page}?parts={texts.NUMBERS}"))
    assert "Send these" in preview or "Send 1 text" in preview
    posted = client.post(page, data={"parts": texts.NUMBERS, "style": "discreet", "version": "1"})
    assert posted.status_code == 302
    assert "in the outbox" in text_of(client.get(posted.headers["Location"]))
    rows = plan_rows()
    assert rows and all(r.state == MessageState.QUEUED for r in rows)
    result = app.test_cli_runner().invoke(args=["notify", "work", "--once"])
    assert result.exit_code == 0, result.output
    rows = plan_rows()
    assert rows and all(r.state in (MessageState.SENT, MessageState.DELIVERED) for r in rows), [
        (r.state, r.error_code, r.attempts) for r in rows
    ]
    outbox = text_of(client.get("/notify/outbox"))
    assert "1-800-799-7233" in outbox and VICTIM not in outbox


def test_without_a_confirmed_number_the_page_says_so_and_offers_nothing_to_send(
    world: dict[str, Any], client: Any
) -> None:
    sign_in(client, world["advocate"])
    page = f"/safety-plans/case/{world['case'].id}/text"
    html = client.get(f"{page}?parts={texts.NUMBERS}").get_data(as_text=True)
    assert "no confirmed safe number" in html
    assert 'id="send-texts"' not in html
    posted = client.post(page, data={"parts": texts.NUMBERS, "version": "1"})
    assert posted.status_code == 302 and plan_rows() == []
