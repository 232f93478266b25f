"""What every template can use: language, navigation per role, session timer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import TIMEDELTA_UNITS
from flask import Flask, current_app, g, request, url_for
from flask_babel import (
    format_date,
    format_number,
    format_timedelta,
    get_locale,
    get_timezone,
    get_translations,
)
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape
from sqlalchemy import select

from advocacy.access import current_actor
from advocacy.auth.models import Agency, Role
from advocacy.extensions import db
from advocacy.fields import form_field
from advocacy.fragments import FragmentCache
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


class RenderText:
    """This render's catalog, each message without variables of its own (``ngettext``:
    only its number) formatted once per render, as ``Markup`` (a translation is
    trusted text, as Jinja's own wrappers trust it).

    The templates' ``_``/``ngettext`` use it, and so do the row helpers that
    write a board's or a list's rows in Python (``context["texts"]``): one
    catalog and one memo per render, whichever writes the row.  It holds
    translations only; the values put into them are formatted per call.
    """

    __slots__ = ("_counted", "_plain", "ugettext", "ungettext")

    def __init__(self) -> None:
        catalog = get_translations()
        self.ugettext, self.ungettext = catalog.ugettext, catalog.ungettext
        self._plain: dict[str, Markup] = {}
        self._counted: dict[tuple[str, str, Any], Markup] = {}

    def gettext(self, string: str, /, **variables: Any) -> Markup:
        """Jinja's ``_(string, **variables)`` under autoescape: variables not ``Markup`` are escaped."""
        if variables:
            return Markup(self.ugettext(string)) % variables  # noqa: S704
        try:
            return self._plain[string]
        except KeyError:
            done = self._plain[string] = Markup(self.ugettext(string)) % variables  # noqa: S704
            return done

    def ngettext(self, singular: str, plural: str, num: Any, /, **variables: Any) -> Markup:
        """Jinja's ``ngettext(singular, plural, num, **variables)`` under autoescape."""
        if variables:
            variables.setdefault("num", num)
            return Markup(self.ungettext(singular, plural, num)) % variables  # noqa: S704
        key = (singular, plural, num)
        try:
            return self._counted[key]
        except KeyError:
            done = self._counted[key] = Markup(self.ungettext(singular, plural, num)) % {"num": num}  # noqa: S704
            return done
        except TypeError:  # an unhashable number: format it every time
            return Markup(self.ungettext(singular, plural, num)) % {"num": num}  # noqa: S704


def _render_gettext() -> dict[str, Any]:
    """``_``, ``gettext`` and ``ngettext`` bound to this render's catalog, each message
    formatted once per render (:class:`RenderText`), and the ``RenderText`` itself
    as ``texts`` for the row helpers.

    Flask-Babel's own look the catalog up again on every call (the domain, the
    request's language, the cache), and Jinja's wrappers format the message
    again on every call: a board of fifty rows says "Stale" or "3 adult beds"
    over and over.  The results are those of Jinja's wrappers
    (``jinja2.ext._make_new_gettext``): the translation as ``Markup`` when the
    template escapes, ``%`` applied even without variables;
    ``tests/test_i18n.py`` compares the two.
    """
    texts = RenderText()
    ugettext, ungettext = texts.ugettext, texts.ungettext

    @pass_eval_context
    def gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
        if eval_ctx.autoescape:
            return texts.gettext(string, **variables)
        return ugettext(string) % variables

    @pass_eval_context
    def ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: Any, /, **variables: Any) -> str:
        if eval_ctx.autoescape:
            return texts.ngettext(singular, plural, num, **variables)
        variables.setdefault("num", num)
        return ungettext(singular, plural, num) % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext, "texts": texts}


#: "5 minutes ago" per language, unit and number: the same few phrases on every board.
_RELATIVE: dict[tuple[str, float, str, int, bool], str] = {}


def relative_time(moment: datetime, now: datetime, *, threshold: float = 0.85) -> str:
    """``format_timedelta(moment - now, granularity="minute", add_direction=True)``, in the
    page's language, each distinct phrase formatted once per process.

    Babel's result depends only on the unit it picks, the rounded number of
    that unit and the direction; those are computed here as Babel computes
    them (``babel.dates.format_timedelta``), and the phrase is formatted the
    first time it is needed.  The cache holds phrases such as "in 3 hours",
    nothing about anyone.  ``tests/test_i18n.py`` compares it with Babel's.
    """
    delta = moment - now
    seconds = delta.days * 86400 + delta.seconds
    size = abs(seconds)
    for unit, per_unit in TIMEDELTA_UNITS:
        value = size / per_unit
        if value >= threshold or unit == "minute":
            if unit == "minute" and value > 0:
                value = max(1, value)
            break
    key = (str(get_locale()), threshold, unit, round(value), seconds >= 0)
    try:
        return _RELATIVE[key]
    except KeyError:
        phrase = format_timedelta(delta, granularity="minute", threshold=threshold, add_direction=True)
        if len(_RELATIVE) < 10_000:
            _RELATIVE[key] = phrase
        return phrase


def date_format(value: Any, format: str | None = None, rebase: bool = True) -> str:
    """Flask-Babel's ``dateformat`` filter, each day formatted once per request.

    A date says the same for every moment of its day (in the person's time
    zone), and a list of fifty cases opened over a few days asks for a few
    dates fifty times.  The formatted days are kept in the request's own
    WSGI environ, which ends with it (``g`` can outlive a request: a worker
    opens request contexts inside one long app context).
    """
    if not rebase or not isinstance(value, datetime):
        return format_date(value, format, rebase)
    return _format_day(value, format, get_locale(), _days())


