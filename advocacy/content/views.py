"""The admin page of the content packs: per pack and locale, the review status and what the translation covers."""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l

from advocacy.access import roles_required
from advocacy.content import bp
from advocacy.content.packs import Review, shipped
from advocacy.i18n import registry
from advocacy.roles import Role
from advocacy.templating import menu_item


@bp.route("/packs")
@roles_required(Role.ADMIN)
def packs() -> str:
    library = shipped()
    return render_template(
        "content/packs.html",
        coverage=library.coverage(),
        languages=list(registry().values()),
        Review=Review,
    )


menu_item("content.packs", _l("Safety-plan guidance"), order=87)
