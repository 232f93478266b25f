"""The hand-off preview: exactly the bytes a hand-off would send, before anything is sent."""

from __future__ import annotations

from typing import Any

from flask import render_template

from advocacy.access import roles_required
from advocacy.audit.service import record
from advocacy.extensions import db
from advocacy.handoff import bp, service
from advocacy.intake import service as intake


@bp.route("/cases/<int:case_id>/preview")
@roles_required(*intake.CASE_ROLES)
def preview(case_id: int) -> Any:
    case = intake.case_or_404(case_id)
    record("handoff.preview", "case", case.id, agency_id=case.agency_id)
    db.session.commit()
    result = service.risk_result_record(case)
    body = service.preview_bytes(result).decode("utf-8") if result is not None else None
    return render_template("handoff/preview.html", case=case, body=body)
