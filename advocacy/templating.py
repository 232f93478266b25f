"""What every template can use: language, navigation per role, session timer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, request
from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from jinja2.ext import _make_new_gettext, _make_new_ngettext
from markupsafe import Markup
from sqlalchemy import select

from advocacy.access import current_actor
from advocacy.auth.models import Agency, Role
from advocacy.extensions import db
from advocacy.i18n import current_language, registry, untranslated_languages
from advocacy.intake.instruments import pick
from advocacy.security import idle_minutes
from advocacy.shelters.models import CulturalProgram


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any
    #: Who sees the link: the roles the view itself requires (``roles_required``).
    roles: tuple[Role, ...]


#: The main menu, in order.  Who sees an entry is not written here: it is what
#: the entry's view declares with ``roles_required``, so the two cannot disagree.
MENU: list[tuple[int, str, Any]] = [
    (10, "core.home", _l("Home")),
    (20, "intake.index", _l("Cases")),
    (40, "shelters.index", _l("Shelters")),
    (50, "shelters.network", _l("Open beds")),
    (80, "admin.users", _l("Users")),
    (85, "intake.instruments", _l("Risk instruments")),
    (90, "admin.audit", _l("Audit log")),
]


def menu_item(endpoint: str, label: Any, *, order: int) -> None:
    """A domain adds its own entry (at import of its views), in its place by ``order``."""
    if all(existing != endpoint for _order, existing, _label in MENU):
        MENU.append((order, endpoint, label))


def build_navigation(app: Flask) -> tuple[NavItem, ...]:
    items = []
    for _order, endpoint, label in sorted(MENU, key=lambda entry: entry[0]):
        view = app.view_functions[endpoint]
        items.append(NavItem(endpoint, label, tuple(getattr(view, "required_roles", ()))))
    return tuple(items)


def _navigation() -> list[NavItem]:
    actor = current_actor()
    if not actor.is_authenticated:
        return []
    items: tuple[NavItem, ...] = current_app.extensions["advocacy.navigation"]
    return [item for item in items if not item.roles or actor.has_role(*item.roles)]


def _agencies() -> list[Agency]:
    """The person's agencies, for the header's switcher (only when there are several)."""
    actor = current_actor()
    ids = actor.agencies() if actor.is_user else []
    if len(ids) < 2:
        return []
    return list(db.session.scalars(select(Agency).where(Agency.id.in_(ids)).order_by(Agency.name)))


def _render_gettext() -> dict[str, Any]:
    """``_``, ``gettext`` and ``ngettext`` bound to this render's catalog.

    Flask-Babel's own look the catalog up again on every call (the domain, the
    request's language, the cache): a board with fifty rows asks for it
    hundreds of times.  Here the catalog is looked up once per render and each
    message is one dictionary look-up; the results are the same (Jinja's
    wrappers escape and format exactly as the global functions do).
    """
    catalog = get_translations()
    one = _make_new_gettext(catalog.ugettext)
    return {"_": one, "gettext": one, "ngettext": _make_new_ngettext(catalog.ungettext)}


def _context() -> dict[str, Any]:
    settings = current_app.config["SETTINGS"]
    return {
        **_render_gettext(),
        "actor": current_actor(),
        "acting_agencies": _agencies,
        "language": current_language(),
        "languages": list(registry().values()),
        "untranslated": untranslated_languages(),
        "navigation": _navigation(),
        "idle_timeout": settings.idle_timeout_seconds,
        "idle_minutes": idle_minutes(settings.idle_timeout_seconds),
        "idle_warning": settings.idle_warning_seconds,
        "current_endpoint": request.endpoint,
        "Role": Role,
    }


def bdi(value: object) -> Markup:
    """Isolate a name or other user text from the direction of the sentence around it.

    In an Arabic sentence a Latin name ending in ")" would otherwise be drawn out
    of order; ``<bdi>`` lets the browser lay it out on its own.
    """
    return Markup("<bdi>{}</bdi>").format(value)


def phone(value: str) -> Markup:
    """A phone number or short code: left to right and never broken across lines,
    also inside an Arabic sentence."""
    return Markup('<bdi dir="ltr" class="app-phone">{}</bdi>').format(value)


def language_name(tag: str) -> str:
    """A language tag as people read it: its own name ("Soomaali", "Tiếng Việt").

    The registry names the app's own languages; a victim's language outside it
    is named from CLDR when Babel knows it, else shown as its tag.
    """
    language = registry().get(tag)
    if language:
        return language.native
    try:
        name = Locale.parse(tag, sep="-").get_display_name()
    except (ValueError, UnknownLocaleError):
        return tag
    return name or tag


def instrument_text(text: Mapping[str, str] | None, language: str | None = None) -> Markup:
    """A text of a risk instrument in ``language`` (the UI's by default), marked with
    the language it is really in when the instrument lacks a translation."""
    wanted = language or current_language().tag
    value, used = pick(text, wanted)
    if used == wanted and language is None:
        return Markup("{}").format(value)
    return Markup('<span lang="{}" dir="auto">{}</span>').format(used, value)


def instrument_text_own(text: Mapping[str, str] | None, person_language: str | None) -> Markup:
    """The same text in the person's own language, when the instrument has it and
    it is not the language the page is already in; else nothing."""
    if not text or not person_language:
        return Markup("")
    value, used = pick(text, person_language)
    if used == "en" and not person_language.startswith("en"):
        return Markup("")
    if used.split("-")[0] == current_language().tag.split("-")[0]:
        return Markup("")
    return Markup('<span lang="{}" dir="auto">{}</span>').format(used, value)


def program_label(value: str) -> str:
    return CulturalProgram(value).label


def init_app(app: Flask) -> None:
    """After the blueprints: the navigation is read from their views."""
    app.extensions["advocacy.navigation"] = build_navigation(app)
    app.context_processor(_context)
    app.jinja_env.filters["bdi"] = bdi
    app.jinja_env.filters["phone"] = phone
    app.jinja_env.filters["language_name"] = language_name
    app.jinja_env.filters["itext"] = instrument_text
    app.jinja_env.filters["itext_own"] = instrument_text_own
    app.jinja_env.filters["program_label"] = program_label
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
