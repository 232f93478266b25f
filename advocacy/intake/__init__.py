"""Cases and intake.  This release holds the case record and its access rules;
the guided intake with the risk screen builds on it."""

from flask import Blueprint

bp = Blueprint("intake", __name__, url_prefix="/cases")

from advocacy.intake import views  # noqa: E402,F401
