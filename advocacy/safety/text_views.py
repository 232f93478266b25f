"""The preview of a plan's parts as SMS pieces (text, encoding, segment count), and sending them
to the case's confirmed safe number through the outbox."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from advocacy.access import current_actor, roles_required
from advocacy.errors import NotFound, Refused
from advocacy.safety import bp, sending, service, texts
from advocacy.safety.guidance import plan_view


def _choice(values: Any) -> tuple[list[str], bool]:
    chosen = values.getlist("parts") or [texts.NUMBERS]
    return chosen, values.get("style", "discreet") != "detailed"


@bp.route("/case/<id:case_id>/text")
@roles_required(*service.PLAN_ROLES)
def text_preview(case_id: int) -> Any:
    state = service.plan_state(current_actor(), case_id)
    if state.plan is None or state.latest is None:
        raise NotFound()
    version = state.latest
    chosen, discreet = _choice(request.args)
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
            safe_numbers=sending.safe_numbers(state.case.id),
            notes=texts.notes(view, chosen),
        ),
        400 if error else 200,
    )


@bp.route("/case/<id:case_id>/text", methods=["POST"])
@roles_required(*service.PLAN_ROLES)
def text_send(case_id: int) -> Any:
    chosen, discreet = _choice(request.form)
    version = request.form.get("version", type=int)
    back = url_for(
        "safety.text_preview", case_id=case_id, parts=chosen, style="discreet" if discreet else "detailed"
    )
    try:
        sent = sending.send_plan_texts(
            current_actor(), case_id, chosen, discreet=discreet, version_number=version
        )
    except Refused as refused:
        flash(refused.message, "error")
        return redirect(back)
    count = len(sent.messages)
    flash(
        ngettext(
            "%(num)d text is in the outbox for the confirmed safe number.",
            "%(num)d texts are in the outbox for the confirmed safe number.",
            count,
        ),
        "success",
    )
    if sent.waits_for_quiet_hours:
        flash(_("It is quiet hours for this number: the texts go out when they end."), "info")
    return redirect(back)
