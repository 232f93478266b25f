from __future__ import annotations

from flask import render_template

from advocacy.access import roles_required
from advocacy.shelters import bp, service


@bp.route("/")
@roles_required(*service.STAFF_ROLES)
def index() -> str:
    return render_template("shelters/index.html", shelters=service.list_own_shelters())


@bp.route("/<int:shelter_id>")
@roles_required(*service.STAFF_ROLES)
def detail(shelter_id: int) -> str:
    return render_template("shelters/detail.html", shelter=service.view_shelter(shelter_id))
