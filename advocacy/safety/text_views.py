"""The preview of a plan's parts as SMS pieces: the text, its encoding and its segment count."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from advocacy.access import current_actor, roles_required
from advocacy.errors import NotFound, Refused
from advocacy.safety import bp, service, texts
from advocacy.safety.guidance import plan_view


@bp.route("/case/<id:case_id>/text")
@roles_required(*service.PLAN_ROLES)
def text_preview(case_id: int) -> Any:
    state = service.plan_state(current_actor(), case_id)
    if state.plan is None or state.latest is None:
        raise NotFound()
    version = state.latest
    chosen = request.args.getlist("parts") or [texts.NUMBERS]
    discreet = request.args.get("style", "discreet") != "detailed"
    pieces: list[texts.Piece] = []
    error: Refused | None = None
    view = plan_view(state.case.agency_id, version.pack_keys, version.locale)
    try:
        pieces = texts.preview(texts.version_texts(version, view, chosen, version.locale, discreet=discreet))
    except Refused as refused:
        error = refused
    return (
        render_template(
            "safety/text.html",
            case=state.case,
            version=version,
            offered=texts.parts_offered(),
            chosen=chosen,
            discreet=discreet,
            pieces=pieces,
            error=error,
            budget=texts.PIECE_SEGMENTS,
        ),
        400 if error else 200,
    )
