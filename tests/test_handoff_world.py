"""The hand-off's world in a line each: a partner, a consent, a prepared and released record.

Imported by the other ``test_handoff_*`` modules; the one test here checks
that the world itself is what the others assume.
"""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

from advocacy import clock
from advocacy.actor import Actor
from advocacy.auth.models import Agency, Role, User
from advocacy.handoff import service
from advocacy.handoff.models import ConsentMeans, HandoffRecord, Partner
from advocacy.handoff.vocabulary import EventType
from advocacy.intake.models import Case
from tests import factories

ALL_TYPES = [e.value for e in EventType]


def public_resolver(address: str = "93.184.216.34"):  # type: ignore[no-untyped-def]
    """A DNS that answers ``address`` for every name: no test touches the network."""

    def resolve(host: str, port: int, **_kw: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    return resolve


def partner(
    of: Agency,
    name: str = "County tracking",
    *,
    event_types: list[str] | None = None,
    push_url: str | None = None,
) -> Partner:
    admin = factories.system(of)
    made = service.create_partner(
        admin, name, event_types or ALL_TYPES, push_url, production=True, resolve=public_resolver()
    )
    factories.commit()
    return made


def consent(
    case: Case,
    to: Partner,
    *types: str,
    days: int = 180,
    given_days_ago: int = 1,
) -> Any:
    now = clock.now()
    made = service.record_consent(
        factories.system(case.agency_id),
        case,
        to,
        list(types) or ALL_TYPES,
        given_at=now - timedelta(days=given_days_ago),
        means=ConsentMeans.SIGNED_PAPER,
        form_reference="ROI form 2026-117",
        expires_at=now + timedelta(days=days),
    )
    factories.commit()
    return made


CONTACTED = {"method": "phone", "initiated_by": "advocate"}


def prepare(
    who: Actor,
    case: Case,
    to: Partner,
    event_type: str = "victim_contacted",
    *,
    summary: str | None = "Reached her after the hearing; she wants the no-contact order kept.",
    choices: dict[str, Any] | None = None,
    reference: str = "27-CR-26-1187",
    **kwargs: Any,
) -> service.Prepared:
    return service.prepare(
        who,
        case,
        to,
        event_type,
        event_date=clock.now().date() - timedelta(days=1),
        partner_case_reference=reference,
        choices=CONTACTED if choices is None else choices,
        summary=summary,
        **kwargs,
    )


def release(who: Actor, case: Case, to: Partner, **kwargs: Any) -> HandoffRecord:
    made = service.release(who, case, to, prepare(who, case, to, **kwargs))
    factories.commit()
    return made


def world(agency_slug: str = "north") -> tuple[Agency, User, Case, Partner]:
    north = factories.agency(agency_slug)
    advocate = factories.user(north, Role.ADVOCATE, f"adv-{agency_slug}")
    case = factories.case(advocate, "Maple")
    return north, advocate, case, partner(north)


def test_the_world_has_a_case_and_a_partner_of_one_agency(app, clock) -> None:  # type: ignore[no-untyped-def]
    north, _advocate, case, tracking = world()
    assert case.agency_id == tracking.agency_id == north.id
    assert all(tracking.allows(t) for t in ALL_TYPES)
