"""The agency admin's pages for tracking-system partners, their API tokens and signing secrets.

A new token or secret is rendered once on the page that made it, never
flashed (the session cookie must not carry it) and never shown again.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from advocacy import clock
from advocacy.access import current_actor, roles_required
from advocacy.errors import Refused
from advocacy.extensions import db
from advocacy.handoff import bp, service
from advocacy.handoff.models import Delivery, Partner
from advocacy.handoff.vocabulary import EventType
from advocacy.roles import Role
from advocacy.templating import menu_item


def _production() -> bool:
    return bool(current_app.config["SETTINGS"].is_production)


def _delivery_counts(partner: Partner) -> dict[str, int]:
    rows = db.session.execute(
        select(Delivery.state, func.count()).where(Delivery.partner_id == partner.id).group_by(Delivery.state)
    ).all()
    return {getattr(state, "value", state): count for state, count in rows}


def _detail(
    partner: Partner,
    *,
    issued: service.Issued | None = None,
    kind: str = "",
    error: Refused | None = None,
    status: int = 200,
) -> Any:
    return (
        render_template(
            "handoff/partner.html",
            partner=partner,
            tokens=service.tokens(partner),
            secrets=service.secrets_of(partner),
            deliveries=_delivery_counts(partner),
            event_types=list(EventType),
            issued=issued,
            issued_kind=kind,
            error=error,
            grace_days=service.GRACE_PERIOD.days,
            now=clock.now(),
        ),
        status,
    )


@bp.route("/partners", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def partners() -> Any:
    actor = current_actor()
    error: Refused | None = None
    if request.method == "POST":
        try:
            partner = service.create_partner(
                actor,
                request.form.get("name", ""),
                request.form.getlist("event_types"),
                request.form.get("push_url"),
                production=_production(),
            )
        except Refused as refused:
            error = refused
        else:
            flash(_("The partner is registered. Issue its API token next."), "success")
            return redirect(url_for("handoff.partner", partner_id=partner.id))
    return (
        render_template(
            "handoff/partners.html",
            partners=service.list_partners(actor),
            event_types=list(EventType),
            error=error,
            form=request.form,
        ),
        400 if error else 200,
    )


@bp.route("/partners/<id:partner_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def partner(partner_id: int) -> Any:
    actor = current_actor()
    found = service.get_partner(actor, partner_id)
    if request.method == "POST":
        try:
            service.update_partner(
                actor,
                found,
                request.form.get("name", ""),
                request.form.getlist("event_types"),
                request.form.get("push_url"),
                production=_production(),
            )
        except Refused as refused:
            return _detail(found, error=refused, status=400)
        flash(_("The partner's settings are saved."), "success")
        return redirect(url_for("handoff.partner", partner_id=found.id))
    return _detail(found)


@bp.route("/partners/<id:partner_id>/tokens", methods=["POST"])
@roles_required(Role.ADMIN)
def partner_token(partner_id: int) -> Any:
    actor = current_actor()
    found = service.get_partner(actor, partner_id)
    rotate = request.form.get("action") == "rotate"
    issued = (service.rotate_token if rotate else service.issue_token)(actor, found)
    return _detail(found, issued=issued, kind="token")


@bp.route("/partners/<id:partner_id>/tokens/<id:token_id>/revoke", methods=["POST"])
@roles_required(Role.ADMIN)
def partner_token_revoke(partner_id: int, token_id: int) -> Any:
    actor = current_actor()
    service.revoke_token(actor, service.get_partner(actor, partner_id), token_id)
    flash(_("The token is revoked: it no longer opens the API."), "success")
    return redirect(url_for("handoff.partner", partner_id=partner_id))


@bp.route("/partners/<id:partner_id>/secrets", methods=["POST"])
@roles_required(Role.ADMIN)
def partner_secret(partner_id: int) -> Any:
    actor = current_actor()
    found = service.get_partner(actor, partner_id)
    return _detail(found, issued=service.rotate_secret(actor, found), kind="secret")


@bp.route("/partners/<id:partner_id>/secrets/<id:secret_id>/revoke", methods=["POST"])
@roles_required(Role.ADMIN)
def partner_secret_revoke(partner_id: int, secret_id: int) -> Any:
    actor = current_actor()
    service.revoke_secret(actor, service.get_partner(actor, partner_id), secret_id)
    flash(_("The signing secret is revoked: pushes are no longer signed with it."), "success")
    return redirect(url_for("handoff.partner", partner_id=partner_id))


menu_item("handoff.partners", _l("Partners"), order=88)
