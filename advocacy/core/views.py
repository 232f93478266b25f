from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from advocacy.access import current_actor
from advocacy.core import bp
from advocacy.core.panels import panels_for
from advocacy.extensions import db
from advocacy.i18n import SESSION_KEY, is_supported
from advocacy.security import safe_next, switch_agency


@bp.route("/")
def home() -> str:
    return render_template("core/home.html", panels=panels_for(current_actor()))


@bp.route("/healthz")
def health() -> Any:
    """For load balancers: says whether the database answers, nothing more."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")


@bp.route("/language", methods=["POST"])
def set_language() -> Response:
    """The switcher on every page.  Signed-in users keep the choice as their preference."""
    tag = request.form.get("language", "")
    if is_supported(tag):
        session[SESSION_KEY] = tag
        if current_user.is_authenticated:
            current_user.record.language = tag
    return redirect(safe_next(request.form.get("next")) or url_for("core.home"))


@bp.route("/agency", methods=["POST"])
def set_agency() -> Response:
    """The header's switcher: a person of several agencies chooses the one they work for.

    What they open and make from then on (cases, referrals, settings) belongs
    to it; pages already scoped to all their agencies stay as they are.
    """
    if not switch_agency(request.form.get("agency", type=int) or 0):
        flash(_("Choose one of your agencies."), "error")
    return redirect(safe_next(request.form.get("next")) or url_for("core.home"))
