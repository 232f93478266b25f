"""The partner pull API: ``/api/v1/handoff/`` with bearer tokens, JSON, problem details.

A separate blueprint: no session, no CSRF (a bearer token is not sent by a
browser on its own), no HTML.  The request guard in
:mod:`advocacy.security` turns the bearer token into a partner actor; every
endpoint here except the OpenAPI document requires one, so a forgotten
check cannot open an endpoint.  Errors are RFC 9457 problem details; a
record of another partner or agency is 404, like one that does not exist.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from advocacy.access import current_actor
from advocacy.actor import ActorKind
from advocacy.errors import Forbidden, NotFound, Refused
from advocacy.extensions import csrf
from advocacy.handoff import serialize
from advocacy.handoff.service import pull

api = Blueprint("handoff_api", __name__, url_prefix="/api/v1")
csrf.exempt(api)
#: Registered by ``create_app`` as every domain's ``bp`` is.
bp = api

PROBLEM_TYPE = "about:blank"
#: Endpoints of this blueprint that need no token.
OPEN_ENDPOINTS = frozenset({"handoff_api.openapi"})

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def problem(status: int, detail: str | None = None, **extra: Any) -> Response:
    """An RFC 9457 problem details response."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE, "title": _TITLES.get(status, "Error"), "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="handoff"'
    return response


#: The query parameters each endpoint reads.  Any other is refused rather than ignored, so that
#: a misspelt ``cursor`` is a 400 and not, silently, the first page again.
QUERY_PARAMETERS = {"handoff_api.records": frozenset({"cursor", "limit"})}


@api.before_request
def require_partner() -> Response | None:
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if current_actor().kind is not ActorKind.PARTNER:
        return problem(401, "Send a valid partner token: Authorization: Bearer <token>.")
    unknown = sorted(set(request.args) - QUERY_PARAMETERS.get(request.endpoint or "", frozenset()))
    if unknown:
        return problem(400, "This endpoint takes no such query parameter.", field=unknown[0])
    return None


@api.errorhandler(NotFound)
def _not_found(_error: NotFound) -> Response:
    return problem(404)


@api.errorhandler(Forbidden)
def _forbidden(_error: Forbidden) -> Response:
    return problem(403, "This token may not do this.")


@api.errorhandler(Refused)
def _refused(error: Refused) -> Response:
    return problem(400, str(error.message), **({"field": error.field} if error.field else {}))


@api.errorhandler(HTTPException)
def _http(error: HTTPException) -> Response:
    response = problem(error.code or 500)
    # The exception's own headers matter: a 405 must say which methods are allowed (RFC 9110).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _json(body: bytes, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="application/json")
    response.headers["ETag"] = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if request.if_none_match and request.if_none_match.contains(response.headers["ETag"].strip('"')):
        return Response(status=304, headers={"ETag": response.headers["ETag"]})
    return response


def _limit() -> int:
    raw = request.args.get("limit", str(pull.PAGE_SIZE))
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 4:
        raise Refused("The limit must be a whole number.", "limit")
    return int(raw)


@api.get("/handoff/")
def records() -> Response:
    page = pull.list_records(current_actor(), request.args.get("cursor") or None, _limit())
    return _json(serialize.page_bytes(page.bodies, page.next_cursor))


@api.get("/handoff/<record_id>")
def record(record_id: str) -> Response:
    return _json(pull.fetch_record(current_actor(), record_id).encode("utf-8"))


@api.post("/handoff/<record_id>/ack")
def acknowledge(record_id: str) -> Response:
    found = pull.acknowledge(current_actor(), record_id)
    body = {
        "record_id": found.uuid,
        "acknowledged_at": found.acknowledged_at.isoformat() if found.acknowledged_at else None,
    }
    return Response(json.dumps(body), status=200, mimetype="application/json")


@api.get("/openapi.json")
def openapi() -> Response:
    from advocacy.handoff.openapi import document

    return Response(json.dumps(document(), indent=2), mimetype="application/json")
