"""Danger stays visible: a lower re-screen of a high-danger case waits for an
advocate, who confirms it with a reason; until then the case stays "High
danger" and its open protocol steps stay open.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy import select

from advocacy.audit.models import AuditEvent
from advocacy.auth.models import Role
from advocacy.errors import Refused
from advocacy.extensions import db
from advocacy.intake import service
from advocacy.intake.models import Case, ProtocolOutcome, RiskScreening
from tests import factories
from tests.helpers import CSRFClient, sign_in, text_of


@pytest.fixture
def north(app: Flask) -> SimpleNamespace:
    agency = factories.agency("north", "North Shore")
    amina = factories.user(agency, Role.ADVOCATE)
    case = factories.case(amina, "Rosa M.")
    return SimpleNamespace(agency=agency, amina=amina, case_id=case.id)


def case_now(case_id: int) -> Case:
    db.session.expire_all()
    found = db.session.get(Case, case_id)
    assert found is not None
    return found


def actions(case_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == str(case_id)).order_by(AuditEvent.id)
        )
    )


def screened_in_then_lower(north: SimpleNamespace) -> Case:
    case = case_now(north.case_id)
    factories.screening(case, 1, by=north.amina)
    steps = service.protocol_steps(case)
    service.complete(factories.actor(north.amina), steps[0], ProtocolOutcome.DONE)
    factories.commit()
    factories.screening(case_now(north.case_id), by=north.amina)  # every answer "no"
    return case_now(north.case_id)


def test_a_lower_rescreen_keeps_high_danger_and_the_open_steps(north: SimpleNamespace) -> None:
    case = screened_in_then_lower(north)
    assert case.high_danger
    pending = service.pending_lowering(case)
    assert pending is not None and not pending.screened_in
    steps = service.protocol_steps(case)
    assert [s.done_at is None for s in steps] == [False, True, True, True]
    assert service.open_protocol_steps([case.id]) == {case.id: 3}
    assert "case.danger.lower_pending" in actions(case.id)


def test_confirming_with_a_reason_lowers_the_danger_and_is_audited(
    north: SimpleNamespace, clock: object
) -> None:
    case = screened_in_then_lower(north)
    with pytest.raises(Refused) as refused:
        service.confirm_lowering(factories.actor(north.amina), case, "   ")
    assert refused.value.field == "reason"
    assert case_now(case.id).high_danger
    service.confirm_lowering(factories.actor(north.amina), case, "Moved to her sister's in another state.")
    factories.commit()
    case = case_now(case.id)
    assert not case.high_danger and service.pending_lowering(case) is None
    screening = db.session.scalars(
        select(RiskScreening).where(RiskScreening.case_id == case.id).order_by(RiskScreening.id.desc())
    ).first()
    assert screening is not None
    assert screening.lowering_reason == "Moved to her sister's in another state."
    assert screening.lowered_by_id == north.amina.id and screening.lowered_at is not None
    assert actions(case.id)[-1] == "case.danger.lowered"
    # The screened-in screening stays in the history.
    assert [e.screening.screened_in for e in service.risk_history(case)] == [False, True]
    with pytest.raises(Refused):
        service.confirm_lowering(factories.actor(north.amina), case, "again")


def test_a_new_screened_in_result_ends_the_review(north: SimpleNamespace) -> None:
    case = screened_in_then_lower(north)
    factories.screening(case, 2, by=north.amina)
    case = case_now(case.id)
    assert case.high_danger and service.pending_lowering(case) is None


def test_a_first_standard_result_needs_no_review(north: SimpleNamespace) -> None:
    factories.screening(case_now(north.case_id), by=north.amina)
    case = case_now(north.case_id)
    assert case.danger == "standard" and service.pending_lowering(case) is None


def test_the_case_page_shows_lower_result_pending_review_until_confirmed(
    client: CSRFClient, north: SimpleNamespace
) -> None:
    case = case_now(north.case_id)
    factories.screening(case, 1, by=north.amina)
    sign_in(client, north.amina)
    answers = {f"answer_{key}": answer for key, answer in factories.yes_to().items()}
    response = client.post(
        f"/cases/{case.id}/screen",
        data={"instrument": "lethality-screen@1", **answers},
        follow_redirects=True,
    )
    text = text_of(response)
    assert "Lower result pending review" in text and "High danger" in text
    assert "stays high danger until an advocate confirms" in text
    # Without a reason, nothing changes and the field says why.
    response = client.post(f"/cases/{case.id}/lower", data={"reason": ""})
    assert response.status_code == 400
    assert re.search(
        r'id="reason-error-1"[^>]*>Say why the danger is lower now', response.get_data(as_text=True)
    )
    assert case_now(case.id).high_danger
    response = client.post(
        f"/cases/{case.id}/lower", data={"reason": "Safety order in place"}, follow_redirects=True
    )
    text = text_of(response)
    assert "Lower result pending review" not in text
    assert "Lower result confirmed by" in text and "Safety order in place" in text
    assert not case_now(case.id).high_danger
