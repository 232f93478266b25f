"""SMS: the transactional outbox, the one sender interface (console or Twilio),
webhooks with signature validation (MISSION.md, section 4)."""

from flask import Blueprint

bp = Blueprint("notify", __name__, url_prefix="/notify")

from advocacy.notify import cli, views  # noqa: E402,F401
