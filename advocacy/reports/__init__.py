"""De-identified monthly figures for the CCR meetings, with small counts
suppressed (MISSION.md, section 7). Planned."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from advocacy.reports import views  # noqa: E402,F401
