"""Hand-off to the shared tracking system, with consent and without location
data (MISSION.md, section 5).

Two blueprints: ``handoff`` holds the staff pages (partners for admins,
consents and hand-offs on the case page) and the ``flask handoff`` commands;
``handoff_api`` (:mod:`advocacy.handoff.api`) is the partner pull API under
``/api/v1/``, with bearer tokens and problem details, and no session or CSRF.
The one serializer (:mod:`advocacy.handoff.serialize`) is the only way out.
"""

from flask import Blueprint

bp = Blueprint("handoff", __name__, url_prefix="/handoff", cli_group="handoff")

from advocacy.handoff import admin_views, cli, views  # noqa: E402,F401
