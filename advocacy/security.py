"""Every request guard and response header, in order, in one place.

Login is required by default: a request passes without a signed-in user only
when its endpoint is on :data:`PUBLIC_ENDPOINTS`.  A view that forgets a
decorator is therefore closed, not open (SecureDrop's journalist app works the
same way).  Headers are set here rather than in a proxy so tests can see them.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.wrappers import Response

from advocacy import clock
from advocacy.access import ACTOR_KEY, current_actor
from advocacy.actor import ANONYMOUS, Actor
from advocacy.errors import Forbidden, NotFound, Refused
from advocacy.roles import Role
from advocacy.uow import unit_of_work

if TYPE_CHECKING:
    from advocacy.auth.models import User

log = logging.getLogger("advocacy.request")

#: Endpoints reachable without signing in.  Keep this list short.
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "auth.login",
        "auth.two_factor",
        "auth.enrol",
        "auth.logout",
        "core.health",
        "core.set_language",
        # Twilio's webhooks: their guard is X-Twilio-Signature (advocacy.notify.views).
        "notify.twilio_status",
        "notify.twilio_inbound",
    }
)

#: Requests a page makes on its own (board polling, say) send this header so
#: that they do not count as activity for the idle timeout.
BACKGROUND_HEADER = "X-Advocacy-Background"

LAST_SEEN_KEY = "last_seen"
#: The agency a person of several agencies works for now (the header's switcher).
ACTING_AGENCY_KEY = "agency"

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "manifest-src 'self'",
    ]
)


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def start_authenticated_session(user: User) -> None:
    """A fresh session for a fresh sign-in: nothing from before survives but the language."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    from advocacy.auth.service import open_session

    open_session(user)
    login_user(user, remember=False)
    session[LAST_SEEN_KEY] = clock.now().timestamp()
    session.permanent = False
    g.pop(ACTOR_KEY, None)


def end_session() -> None:
    """End the signed-in session for good (its row too), keeping only the language."""
    if current_user.is_authenticated:
        from advocacy.auth.service import end_session as end_recorded_session

        end_recorded_session(current_user.get_id())
    logout_user()
    g.pop(ACTOR_KEY, None)
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def start_request() -> None:
    g.request_id = uuid.uuid4().hex[:16]
    g.settings = current_app.config["SETTINGS"]
    g.started = time.perf_counter()


def idle_minutes(seconds: int) -> int:
    """The idle timeout as people read it: whole minutes, never "0 minutes"."""
    return max(1, round(seconds / 60))


def _return_path() -> str | None:
    """Where to come back to after signing in: a page that was asked for, never
    a form post or a public page (the sign-in page itself, say)."""
    if request.method != "GET" or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    return safe_next(request.full_path.rstrip("?"))


def enforce_idle_timeout() -> Response | None:
    # A stylesheet, font or icon the browser fetches by itself (when the timeout
    # warning first shows, say) is not the person doing something.
    if not current_user.is_authenticated or request.endpoint == "static":
        return None
    timeout = g.settings.idle_timeout_seconds
    now = clock.now().timestamp()
    last_seen = session.get(LAST_SEEN_KEY, 0)
    if now - last_seen > timeout:
        with unit_of_work():
            end_session()
        if _wants_json() or request.headers.get(BACKGROUND_HEADER):
            return jsonify(error="session_expired"), 401  # type: ignore[return-value]
        flash(
            ngettext(
                "You were signed out after %(num)d minute without activity.",
                "You were signed out after %(num)d minutes without activity.",
                idle_minutes(timeout),
            ),
            "info",
        )
        return redirect(url_for("auth.login", next=_return_path()))
    if not request.headers.get(BACKGROUND_HEADER):
        session[LAST_SEEN_KEY] = now
    return None


#: The partner API's blueprint: it authenticates its own requests with bearer tokens
#: (:func:`load_partner`), never with the session, and refuses every request without one.
PARTNER_API_BLUEPRINT = "handoff_api"


def load_partner() -> None:
    """A partner of the tracking system calling the API: its bearer token becomes its actor.

    Only on the partner API, and only from the ``Authorization`` header: a
    session cookie never opens the API, and a token never opens a page.
    The token is never logged.
    """
    if request.blueprint != PARTNER_API_BLUEPRINT:
        return
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        g.setdefault(ACTOR_KEY, ANONYMOUS)
        return
    from advocacy.handoff.service import authenticate

    setattr(g, ACTOR_KEY, authenticate(token.strip()) or ANONYMOUS)


def require_login() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    if request.blueprint == PARTNER_API_BLUEPRINT:
        return None  # the API's own guard requires a partner token on every endpoint
    if request.endpoint is None:
        return None  # a 404 or 405 is answered as such, without revealing more
    if _wants_json() or request.headers.get(BACKGROUND_HEADER):
        return jsonify(error="login_required"), 401  # type: ignore[return-value]
    return redirect(url_for("auth.login", next=_return_path()))


def load_actor() -> None:
    """Who is acting in this request: the signed-in user, with their agencies,
    roles and the agency they chose to work for (see :class:`advocacy.actor.Actor`)."""
    if request.blueprint == PARTNER_API_BLUEPRINT:
        return  # load_partner decided, from the token alone
    if not current_user.is_authenticated:
        g.setdefault(ACTOR_KEY, ANONYMOUS)
        return
    user = current_user._get_current_object()
    g.setdefault(ACTOR_KEY, Actor.for_user(user, session.get(ACTING_AGENCY_KEY)))


