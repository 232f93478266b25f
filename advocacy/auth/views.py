"""Thin views over :mod:`advocacy.auth.service`.

Sign-in is two steps.  After the password, the session holds only a pending
marker (user id, session nonce, time); the user is logged in by Flask-Login
only once the TOTP code is accepted, so a stolen password alone reaches no
page.
"""

from __future__ import annotations

from typing import Any

import segno
from flask import current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from advocacy import clock
from advocacy.access import current_actor
from advocacy.audit.service import record
from advocacy.auth import bp, service
from advocacy.auth.forms import CodeForm, LoginForm, PasswordChangeForm
from advocacy.auth.models import User
from advocacy.extensions import db
from advocacy.security import end_session, safe_next, start_authenticated_session

PENDING_KEY = "pending_login"
PENDING_SECONDS = 5 * 60


def _pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not pending or clock.now().timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    user = db.session.get(User, pending["uid"])
    if (
        user is None
        or not user.is_active
        or user.password_changed_at.timestamp() != pending.get("password_changed")
    ):
        session.pop(PENDING_KEY, None)
        return None
    return user


def _flash_locked() -> None:
    flash(
        _(
            "Too many failed attempts. This account is locked for a while; try again later or ask your agency admin."
        ),
        "error",
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        result = service.check_password_step(form.username.data or "", form.password.data or "")
        if result.outcome is service.LoginOutcome.OK and result.user is not None:
            session[PENDING_KEY] = {
                "uid": result.user.id,
                # A password change meanwhile (by an admin, say) voids this step.
                "password_changed": result.user.password_changed_at.timestamp(),
                "at": clock.now().timestamp(),
                "next": safe_next(request.args.get("next")),
            }
            if result.user.totp_enrolled:
                return redirect(url_for("auth.two_factor"))
            return redirect(url_for("auth.enrol"))
        if result.outcome is service.LoginOutcome.LOCKED:
            _flash_locked()
        else:
            flash(_("That user name and password do not match. Check them and try again."), "error")
        return render_template("auth/login.html", form=form), 200
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


def _finish_login(user: User) -> Response:
    pending = session.pop(PENDING_KEY, {})
    start_authenticated_session(user)
    return redirect(pending.get("next") or url_for("core.home"))


@bp.route("/two-factor", methods=["GET", "POST"])
def two_factor() -> Any:
    user = _pending_user()
    if user is None:
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    if not user.totp_enrolled:
        return redirect(url_for("auth.enrol"))
    form = CodeForm()
    if form.validate_on_submit():
        outcome = service.check_code_step(user, form.code.data or "")
        if outcome is service.LoginOutcome.OK:
            return _finish_login(user)
        if outcome is service.LoginOutcome.LOCKED:
            session.pop(PENDING_KEY, None)
            _flash_locked()
            return redirect(url_for("auth.login"))
        flash(
            _("That code was not accepted. Codes work once and change every 30 seconds; wait for a new one."),
            "error",
        )
    return render_template("auth/two_factor.html", form=form), 400 if form.errors else 200


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> Any:
    user = _pending_user()
    if user is None:
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    if user.totp_enrolled:
        return redirect(url_for("auth.two_factor"))
    service.start_totp_enrolment(user)
    form = CodeForm()
    if form.validate_on_submit():
        outcome = service.check_code_step(user, form.code.data or "")
        if outcome is service.LoginOutcome.OK:
            response = _finish_login(user)  # starts a fresh session: flash after it
            flash(_("Two-step sign-in is set up."), "success")
            return response
        if outcome is service.LoginOutcome.LOCKED:
            session.pop(PENDING_KEY, None)
            _flash_locked()
            return redirect(url_for("auth.login"))
        flash(_("That code was not accepted. Check the time on your phone and try the next code."), "error")
    uri = service.provisioning_uri(user)
    # segno writes plain SVG paths (no script, no style attribute): safe under our CSP.
    qr = Markup(  # noqa: S704 - segno output, no user input
        segno.make(uri, error="m").svg_inline(
            scale=5, omitsize=True, title=_("QR code for your authenticator app")
        )
    )
    secret = " ".join(user.totp_secret[i : i + 4] for i in range(0, len(user.totp_secret or ""), 4))
    return render_template("auth/enrol.html", form=form, qr=qr, secret=secret), 400 if form.errors else 200


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        record(current_actor(), "logout", "user", current_user.id)
    end_session()  # keeps only the language
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere() -> Response:
    service.end_all_sessions(current_actor(), current_user.record)
    end_session()  # keeps only the language
    flash(_("You are signed out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account")
@login_required
def account() -> str:
    return render_template("auth/account.html", form=PasswordChangeForm())


@bp.route("/password", methods=["POST"])
@login_required
def change_password() -> Any:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not service.password_matches(current_user.record, form.current_password.data or ""):
            # Counted with the sign-in failures: a stolen session must not guess forever.
            user = current_user.record
            if service.register_failure(user.username, "password.current_failure", user):
                service.end_all_sessions(current_actor(), user)
                end_session()
                _flash_locked()
                return redirect(url_for("auth.login"))
            form.current_password.errors = [_("That is not your current password.")]
        else:
            problems = service.password_problems(form.new_password.data or "", current_user.username)
            if not problems and form.new_password.data == form.current_password.data:
                # Above all for a temporary password, which must not become the permanent one.
                problems = [_("Choose a new password, not the one you have now.")]
            if problems:
                form.new_password.errors = problems
            else:
                # The account itself (the session's user is a light copy), and not
                # the proxy: login_user stores what it is given.
                user = current_user.record
                service.change_password(current_actor(), user, form.new_password.data or "")
                start_authenticated_session(user)
                flash(_("Your password is changed. You were signed out everywhere else."), "success")
                return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form), 400


@bp.route("/keepalive", methods=["POST"])
@login_required
def keepalive() -> Response:
    """Called by the session timer when the person chooses to stay signed in."""
    return jsonify({"idle_timeout": current_app.config["SETTINGS"].idle_timeout_seconds})
