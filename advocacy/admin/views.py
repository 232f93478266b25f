from __future__ import annotations

from flask import abort, render_template

from advocacy.access import roles_required
from advocacy.admin import bp, service
from advocacy.audit.service import verify_chain
from advocacy.auth.models import Role


@bp.route("/users")
@roles_required(Role.ADMIN)
def users() -> str:
    return render_template("admin/users.html", users=service.list_users())


@bp.route("/users/<int:user_id>")
@roles_required(Role.ADMIN)
def user_detail(user_id: int) -> str:
    user = service.get_user_or_none(user_id)
    if user is None:
        abort(404)
    return render_template("admin/user_detail.html", user=user)


@bp.route("/audit")
@roles_required(Role.ADMIN)
def audit() -> str:
    return render_template("admin/audit.html", report=verify_chain(), events=service.recent_audit_events())
