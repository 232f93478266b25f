"""schemathesis against the partner API's own OpenAPI document, in process through WSGI.

The document at ``/api/v1/openapi.json`` is what partners build their
clients from, so it must describe the API exactly: schemathesis generates
requests from it (valid and invalid ones) and checks every answer against
it, with schemathesis' default checks: no server error, a status code and a
content type the document lists, a body that validates against the schema
given for it, and a 401 without credentials where the document asks for
them.  Two kinds of requests: the fixed cases of schemathesis' coverage
phase (every boundary of the document, with a partner's token), and
generated examples, once with the token of a partner that has records and
once with no token at all.  The run is bounded (all coverage cases, 30
derandomized examples per test, no deadline) so that it stays a few seconds
of ``make test``.  What it found on its first run, fixed since: a 405
without ``Allow``; a cursor described as any string up to 64 characters
where only the API's own 22-character cursors (or none) are taken.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import positive_data_acceptance

from advocacy.handoff import service
from advocacy.handoff.openapi import CURSOR_PATTERN
from tests import factories
from tests.test_handoff_world import consent, release, world

#: Few examples per operation and always the same ones: a check of the document, not a fuzzing campaign.
BOUNDED = settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@dataclass(frozen=True)
class Partner:
    token: str
    record_ids: list[str]


@pytest.fixture
def partner(app: Flask, clock: Any) -> Partner:
    """A partner with a token and three released records, whose ids the generated requests also use."""
    _north, advocate, case, tracking = world()
    consent(case, tracking)
    who = factories.actor(advocate)
    made = [release(who, case, tracking, summary=f"Reached her after hearing {i}.") for i in range(3)]
    issued = service.issue_token(factories.system(tracking.agency_id), tracking)
    factories.commit()
    return Partner(issued.plaintext, [r.uuid for r in made])


def _cases(app: Flask, partner: Partner | None = None) -> Any:
    """(case, fits the document) for every operation: requests that fit it and requests that break it.

    With a partner, every request carries its token (schemathesis then breaks
    everything but that header), and the record operations are also called
    with ids of records that exist: random UUIDs only ever find nothing.
    """
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {partner.token}"} if partner else None
    fitting = [schema.as_strategy(GenerationMode.POSITIVE, headers=headers)]
    for record_id in partner.record_ids if partner else []:
        for path, method in (
            ("/api/v1/handoff/{record_id}", "GET"),
            ("/api/v1/handoff/{record_id}/ack", "POST"),
        ):
            fitting.append(
                schema[path][method].as_strategy(path_parameters={"record_id": record_id}, headers=headers)
            )
    return st.one_of(
        st.one_of(fitting).map(lambda case: (case, True)),
        schema.as_strategy(GenerationMode.NEGATIVE, headers=headers).map(lambda case: (case, False)),
    )


def fitting_requests_are_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis' ``positive_data_acceptance``, knowing what JSON Schema cannot say about the cursor.

    The document can give the cursor's shape but not "one this API gave
    out": a cursor of that shape that is no record of this partner's is
    refused (400, problem field ``cursor``), as the document's description
    of it says.  Every other request that fits the document must be accepted.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    problem = json.loads(response.content)
    cursor = (case.query or {}).get("cursor")
    if problem.get("field") == "cursor" and isinstance(cursor, str) and re.fullmatch(CURSOR_PATTERN, cursor):
        return True
    raise AssertionError(f"A request that fits the document was refused: {problem}")


def _coverage_cases(app: Flask) -> Iterator[Any]:
    """schemathesis' coverage phase: a fixed set of cases at and past every boundary the document draws.

    Each parameter at its minimum and maximum and just past them, of a wrong
    type, not matching its pattern, an unknown query parameter, a missing
    Authorization header, every method the document does not list.  Unlike
    the generated examples these are the same on every run and few enough to
    send them all.  (``CoverageGenerator`` is what schemathesis' own runner
    uses for this phase; the version is pinned in requirements.lock.)
    """
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for result in schema.get_all_operations():
        operation = result.ok()
        yield from CoverageGenerator(
            operation=operation,
            generation_modes=list(GenerationMode),
            generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
            auth_storage=None,
            override=Override(),
            feedback=FeedbackSources(),
        )


def test_every_boundary_the_document_draws_holds(app: Flask, partner: Partner) -> None:
    checked: list[str] = []
    for case in _coverage_cases(app):
        # The case leaves out the header when it tests a missing token; otherwise it gets the real one.
        if case.headers and "Authorization" in case.headers:
            case.headers["Authorization"] = f"Bearer {partner.token}"
        case.call_and_validate(
            excluded_checks=[positive_data_acceptance], additional_checks=[fitting_requests_are_accepted]
        )
        checked.append(f"{case.method} {case.operation.path}")
    assert {"TRACE /api/v1/handoff/", "GET /api/v1/handoff/{record_id}"} <= set(checked)


def test_the_api_answers_as_its_document_says_with_a_partner_token(app: Flask, partner: Partner) -> None:
    answered: set[tuple[str, int]] = set()

    @BOUNDED
    @given(_cases(app, partner))
    def check(generated: tuple[Any, bool]) -> None:
        case, _fits = generated
        response = case.call_and_validate(
            excluded_checks=[positive_data_acceptance],
            additional_checks=[fitting_requests_are_accepted],
        )
        answered.add((case.operation.label, response.status_code))

    check()
    # Every operation was seen answering with its records, not only with errors.
    assert {label for label, status in answered if status == 200} == {
        "GET /api/v1/handoff/",
        "GET /api/v1/handoff/{record_id}",
        "POST /api/v1/handoff/{record_id}/ack",
    }, answered


def test_the_api_answers_as_its_document_says_without_a_token(app: Flask, partner: Partner) -> None:
    @BOUNDED
    @given(_cases(app))
    def check(generated: tuple[Any, bool]) -> None:
        case, fits = generated
        status = case.call_and_validate(
            excluded_checks=[positive_data_acceptance], additional_checks=[fitting_requests_are_accepted]
        ).status_code
        # A request the document calls malformed may be refused for that before the missing token.
        assert status == 401 if fits else status in (400, 401), (status, case)

    check()
