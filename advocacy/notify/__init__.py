"""SMS: the transactional outbox, the one sender interface (console or Twilio),
webhooks with signature validation (MISSION.md, section 4). Planned; the
backend is already chosen in ``config.py`` (``ADVOCACY_SMS_BACKEND``)."""

from flask import Blueprint

bp = Blueprint("notify", __name__, url_prefix="/notify")
