"""The partner pull API: bearer tokens, its own records only, a stable cursor, problem details."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from advocacy.audit.models import AuditEvent
from advocacy.extensions import db
from advocacy.handoff import service
from advocacy.handoff.openapi import document
from advocacy.handoff.serialize import PAGE_FIELDS
from tests import factories
from tests.test_handoff_world import consent, partner, release, world


def _token(of_partner) -> str:  # type: ignore[no-untyped-def]
    issued = service.issue_token(factories.system(of_partner.agency_id), of_partner)
    factories.commit()
    return issued.plaintext


def _get(client, path: str, token: str | None, **headers: str):  # type: ignore[no-untyped-def]
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.get(path, headers=headers)


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"]
    return body


def test_without_a_valid_token_the_api_answers_401_problem_details(app, client, clock) -> None:
    *_rest, tracking = world()
    _problem(_get(client, "/api/v1/handoff/", None), 401)
    _problem(_get(client, "/api/v1/handoff/", "hop_wrong"), 401)
    token = _token(tracking)
    service.revoke_token(factories.system(tracking.agency_id), tracking, service.tokens(tracking)[0].id)
    factories.commit()
    _problem(_get(client, "/api/v1/handoff/", token), 401)


def test_an_expired_token_gets_401(app, client, clock) -> None:
    *_rest, tracking = world()
    token = _token(tracking)
    assert _get(client, "/api/v1/handoff/", token).status_code == 200
    clock.advance(timedelta(days=366))
    _problem(_get(client, "/api/v1/handoff/", token), 401)


def test_a_signed_in_session_does_not_open_the_api(app, client, clock) -> None:
    from tests.helpers import sign_in

    _north, advocate, *_rest = world()
    sign_in(client, advocate)
    _problem(client.get("/api/v1/handoff/"), 401)


def test_a_partner_reads_its_records_page_by_page_in_a_stable_order(app, client, clock) -> None:
    _north, advocate, case, tracking = world()
    consent(case, tracking)
    who = factories.actor(advocate)
    made = [release(who, case, tracking, summary=f"Contact number {i} after court.") for i in range(5)]
    token = _token(tracking)
    seen: list[str] = []
    cursor = ""
    while True:
        response = _get(client, f"/api/v1/handoff/?limit=2&cursor={cursor}", token)
        assert response.status_code == 200 and response.mimetype == "application/json"
        page = json.loads(response.data)
        seen += [r["record_id"] for r in page["records"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
        assert not cursor.isdigit()
    assert seen == [r.uuid for r in made]
    # The page names its own fields only, and embeds each record as the bytes frozen at release.
    first = _get(client, "/api/v1/handoff/?limit=2", token)
    assert tuple(json.loads(first.data)) == PAGE_FIELDS
    assert made[0].body.encode() in first.data and made[1].body.encode() in first.data
    one = _get(client, f"/api/v1/handoff/{made[2].uuid}", token)
    assert one.data.decode() == made[2].body
    assert (
        _get(
            client, f"/api/v1/handoff/{made[2].uuid}", token, **{"If-None-Match": one.headers["ETag"]}
        ).status_code
        == 304
    )


def test_a_partner_cannot_read_another_partners_or_another_agencys_records(app, client, clock) -> None:
    north, advocate, case, tracking = world("north")
    other = partner(north, "Probation")
    consent(case, tracking)
    theirs = release(factories.actor(advocate), case, tracking)
    _s, south_advocate, south_case, south_partner = world("south")
    consent(south_case, south_partner)
    south_record = release(factories.actor(south_advocate), south_case, south_partner)
    token = _token(other)
    assert json.loads(_get(client, "/api/v1/handoff/", token).data)["records"] == []
    _problem(_get(client, f"/api/v1/handoff/{theirs.uuid}", token), 404)
    _problem(_get(client, f"/api/v1/handoff/{south_record.uuid}", _token(tracking)), 404)
    _problem(
        client.post(
            f"/api/v1/handoff/{south_record.uuid}/ack",
            headers={"Authorization": f"Bearer {_token(tracking)}"},
        ),
        404,
    )


def test_acknowledging_receipt_marks_the_record_delivered_so_revoking_no_longer_withholds_it(
    app, client, clock
) -> None:
    _north, advocate, case, tracking = world()
    given = consent(case, tracking)
    record = release(factories.actor(advocate), case, tracking)
    token = _token(tracking)
    response = client.post(f"/api/v1/handoff/{record.uuid}/ack", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json()["record_id"] == record.uuid
    assert service.revoke_consent(factories.system(case.agency_id), given) == 0


def test_a_withheld_record_is_gone_from_the_api(app, client, clock) -> None:
    _north, advocate, case, tracking = world()
    given = consent(case, tracking)
    record = release(factories.actor(advocate), case, tracking)
    service.revoke_consent(factories.system(case.agency_id), given)
    factories.commit()
    token = _token(tracking)
    assert json.loads(_get(client, "/api/v1/handoff/", token).data)["records"] == []
    _problem(_get(client, f"/api/v1/handoff/{record.uuid}", token), 404)


def test_a_bad_cursor_or_limit_is_a_400_problem(app, client, clock) -> None:
    *_rest, tracking = world()
    token = _token(tracking)
    _problem(_get(client, "/api/v1/handoff/?cursor=nonsense!", token), 400)
    _problem(_get(client, "/api/v1/handoff/?limit=0", token), 400)
    _problem(_get(client, "/api/v1/handoff/?limit=abc", token), 400)
    _problem(_get(client, "/api/v1/nothing-here", token), 404)


def test_a_misspelt_query_parameter_is_a_400_not_the_first_page_again(app, client, clock) -> None:
    _north, advocate, case, tracking = world()
    consent(case, tracking)
    release(factories.actor(advocate), case, tracking)
    token = _token(tracking)
    body = _problem(_get(client, "/api/v1/handoff/?curser=abc", token), 400)
    assert body["field"] == "curser"
    made = json.loads(_get(client, "/api/v1/handoff/", token).data)["records"][0]
    _problem(_get(client, f"/api/v1/handoff/{made['record_id']}?limit=5", token), 400)
    # Without a token the answer is still 401, whatever the query.
    _problem(_get(client, "/api/v1/handoff/?curser=abc", None), 401)


def test_a_method_the_api_does_not_take_is_a_405_that_says_which_it_does(app, client, clock) -> None:
    *_rest, tracking = world()
    response = client.delete("/api/v1/handoff/", headers={"Authorization": f"Bearer {_token(tracking)}"})
    _problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET"}


def test_a_token_never_appears_in_a_log(app, client, clock, caplog: pytest.LogCaptureFixture) -> None:
    *_rest, tracking = world()
    token = _token(tracking)
    with caplog.at_level(logging.DEBUG):
        _get(client, "/api/v1/handoff/", token)
        _get(client, "/api/v1/handoff/", token + "x")
    assert token not in caplog.text


def test_the_openapi_document_describes_every_route_of_the_api(app, client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = json.loads(response.data)
    assert doc == json.loads(json.dumps(document()))
    assert doc["openapi"].startswith("3.1")
    routes = {
        r.rule
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("handoff_api.") and r.endpoint != "handoff_api.openapi"
    }
    described = {p.replace("{record_id}", "<record_id>") for p in doc["paths"]}
    assert routes == described
    record = doc["components"]["schemas"]["Record"]
    from advocacy.handoff.serialize import AUDIENCES

    assert set(record["properties"]) == {name for name, _get in AUDIENCES["partner"]}


def test_every_api_route_but_the_openapi_document_answers_401_without_a_token(app, client) -> None:
    from tests.test_access import every_route

    routes = [r for r in every_route(app) if r[0].startswith("handoff_api.") and r[1] in ("GET", "POST")]
    assert len(routes) >= 4
    for endpoint, method, url in routes:
        response = client.open(url, method=method)
        expected = 200 if endpoint == "handoff_api.openapi" else 401
        assert response.status_code == expected, (endpoint, method)


def _audited() -> list[tuple[str, str | None, str | None]]:
    """The hand-off entries of the audit log, oldest first: (action, object type, object id)."""
    rows = db.session.execute(
        select(AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id).order_by(AuditEvent.id)
    )
    return [tuple(row) for row in rows if row[0].startswith("handoff.")]


def test_every_release_fetch_and_acknowledgement_is_in_the_audit_log(app, client, clock) -> None:
    _north, advocate, case, tracking = world()
    consent(case, tracking)
    record = release(factories.actor(advocate), case, tracking)
    token = _token(tracking)
    before = _audited()
    assert ("handoff.release", "handoff_record", str(record.id)) in before
    auth = {"Authorization": f"Bearer {token}"}
    assert _get(client, "/api/v1/handoff/", token).status_code == 200
    assert _get(client, f"/api/v1/handoff/{record.uuid}", token).status_code == 200
    assert client.post(f"/api/v1/handoff/{record.uuid}/ack", headers=auth).status_code == 200
    # A second acknowledgement changes nothing and is not a second receipt.
    assert client.post(f"/api/v1/handoff/{record.uuid}/ack", headers=auth).status_code == 200
    assert _audited()[len(before) :] == [
        ("handoff.fetch", "handoff_partner", str(tracking.id)),
        ("handoff.fetch", "handoff_record", str(record.id)),
        ("handoff.acknowledge", "handoff_record", str(record.id)),
    ]


def test_a_page_has_an_etag_that_changes_when_a_record_arrives(app, client, clock) -> None:
    _north, advocate, case, tracking = world()
    consent(case, tracking)
    who = factories.actor(advocate)
    release(who, case, tracking)
    token = _token(tracking)
    first = _get(client, "/api/v1/handoff/", token)
    etag = first.headers["ETag"]
    same = _get(client, "/api/v1/handoff/", token, **{"If-None-Match": etag})
    assert same.status_code == 304 and same.data == b"" and same.headers["ETag"] == etag
    release(who, case, tracking)
    factories.commit()
    changed = _get(client, "/api/v1/handoff/", token, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(json.loads(changed.data)["records"]) == 2
