"""Sign-in with a password and a TOTP second factor, sessions and lockout."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from advocacy.auth import views  # noqa: E402,F401
from advocacy.auth.service import load_user  # noqa: E402
from advocacy.extensions import login_manager  # noqa: E402

login_manager.user_loader(load_user)
# The session nonce in the id already binds a session to its sign-in.
login_manager.session_protection = None
