"""The hand-off preview: exactly the bytes a hand-off would send, before anything is sent."""

from __future__ import annotations

from typing import Any

from flask import render_template

from advocacy.access import current_actor, roles_required
from advocacy.audit.service import record
from advocacy.handoff import bp, service
from advocacy.intake import service as intake


@bp.route("/cases/<id:case_id>/preview")
@roles_required(*intake.CASE_ROLES)
def preview(case_id: int) -> Any:
    actor = current_actor()
    case = intake.get_case(actor, case_id)
    record(actor, "handoff.preview", "case", case.id, agency_id=case.agency_id)
    result = service.risk_result_record(case)
    body = service.preview_bytes(result).decode("utf-8") if result is not None else None
    return render_template("handoff/preview.html", case=case, body=body)
