"""Each page names its budget of SQL statements, and keeps it (issue 11's rule: no N+1)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask

from advocacy.auth.models import Agency, Role
from advocacy.extensions import db
from advocacy.shelters import service as shelters
from advocacy.shelters.models import OutOfServiceReason
from tests import factories
from tests.helpers import CSRFClient, sign_in
from tests.statements import counted


def test_a_signed_in_page_that_reads_nothing_else_costs_one_statement(client: CSRFClient, app: Flask) -> None:
    """The user, their session, memberships and agencies: one statement, nothing after."""
    north = factories.agency("north")
    sign_in(client, factories.user(north, Role.ADVOCATE))
    client.get("/auth/account")  # warm: nothing cached between requests but what the session holds
    with counted() as statements:
        response = client.get("/auth/account")
    assert response.status_code == 200
    assert len(statements) == 1, statements


def test_the_health_check_of_a_signed_in_person_costs_two_statements(client: CSRFClient) -> None:
    north = factories.agency("north")
    sign_in(client, factories.user(north, Role.ADVOCATE))
    with counted() as statements:
        assert client.get("/healthz").status_code == 200
    assert len(statements) <= 2, statements  # the user, and SELECT 1


# --- the boards and the case pages: a world with something in every section ----------------------


@pytest.fixture
def busy(app: Flask) -> SimpleNamespace:
    """Two shelters of North with held, occupied and out-of-service beds and a referral from
    Valley; Valley's cases, two of them screened in (open protocol steps), and an unfinished
    intake.  Enough rows of each kind that a query per row would show in the count."""
    north, valley = factories.agency("north"), factories.agency("valley")
    staff = factories.user(north, Role.SHELTER_STAFF)
    advocate = factories.user(valley, Role.ADVOCATE)
    colleague = factories.user(valley, Role.ADVOCATE)
    rooms = (
        "F1: adult adult child crib; F2+accessible+pets: adult child child; S1: adult; S2: adult; S3: adult"
    )
    birch = factories.shelter(north, rooms, languages=("en", "so"))
    factories.shelter(
        north, rooms, label="NS-2", name="Aspen House", address=None, cultural_program="indigenous"
    )
    factories.shelter(valley, "S1: adult adult", label="RV-1", region="River Valley", name="Cedar Haven")
    setup = factories.system(north)
    beds = {bed.label: bed.id for room in birch.rooms for bed in room.beds}
    shelters.place_hold(setup, birch, [beds["S1-A"]], note="a caller on the line")
    shelters.place_hold(setup, birch, [beds["S2-A"]])
    shelters.check_in(setup, birch, [beds["F1-A"], beds["F1-B"]], adults=2, children=0)
    shelters.check_in(setup, birch, [beds["S3-A"]], adults=1, children=0)
    shelters.take_out_of_service(setup, birch, [beds["F1-D"]], OutOfServiceReason.REPAIR)
    shelters.request_referral(
        factories.actor(advocate),
        birch.id,
        shelters.Household(adults=1, children_ages=(4, 7)),
        from_agency_id=valley.id,
    )
    factories.commit()
    cases = [factories.case(owner, f"Person {i}") for i, owner in enumerate([advocate, colleague] * 4)]
    # Screened by two advocates: the history names both without a query for each.
    factories.screening(cases[0], 5, by=colleague)
    factories.screening(cases[0], 1, 2, by=advocate)
    factories.screening(cases[1], 1)
    factories.screening(cases[2], 5)
    factories.draft(advocate)
    factories.draft(colleague)
    return SimpleNamespace(staff=staff, advocate=advocate, shelter_id=birch.id, case_id=cases[0].id)


#: What one audited look costs on top of the page's own statements: the claim of the chain's
#: next place (its lock and last hash) and the entry, whose trigger moves the head.
AUDIT_APPEND = 2


def _page_statements(client: CSRFClient, path: str) -> list[str]:
    assert client.get(path).status_code == 200  # warm: the first look may write what later ones read
    with counted() as statements:
        response = client.get(path)
    assert response.status_code == 200, response.data[:500]
    return statements


def test_the_network_board_costs_at_most_six_statements(client: CSRFClient, busy: SimpleNamespace) -> None:
    sign_in(client, busy.advocate)
    statements = _page_statements(client, "/shelters/network")
    # The user; due holds; the ETag; the shelters (the form's regions come from them);
    # the counts, largest family rooms.
    assert len(statements) <= 6, "\n".join(statements)


def test_the_opened_staff_board_costs_at_most_seven_statements_and_its_audit(
    client: CSRFClient, busy: SimpleNamespace
) -> None:
    """The user, the shelter with its agency's staleness rule (its row gives the ETag's
    version), due holds, then the beds (their counts from the same rows), holds, stays
    and referrals: whatever the number of beds."""
    sign_in(client, busy.staff)
    statements = _page_statements(client, f"/shelters/{busy.shelter_id}/board")
    assert len(statements) <= 7 + AUDIT_APPEND, "\n".join(statements)


def test_the_case_list_costs_at_most_five_statements_and_its_audit(
    client: CSRFClient, busy: SimpleNamespace
) -> None:
    """The user, the owners (two columns), the drafts with their owners' names, the
    page's rows with their owners' names and the count (its ids numbered in a subquery),
    the open protocol steps: not one per row."""
    sign_in(client, busy.advocate)
    statements = _page_statements(client, "/cases/")
    assert len(statements) <= 5 + AUDIT_APPEND, "\n".join(statements)


#: What each domain's section on the case page may read (their own budgets, so that
#: one section growing fails the test by its name): the plan with its current version;
#: the court dates; the subscription (the live one, else the newest, in one statement),
#: then, only for a case ever enrolled, the outbox and the inbox; the consents and the
#: partners, then, only for a case with a consent (every record names one), the records.
CASE_SECTIONS = {"safety plan": 1, "court dates": 1, "text reminders": 1, "hand-off": 2}
#: The same sections for a case enrolled for texts and with a signed release.
CASE_SECTIONS_IN_USE = {**CASE_SECTIONS, "text reminders": 3, "hand-off": 3}


def test_the_case_page_of_a_screened_in_case_costs_at_most_eight_statements_its_sections_and_its_audit(
    client: CSRFClient, busy: SimpleNamespace
) -> None:
    """The user, the case with its advocate's name, the latest screened-in screening and its
    steps, the risk history with who screened, a lower result pending review, the placements,
    the advocates to reassign to; then each section's own statements."""
    sign_in(client, busy.advocate)
    statements = _page_statements(client, f"/cases/{busy.case_id}")
    assert len(statements) <= 8 + sum(CASE_SECTIONS.values()) + AUDIT_APPEND, "\n".join(statements)


