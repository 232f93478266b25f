"""Culturally adapted content packs per locale, with review status (MISSION.md,
sections 3 and 6). Planned."""

from flask import Blueprint

bp = Blueprint("content", __name__, url_prefix="/content")

from advocacy.content import views  # noqa: E402,F401
