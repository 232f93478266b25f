"""Court events of a case, which drive SMS reminders (MISSION.md, section 4):
an agency's courts and reminder schedule, a case's court dates with their
history, and the reminders each date plans in the SMS outbox."""

from flask import Blueprint

bp = Blueprint("court", __name__, url_prefix="/court")

from advocacy.court import views  # noqa: E402,F401