def test_a_case_with_texts_and_a_release_reads_its_messages_and_records_in_a_statement_each(
    client: CSRFClient, busy: SimpleNamespace
) -> None:
    from advocacy.intake.models import Case
    from tests.test_handoff_world import consent, partner

    case = db.session.get(Case, busy.case_id)
    assert case is not None
    case.phone, case.safe_to_text, case.consent_sms = "+12185550101", True, True
    agency = db.session.get(Agency, case.agency_id)
    assert agency is not None
    factories.sms_sender(agency)
    factories.commit()
    factories.confirmed_subscription(factories.actor(busy.advocate), case)
    consent(case, partner(agency))
    sign_in(client, busy.advocate)
    statements = _page_statements(client, f"/cases/{busy.case_id}")
    page = client.get(f"/cases/{busy.case_id}").get_data(as_text=True)
    assert "ROI form 2026-117" in page  # the release is shown
    assert "<h3>Texts</h3>" in page  # the texted code is listed
    assert len(statements) <= 8 + sum(CASE_SECTIONS_IN_USE.values()) + AUDIT_APPEND, "\n".join(statements)


# --- the home pages: one statement per panel -----------------------------------------------------


def test_an_advocates_home_page_costs_one_statement_per_panel_and_its_audit(
    client: CSRFClient, busy: SimpleNamespace
) -> None:
    """The user; then one each: the open cases with their open steps, the
    unfinished intakes, the referrals made; and two for "call the victim" (its
    alerts, and the count of texts not known to have been sent)."""
    sign_in(client, busy.advocate)
    statements = _page_statements(client, "/")
    assert len(statements) <= 6 + AUDIT_APPEND, "\n".join(statements)


def test_a_shelter_workers_home_page_costs_one_statement_per_panel(
    client: CSRFClient, busy: SimpleNamespace
) -> None:
    """The user; referrals waiting, holds ending, the boards, beds out of service."""
    sign_in(client, busy.staff)
    statements = _page_statements(client, "/")
    assert len(statements) <= 5, "\n".join(statements)


def test_an_admins_home_page_costs_a_statement_or_two_per_panel(
    client: CSRFClient, busy: SimpleNamespace
) -> None:
    """The user; the accounts and their locks (two: a lock is a keyed hash of the
    name), the boards, the last audit checkpoint, the "call the victim" alerts
    and unknown texts (two; an admin works with cases too)."""
    admin = factories.user(factories.agency("hills"), Role.ADMIN)
    factories.user(admin.memberships[0].agency, Role.ADVOCATE)
    sign_in(client, admin)
    statements = _page_statements(client, "/")
    assert len(statements) <= 7, "\n".join(statements)