def switch_agency(agency_id: int) -> bool:
    """Work for another of one's own agencies from now on; False when it is not one of them."""
    actor = current_actor()
    if not actor.is_user or agency_id not in actor.agencies():
        return False
    session[ACTING_AGENCY_KEY] = agency_id
    setattr(g, ACTOR_KEY, actor.with_agency(agency_id))
    return True


#: Where a user with a temporary password may go before choosing their own.
PASSWORD_CHANGE_ENDPOINTS = PUBLIC_ENDPOINTS | {
    "auth.account",
    "auth.change_password",
    "auth.keepalive",
    "auth.logout_everywhere",
}


def require_own_password() -> Response | None:
    """An account opened by an admin with a temporary password must replace it first."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS
    ):
        if request.method == "GET":
            flash(_("Choose your own password before you continue."), "info")
        return redirect(url_for("auth.account"))
    return None


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if request.endpoint == "static" and response.status_code < 400:
        headers["Cache-Control"] = "public, max-age=3600"
    else:
        # Victim data must never sit in a browser or proxy cache.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def log_request(response: Response) -> Response:
    """One structured line per request: no query string, no IP, no form data."""
    if request.endpoint != "static":
        log.info(
            "request",
            extra={
                "request_id": g.get("request_id"),
                "method": request.method,
                "endpoint": request.endpoint,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
                # From the actor: the user object may be expired after the commit.
                "user_id": current_actor().user_id,
            },
        )
    return response


ERROR_TEXT = {
    400: (
        _l("The request could not be understood"),
        _l("Something in what was sent is missing or malformed. Go back and try again."),
    ),
    403: (_l("Not allowed"), _l("Your role does not allow this page. Ask your agency admin if you need it.")),
    404: (_l("Page not found"), _l("There is nothing here, or you do not have access to it.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("Too much data"), _l("What you sent is larger than this app accepts. Send less at a time.")),
    429: (_l("Too many requests"), _l("Wait a moment, then try again.")),
    500: (
        _l("Something went wrong"),
        _l(
            "The app hit an error. Nothing you entered was shared. Try again, and tell your agency admin if it keeps happening."
        ),
    ),
}


#: A coordinator on a case page: not "ask your admin", since no admin can open cases to them.
COORDINATOR_FORBIDDEN = _l(
    "Coordinators work with de-identified figures and never see cases or the people in them. "
    "No one can open this page to a coordinator."
)


def _coordinator_only() -> bool:
    actor = current_actor()
    return actor.has_role(Role.COORDINATOR) and not actor.has_role(
        Role.ADVOCATE, Role.SHELTER_STAFF, Role.ADMIN
    )


def render_error(code: int, message: str | None = None) -> tuple[Any, int]:
    title, text = ERROR_TEXT.get(code, ERROR_TEXT[500])
    if request.path.startswith("/api/v1/"):
        from advocacy.handoff.api import problem

        return problem(code), code
    if message:
        text = message
    elif code == 403 and _coordinator_only():
        text = COORDINATOR_FORBIDDEN
    if _wants_json():
        return jsonify(error=str(title)), code
    return render_template("error.html", title=title, text=text, code=code), code


def handle_http_error(error: HTTPException) -> Any:
    if request.endpoint == "static":
        # A missing asset: plain, the same for everyone, never the signed-in person's page.
        return Response(error.name, status=error.code or 500, mimetype="text/plain")
    response = make_response(render_error(error.code or 500))
    # The exception's own headers matter: a 405 must say which methods are allowed (RFC 9110).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_not_found(_error: NotFound) -> tuple[Any, int]:
    """A service found no such object for this actor: the same page as any 404."""
    return render_error(404)


def handle_forbidden(error: Forbidden) -> tuple[Any, int]:
    return render_error(403, error.message)


def handle_refused(error: Refused) -> tuple[Any, int]:
    """A refusal no view placed next to a field: the message on a 400 page."""
    return render_error(400, error.message)


def handle_unexpected(error: Exception) -> tuple[Any, int]:
    # The traceback goes to the log (never to the page); values of locals are not logged.
    log.exception("unhandled error", extra={"request_id": g.get("request_id"), "endpoint": request.endpoint})
    from advocacy.extensions import db

    db.session.rollback()
    return render_error(500)


def handle_csrf_error(error: CSRFError) -> Response:
    """A missing or stale CSRF token ends the session (SecureDrop does the same)."""
    with unit_of_work():
        end_session()
    flash(_("Your session was reset for your security. Please sign in again."), "error")
    return redirect(url_for("auth.login"))


def refuse_nul_characters() -> None:
    """No field of ours takes a NUL character and PostgreSQL text cannot store one:
    answer 400 here rather than a 500 from deep inside a query."""
    for source in (request.args, request.form):
        if any("\x00" in key or "\x00" in value for key, value in source.items(multi=True)):
            raise BadRequest()


def init_app(app: Flask) -> None:
    app.before_request(start_request)
    app.before_request(refuse_nul_characters)
    app.before_request(enforce_idle_timeout)
    app.before_request(load_partner)
    app.before_request(require_login)
    app.before_request(load_actor)
    app.before_request(require_own_password)
    app.after_request(set_security_headers)
    app.after_request(log_request)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(NotFound, handle_not_found)
    app.register_error_handler(Forbidden, handle_forbidden)
    app.register_error_handler(Refused, handle_refused)
    app.register_error_handler(Exception, handle_unexpected)
