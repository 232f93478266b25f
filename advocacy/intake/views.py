from __future__ import annotations

from flask import render_template

from advocacy.access import roles_required
from advocacy.intake import bp, service


@bp.route("/")
@roles_required(*service.CASE_ROLES)
def index() -> str:
    return render_template("intake/index.html", cases=service.list_cases())


@bp.route("/<int:case_id>")
@roles_required(*service.CASE_ROLES)
def detail(case_id: int) -> str:
    return render_template("intake/detail.html", case=service.view_case(case_id))
