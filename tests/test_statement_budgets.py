"""Each page names its budget of SQL statements, and keeps it (issue 11's rule: no N+1)."""

from __future__ import annotations

from flask import Flask

from advocacy.auth.models import Role
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
