"""What a person may do in an agency.

Its own module (re-exported by :mod:`advocacy.auth.models`) because the
actor, access and the models all need it, and it needs none of them.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from advocacy.vocab import LabelledEnum


class Role(LabelledEnum):
    ADMIN = "admin", _l("Agency admin")
    ADVOCATE = "advocate", _l("Advocate")
    SHELTER_STAFF = "shelter_staff", _l("Shelter staff")
    COORDINATOR = "coordinator", _l("Coordinator")
