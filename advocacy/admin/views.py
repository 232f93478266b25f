"""Agency administration views: thin wrappers over :mod:`advocacy.admin.service`."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from advocacy.access import current_actor, roles_required
from advocacy.admin import bp, service
from advocacy.admin.forms import ConfirmForm, NewUserForm, RolesForm
from advocacy.auth.models import Role, User
from advocacy.auth.service import locked_until
from advocacy.errors import Refused


def _agency_choices() -> list[tuple[int, str]]:
    return [(a.id, a.name) for a in service.admin_agencies(current_actor())]


def _managed_user(user_id: int) -> User:
    return service.get_user(current_actor(), user_id)


@bp.route("/users")
@roles_required(Role.ADMIN)
def users() -> str:
    users = service.list_users(current_actor())
    return render_template("admin/users.html", users=users, locked=service.locked_user_ids(users))


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user_new() -> Any:
    form = NewUserForm(_agency_choices())
    if form.validate_on_submit():
        try:
            user, password = service.add_user(
                current_actor(),
                form.agency.data,
                form.username.data or "",
                form.display_name.data or "",
                Role(form.role.data),
            )
        except Refused as refused:
            form.username.errors = [refused.message]
        else:
            # Rendered, not flashed: the temporary password never enters the session cookie.
            return render_template("admin/temporary_password.html", user=user, password=password)
    agencies = service.admin_agencies(current_actor())
    example = service.agency_user_name(agencies[0], "fern") if agencies else "fern"
    return render_template("admin/user_new.html", form=form, example_username=example), (
        400 if form.errors else 200
    )


def _detail(user: User, roles_form: RolesForm | None = None, status: int = 200) -> Any:
    choices = _agency_choices()
    if roles_form is None:
        roles_form = RolesForm(choices)
    return (
        render_template(
            "admin/user_detail.html",
            user=user,
            roles_form=roles_form,
            agencies=choices,
            confirm=ConfirmForm(),
            fully_managed=service.fully_managed(current_actor(), user),
            locked_until=locked_until(user.username),
        ),
        status,
    )


@bp.route("/users/<id:user_id>")
@roles_required(Role.ADMIN)
def user_detail(user_id: int) -> Any:
    return _detail(_managed_user(user_id))


@bp.route("/users/<id:user_id>/roles", methods=["POST"])
@roles_required(Role.ADMIN)
def user_roles(user_id: int) -> Any:
    user = _managed_user(user_id)
    form = RolesForm(_agency_choices())
    if not form.validate_on_submit():
        return _detail(user, form, 400)
    try:
        service.set_roles(current_actor(), user, form.agency.data, {Role(r) for r in form.roles.data or []})
    except Refused as refused:
        flash(refused.message, "error")
        return redirect(url_for("admin.user_detail", user_id=user.id))
    flash(_("Roles saved. They apply from this person's next sign-in."), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


ACTIONS = {
    "deactivate": lambda admin, user: service.set_active(admin, user, False),
    "reactivate": lambda admin, user: service.set_active(admin, user, True),
    "unlock": service.unlock,
    "reset-two-factor": service.reset_two_factor,
}


@bp.route(
    "/users/<id:user_id>/<any(deactivate, reactivate, unlock, 'reset-two-factor'):action>", methods=["POST"]
)
@roles_required(Role.ADMIN)
def user_action(user_id: int, action: str) -> Any:
    user = _managed_user(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        ACTIONS[action](current_actor(), user)
    except Refused as refused:
        flash(refused.message, "error")
    else:
        flash(
            {
                "deactivate": _("The account is deactivated and signed out everywhere."),
                "reactivate": _("The account can sign in again."),
                "unlock": _("The account is unlocked."),
                "reset-two-factor": _(
                    "Two-step sign-in is reset. The person sets it up again at the next sign-in."
                ),
            }[action],
            "success",
        )
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<id:user_id>/temporary-password", methods=["POST"])
@roles_required(Role.ADMIN)
def user_temporary_password(user_id: int) -> Any:
    user = _managed_user(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        password = service.issue_temporary_password(current_actor(), user)
    except Refused as refused:
        flash(refused.message, "error")
        return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/temporary_password.html", user=user, password=password)


@bp.route("/audit")
@roles_required(Role.ADMIN)
def audit() -> str:
    return render_template(
        "admin/audit.html",
        statuses=service.audit_status(current_actor()),
        events=service.recent_audit_events(current_actor()),
    )
