"""Hand-off to the shared tracking system, with consent and without location
data (MISSION.md, section 5). Planned: an allowlisted serializer is the only
way out, and ``/api/`` answers 401 JSON, never a login page."""

from flask import Blueprint

bp = Blueprint("handoff", __name__, url_prefix="/handoff")

from advocacy.handoff import views  # noqa: E402,F401
