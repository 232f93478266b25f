"""The OpenAPI 3.1 document of the partner API, built from the same lists the API uses.

The record schema comes from :data:`advocacy.handoff.serialize.AUDIENCES`
and the vocabulary (:func:`advocacy.handoff.vocabulary.choices_schema`), so
the document cannot describe a field the serializer does not emit.
"""

from __future__ import annotations

from typing import Any

from advocacy.handoff.service.pull import MAX_PAGE_SIZE, PAGE_SIZE
from advocacy.handoff.vocabulary import SCHEMA_VERSION, SPECS, EventType, choices_schema

_UUID = {"type": "string", "format": "uuid"}
#: What :func:`advocacy.handoff.service.pull.encode_cursor` gives out: 16 bytes, URL-safe base64, unpadded.
CURSOR_PATTERN = "^[A-Za-z0-9_-]{22}$"
#: The query parameter also takes an empty value, which is the same as none: from the start.
CURSOR_PARAMETER_PATTERN = "^([A-Za-z0-9_-]{22})?$"


def _record_schema() -> dict[str, Any]:
    variants = []
    for event_type in SPECS:
        choices = choices_schema(event_type)
        summary = choices["properties"].pop("summary", None)
        variants.append(
            {
                "type": "object",
                "properties": {
                    "event_type": {"const": event_type.value},
                    "choices": choices,
                    "summary": {"type": "null"}
                    if summary is None
                    else {"anyOf": [summary, {"type": "null"}]},
                },
            }
        )
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "record_id",
            "schema_version",
            "event_type",
            "event_date",
            "partner_case_reference",
            "victim_reference",
            "choices",
            "summary",
            "corrects",
        ],
        "properties": {
            "record_id": _UUID,
            "schema_version": {"const": SCHEMA_VERSION},
            "event_type": {"type": "string", "enum": [e.value for e in EventType]},
            "event_date": {"type": "string", "format": "date"},
            "partner_case_reference": {"type": "string", "minLength": 1, "maxLength": 64},
            "victim_reference": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
            "choices": {"type": "object"},
            "summary": {"type": ["string", "null"], "maxLength": 500},
            "corrects": {"anyOf": [_UUID, {"type": "null"}]},
        },
        "oneOf": variants,
    }


_PROBLEM = {
    "description": "A problem (RFC 9457).",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def document() -> dict[str, Any]:
    errors = {code: _PROBLEM for code in ("400", "401", "403", "404")}
    record_param = {"name": "record_id", "in": "path", "required": True, "schema": _UUID}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "advocacy hand-off API",
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": "Hand-off records released with the victim's written consent, without location data.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/handoff/": {
                "get": {
                    "operationId": "listRecords",
                    "summary": "Records since a cursor, oldest first",
                    "parameters": [
                        {
                            "name": "cursor",
                            "in": "query",
                            "required": False,
                            "description": "The next_cursor of an earlier page (absent or empty: from the first record);"
                            " any other value is 400.",
                            "schema": {"type": "string", "pattern": CURSOR_PARAMETER_PATTERN},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_PAGE_SIZE,
                                "default": PAGE_SIZE,
                            },
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "One page.",
                            "headers": {"ETag": {"schema": {"type": "string"}}},
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Page"}}
                            },
                        },
                        "304": {"description": "Not modified (If-None-Match)."},
                        **errors,
                    },
                }
            },
            "/api/v1/handoff/{record_id}": {
                "get": {
                    "operationId": "getRecord",
                    "parameters": [record_param],
                    "responses": {
                        "200": {
                            "description": "The record.",
                            "headers": {"ETag": {"schema": {"type": "string"}}},
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Record"}}
                            },
                        },
                        "304": {"description": "Not modified (If-None-Match)."},
                        **errors,
                    },
                }
            },
            "/api/v1/handoff/{record_id}/ack": {
                "post": {
                    "operationId": "acknowledgeRecord",
                    "parameters": [record_param],
                    "responses": {
                        "200": {
                            "description": "Receipt recorded.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ack"}}},
                        },
                        **errors,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Record": _record_schema(),
                "Page": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["records", "next_cursor"],
                    "properties": {
                        "records": {"type": "array", "items": {"$ref": "#/components/schemas/Record"}},
                        "next_cursor": {
                            "anyOf": [{"type": "string", "pattern": CURSOR_PATTERN}, {"type": "null"}]
                        },
                    },
                },
                "Ack": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["record_id", "acknowledged_at"],
                    "properties": {
                        "record_id": _UUID,
                        "acknowledged_at": {"type": "string", "format": "date-time"},
                    },
                },
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "field": {"type": "string"},
                    },
                },
            },
        },
    }
