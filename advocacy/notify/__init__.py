"""SMS: the transactional outbox, the one sender interface (console or Twilio),
webhooks with signature validation (MISSION.md, section 4)."""

from flask import Blueprint

bp = Blueprint("notify", __name__, url_prefix="/notify")

from advocacy.notify import cli, simulator, views  # noqa: E402,F401

# "Simulate a phone": development only, never registered in production.
bp.record_once(lambda state: simulator.register(state.app))
