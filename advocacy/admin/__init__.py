"""Agency administration: users and roles, and the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from advocacy.admin import home_views, views  # noqa: E402,F401
