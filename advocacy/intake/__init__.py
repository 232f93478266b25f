"""Cases and intake: the guided intake with its risk screen, the case list and
the case page, and the agency's risk instruments."""

from flask import Blueprint

bp = Blueprint("intake", __name__, url_prefix="/cases")

from advocacy.intake import home_views, instrument_views, views, wizard  # noqa: E402,F401
