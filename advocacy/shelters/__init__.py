"""Shelters of the network.  This release holds the shelter and its two
identities (the agency-only name and address, the network label and region);
beds, holds and the network board build on it."""

from flask import Blueprint

bp = Blueprint("shelters", __name__, url_prefix="/shelters")

from advocacy.shelters import history_views, home_views, setup_views, views  # noqa: E402,F401
