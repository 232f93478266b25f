"""Safety plans: structured, versioned, printable, in the victim's language.

Planned (MISSION.md, section 3); the blueprint is registered so the URL space
and the package layout are fixed from the start.
"""

from flask import Blueprint

bp = Blueprint("safety", __name__, url_prefix="/safety-plans")

from advocacy.safety import print_views, text_views, views  # noqa: E402,F401