def day_formatter(format: str | None = None) -> Callable[[datetime], str]:
    """:func:`date_format` for the rows of one render: the language and the time zone
    read once, not once per row."""
    locale, days = get_locale(), _days()
    return lambda value: _format_day(value, format, locale, days)


def _format_day(value: datetime, format: str | None, locale: Any, memo: _Days) -> str:
    # The person's day as Flask-Babel's to_user_timezone gives it (its normalize() after
    # astimezone() changes nothing: a pytz zone's fromutc already picks the offset).
    zone = memo.zone
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    key = (locale, format, moment.astimezone(zone).date())
    try:
        return memo.days[key]
    except KeyError:
        text = memo.days[key] = format_date(value, format)
        return text


class _Days:
    """This request's formatted days, and the person's time zone they are counted in."""

    __slots__ = ("days", "zone")

    def __init__(self, zone: Any) -> None:
        self.zone = zone
        self.days: dict[Any, str] = {}


def _days() -> _Days:
    environ = request.environ
    memo: _Days | None = environ.get(_DAYS)
    if memo is None:
        memo = environ[_DAYS] = _Days(get_timezone())
    return memo


_DAYS = "advocacy.days"


def number_format(number: Any) -> str:
    """Flask-Babel's ``numberformat`` filter, each number formatted once per request
    (a board says "0", "1" and "2" in every row)."""
    try:
        key = (get_locale(), type(number), number)
        memo: dict[Any, str] = g.setdefault("advocacy_numbers", {})
        return memo[key]
    except KeyError:
        text = memo[key] = format_number(number)
        return text
    except TypeError:  # unhashable: formatted as it comes
        return format_number(number)


#: A number no id reaches (ids are 32-bit), to find where an id goes in a built URL.
_ID_MARK = 987654321987


class UrlPattern:
    """The URLs of one endpoint that differ only by an id, built by ``url_for`` once.

    ``UrlPattern("intake.detail", "case_id")(7)`` is ``url_for("intake.detail",
    case_id=7)``: the URL is built once with a marker in the id's place, and
    each row's URL is the text around it with the id in between (a list of
    fifty cases asks the router once, not fifty times).  Only for ids (whole
    numbers, which the ``id`` converter writes as their digits).
    """

    __slots__ = ("_after", "_before")

    def __init__(self, endpoint: str, name: str, **values: Any) -> None:
        built = url_for(endpoint, **values, **{name: _ID_MARK})
        mark = str(_ID_MARK)
        if built.count(mark) != 1:
            raise ValueError(f"{endpoint}: the id is not once in its URL")
        self._before, self._after = built.split(mark)

    def __call__(self, id_: int) -> str:
        return f"{self._before}{int(id_)}{self._after}"


def csrf_token() -> str:
    """Flask-WTF's ``generate_csrf``, which keeps the request's token on ``g`` and returns
    it from there: read it there first (a board has a form per bed, hold and referral,
    and ``generate_csrf`` reads the config and the session again on every call)."""
    token = g.get("csrf_token")
    return token if token is not None else generate_csrf()


def _context() -> dict[str, Any]:
    settings = current_app.config["SETTINGS"]
    navigation = _navigation()
    return {
        **_render_gettext(),
        "actor": current_actor(),
        "acting_agencies": _agencies,
        "language": current_language(),
        "languages": list(registry().values()),
        "untranslated": untranslated_languages(),
        "navigation": navigation,
        # The menu's fragment key (advocacy/fragments.py): which entries this person sees.
        "navigation_key": " ".join(item.endpoint for item in navigation),
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
    # Concatenated, not Markup.format: the same text, at a fraction of the cost per row.
    return Markup(f"<bdi>{escape(value)}</bdi>")  # noqa: S704 - the value is escaped


def phone(value: str) -> Markup:
    """A phone number or short code: left to right and never broken across lines,
    also inside an Arabic sentence."""
    return Markup(f'<bdi dir="ltr" class="app-phone">{escape(value)}</bdi>')  # noqa: S704 - escaped


def language_name(tag: str) -> str:
    """A language tag as people read it: its own name ("Soomaali", "Tiếng Việt").

    The registry names the app's own languages; a victim's language outside it
    is named from CLDR when Babel knows it, else shown as its tag.  A tag's name
    is the same on every page (in its own language), so each is looked up once.
    """
    try:
        return _LANGUAGE_NAMES[tag]
    except KeyError:
        name = _language_name(tag)
        if len(_LANGUAGE_NAMES) < 2_000:  # tags are also typed in ("Other"): keep it bounded
            _LANGUAGE_NAMES[tag] = name
        return name
    except TypeError:  # not a tag at all
        return _language_name(tag)


#: Language names by tag (a few hundred tags at most: the ones people and shelters use).
_LANGUAGE_NAMES: dict[str, str] = {}


def _language_name(tag: str) -> str:
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
    app.jinja_env.add_extension(FragmentCache)
    app.jinja_env.globals["csrf_token"] = csrf_token  # after CSRFProtect's own
    app.jinja_env.globals["form_field"] = form_field  # the field macro of _forms.html
    app.jinja_env.filters["bdi"] = bdi
    app.jinja_env.filters["dateformat"] = date_format  # Flask-Babel's, once per day and request
    app.jinja_env.filters["numberformat"] = number_format  # Flask-Babel's, once per number and request
    app.jinja_env.filters["phone"] = phone
    app.jinja_env.filters["language_name"] = language_name
    app.jinja_env.filters["itext"] = instrument_text
    app.jinja_env.filters["itext_own"] = instrument_text_own
    app.jinja_env.filters["program_label"] = program_label
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
