"""Court events of a case, which drive SMS reminders (MISSION.md, section 4). Planned."""

from flask import Blueprint

bp = Blueprint("court", __name__, url_prefix="/court")
