"""Language access: the catalog pipeline, every page in every language, the choice of language.

The registry (``translations/languages.json``) is the list of languages; every
test that concerns "each language" reads it, so adding a language adds it to
these tests.  Languages without translations yet fall back to English text
with their own ``lang`` and ``dir``: that is expected, not a failure.
"""

from __future__ import annotations

import gettext
import html
import re
import shutil
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import flask
import flask_babel
import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask import Flask

from advocacy import create_app
from advocacy.auth.models import Agency, Role, User
from advocacy.extensions import db
from advocacy.i18n import SOURCE_LANGUAGE, catalog_coverage, extract_template, registry, select_language
from advocacy.intake.instrument_format import shipped
from advocacy.intake.service import open_case, screen_case, start_draft
from advocacy.shelters.models import BedType, RoomType
from advocacy.shelters.service import add_room, add_shelter
from tests.conftest import configure_test_app, make_settings
from tests.factories import actor, system
from tests.helpers import PASSWORD, CSRFClient, login, make_agency, make_user, text_of

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
TAGS = list(registry())
#: Languages whose catalog must stay complete: every new string is translated before merging.
COMPLETE = ("es",)
HTML = re.compile(r'<html lang="([^"]*)" dir="([^"]*)"')
H1 = re.compile(r"<h1>(.*?)</h1>", re.S)


# --- Helpers --------------------------------------------------------------------


def html_lang(response: Any) -> tuple[str, str]:
    match = HTML.search(response.get_data(as_text=True))
    assert match, "no <html lang dir> on the page"
    return match.group(1), match.group(2)


def heading(response: Any) -> str:
    match = H1.search(response.get_data(as_text=True))
    assert match, "no <h1> on the page"
    return match.group(1).strip()


def choose(client: CSRFClient, tag: str) -> None:
    """The language switcher, as a person uses it."""
    response = client.post("/language", data={"language": tag, "next": "/auth/login"})
    assert response.status_code == 302


def read_catalog(tag: str) -> Catalog:
    path = TRANSLATIONS / "messages.pot" if tag == SOURCE_LANGUAGE else _po(TRANSLATIONS, tag)
    with path.open("rb") as fh:
        return read_po(fh, locale=None if tag == SOURCE_LANGUAGE else tag)


def shown(tag: str, msgid: str) -> str:
    """What a page in ``tag`` shows for ``msgid``: its reviewed translation, else the English."""
    if tag == SOURCE_LANGUAGE:
        return msgid
    message = read_catalog(tag).get(msgid)
    return message.string if message is not None and message.string and not message.fuzzy else msgid


def _po(base: Path, tag: str) -> Path:
    return base / tag / "LC_MESSAGES" / "messages.po"


@pytest.fixture(autouse=True)
def compiled_catalogs_are_fresh(request: pytest.FixtureRequest) -> None:
    """Pages read the compiled .mo files (build output, made by `make translations`)."""
    if "client" not in request.fixturenames:
        return
    for tag in TAGS:
        if tag == SOURCE_LANGUAGE:
            continue
        po = _po(TRANSLATIONS, tag)
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            pytest.fail(f"{mo.relative_to(ROOT)} is missing or older than its .po: run `make translations`")


# --- The catalog pipeline ---------------------------------------------------------


def _messages(path: Path) -> dict[tuple[str, str | None], tuple[list[tuple[str, int | None]], set[str]]]:
    with path.open("rb") as fh:
        catalog = read_po(fh)
    return {
        (str(m.id), m.context): (sorted(m.locations), set(m.flags) - {"fuzzy"})  # type: ignore[arg-type]
        for m in catalog
        if m.id
    }


def test_pot_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    fresh.write_bytes(extract_template(ROOT))
    assert "POT-Creation-Date" not in fresh.read_text(encoding="utf-8")
    now, committed = _messages(fresh), _messages(TRANSLATIONS / "messages.pot")
    added = sorted(k[0] for k in now.keys() - committed.keys())
    removed = sorted(k[0] for k in committed.keys() - now.keys())
    moved = sorted(k[0] for k in now.keys() & committed.keys() if now[k] != committed[k])
    if fresh.read_bytes() != (TRANSLATIONS / "messages.pot").read_bytes():
        pytest.fail(
            "translations/messages.pot does not match the strings in the code: run `make i18n` "
            "and translate the new strings (Spanish must stay complete). "
            f"New: {added[:10]}; gone: {removed[:10]}; moved to another file: {moved[:10]}",
            pytrace=False,
        )


def test_template_names_files_but_not_lines() -> None:
    """Moving a string within a file must not make the template stale."""
    text = extract_template(ROOT).decode()
    locations = [line for line in text.splitlines() if line.startswith("#: ")]
    assert any("templates/base.html" in line for line in locations)
    assert not [line for line in locations if re.search(r":\d+", line)]


def test_registry_lists_each_language_once_with_a_direction() -> None:
    assert SOURCE_LANGUAGE in registry()
    assert len(TAGS) == len(set(TAGS))
    assert {lang.dir for lang in registry().values()} <= {"ltr", "rtl"}
    assert registry()["ar"].dir == "rtl"
    # The languages Babel has no CLDR data for still have a locale to format with.
    for tag in ("hmn", "ksw", "oj"):
        assert Locale.parse(registry()[tag].babel)


@pytest.mark.parametrize("tag", [t for t in TAGS if t != SOURCE_LANGUAGE])
def test_every_registered_language_has_a_catalog_in_step_with_the_template(tag: str) -> None:
    path = _po(TRANSLATIONS, tag)
    assert path.exists(), f"no catalog for {tag}: run `make i18n`"
    catalog = read_catalog(tag)
    assert catalog.locale_identifier == tag
    template = {(m.id, m.context) for m in read_catalog(SOURCE_LANGUAGE) if m.id}
    assert {(m.id, m.context) for m in catalog if m.id} == template, "catalog out of step: run `make i18n`"
    # Placeholders such as %(name)s survive translation.
    assert [str(problem) for _message, problems in catalog.check() for problem in problems] == []


@pytest.mark.parametrize("tag", COMPLETE)
def test_spanish_is_complete(tag: str) -> None:
    done, total = catalog_coverage(TRANSLATIONS)[tag]
    assert total > 0
    missing = [m.id for m in read_catalog(tag) if m.id and (not m.string or m.fuzzy)]
    assert done == total, f"{tag}: {total - done} strings untranslated or fuzzy: {missing[:10]}"


def test_coverage_command_prints_a_line_per_language(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["i18n", "coverage"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == TAGS
    by_tag = {line.split()[0]: line for line in lines}
    assert by_tag["en"].endswith("100.0%")
    for tag in COMPLETE:
        assert by_tag[tag].endswith("100.0%")


# --- Every page in every language -------------------------------------------------


@pytest.fixture
def agency_data(app: Flask) -> SimpleNamespace:
    agency = make_agency()
    admin = make_user(agency, Role.ADMIN)
    advocate = make_user(agency, Role.ADVOCATE)
    staff = make_user(agency, Role.SHELTER_STAFF)
    case = open_case(system(agency), agency.id, advocate.id, "Rosa M.", phone="+12185550101", language="es")
    shelter = add_shelter(
        system(agency), agency.id, "Casa Norte", "North 1", "Northeast", address="12 Birch Street"
    )
    add_room(
        system(agency),
        shelter,
        "1",
        room_type=RoomType.FAMILY,
        beds=[("A", BedType.ADULT), ("B", BedType.CHILD)],
    )
    db.session.commit()
    # A screened-in case with its protocol, and an intake in progress, so their pages have content.
    lethality = shipped()["lethality-screen@1"]
    answers = {q.key: "no" for q in lethality.questions}
    screen_case(actor(advocate), case, lethality, answers, judgment_reason="threats last week")
    draft = start_draft(actor(advocate))
    db.session.commit()
    return SimpleNamespace(
        agency_id=agency.id,
        admin_id=admin.id,
        advocate_id=advocate.id,
        staff_id=staff.id,
        case_id=case.id,
        case_opened_at=case.opened_at,
        draft_id=draft.id,
        shelter_id=shelter.id,
    )


def fresh(model: type[T], object_id: int) -> T:
    """The row as stored now.  (Objects a test holds can be detached by a request:
    the audit page's chain check expunges the session it shares with the test.)"""
    obj = db.session.get(model, object_id)
    assert obj is not None
    return obj


def pages_of(role: Role, data: SimpleNamespace) -> dict[str, int]:
    """The pages a role reaches from the navigation, and some it may not open."""
    common = {"/": 200, "/auth/account": 200, "/no-such-page": 404}
    cases = {"/cases/": 200, f"/cases/{data.case_id}": 200, f"/cases/{data.case_id + 1000}": 404}
    shelters = {"/shelters/": 200, f"/shelters/{data.shelter_id}": 200}
    if role is Role.ADMIN:
        admin = {"/admin/users": 200, f"/admin/users/{data.advocate_id}": 200, "/admin/audit": 200}
        return common | cases | shelters | admin
    if role is Role.ADVOCATE:
        return common | cases | {"/shelters/": 403, "/admin/users": 403}
    return common | shelters | {"/cases/": 403, "/admin/audit": 403}


#: GET endpoints that are not pages.
NOT_PAGES = {"static", "core.health"}


def every_get_url(app: Flask, data: SimpleNamespace) -> list[str]:
    """Every GET route of the app, so that a new page is swept without being listed.

    A route whose URL takes an argument not named here is left out: add the
    argument when adding such a page.
    """
    values = {
        "case_id": data.case_id,
        "shelter_id": data.shelter_id,
        "user_id": data.advocate_id,
        "draft_id": data.draft_id,
        "step": "screen",
        "section": "household",
        "ref": "lethality-screen@1",
    }
    adapter = app.url_map.bind("localhost")
    return sorted(
        adapter.build(rule.endpoint, {name: values[name] for name in rule.arguments})
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and rule.endpoint not in NOT_PAGES
        and rule.arguments <= values.keys()
    )


def assert_page(response: Any, url: str, status: int | None, tag: str) -> None:
    """``status`` None: any answer but a server error (a swept page the role may not open)."""
    if status is None:
        assert response.status_code < 500, f"{url} in {tag}: {response.status_code}"
        if response.status_code in (301, 302, 303) or response.mimetype != "text/html":
            return
    else:
        assert response.status_code == status, f"{url} in {tag}: {response.status_code}"
    assert html_lang(response) == (tag, registry()[tag].dir), url
    text = text_of(response)
    assert "%(" not in text, f"{url} in {tag}: a placeholder was not filled"
    assert "Traceback" not in text


@pytest.mark.parametrize("tag", TAGS)
def test_every_page_renders_in_every_language(
    tag: str, app: Flask, client: CSRFClient, agency_data: SimpleNamespace
) -> None:
    # Signed out: the sign-in page.
    choose(client, tag)
    assert_page(client.get("/auth/login"), "/auth/login", 200, tag)

    # Half signed in: the code step, and the set-up of two-step sign-in for a new account.
    response = client.post(
        "/auth/login", data={"username": fresh(User, agency_data.advocate_id).username, "password": PASSWORD}
    )
    assert response.headers["Location"].endswith("/auth/two-factor")
    assert_page(client.get("/auth/two-factor"), "/auth/two-factor", 200, tag)
    newcomer = make_user(fresh(Agency, agency_data.agency_id), Role.ADVOCATE, enrolled=False)
    response = client.post("/auth/login", data={"username": newcomer.username, "password": PASSWORD})
    assert response.headers["Location"].endswith("/auth/enrol")
    assert_page(client.get("/auth/enrol"), "/auth/enrol", 200, tag)

    # Signed in, as each role: the pages named above, then every other GET route.
    swept = every_get_url(app, agency_data)
    for role, user_id in (
        (Role.ADMIN, agency_data.admin_id),
        (Role.ADVOCATE, agency_data.advocate_id),
        (Role.SHELTER_STAFF, agency_data.staff_id),
    ):
        client.post("/auth/logout")
        login(client, fresh(User, user_id))
        choose(client, tag)
        expected: dict[str, int | None] = {url: None for url in swept}
        expected |= pages_of(role, agency_data)
        for url, status in expected.items():
            assert_page(client.get(url), f"{url} as {role.value}", status, tag)


# --- What the pages say -------------------------------------------------------------


@pytest.mark.parametrize("tag", TAGS)
def test_sign_in_page_shows_the_translation_or_falls_back_to_english(tag: str, client: CSRFClient) -> None:
    choose(client, tag)
    page = client.get("/auth/login")
    assert html_lang(page) == (tag, registry()[tag].dir)
    assert heading(page) == shown(tag, "Sign in")


def test_spanish_pages_are_in_spanish(client: CSRFClient, agency_data: SimpleNamespace) -> None:
    choose(client, "es")
    page = client.get("/auth/login")
    assert heading(page) == "Iniciar sesión"
    assert "Las víctimas nunca necesitan una cuenta." in text_of(page)
    assert ">Continuar<" in page.get_data(as_text=True)

    login(client, fresh(User, agency_data.admin_id))
    home = text_of(client.get("/"))
    assert "Le damos la bienvenida, Test admin" in home
    assert "Administrador(a) de la agencia en Agency north" in home
    for label in ("Casos", "Refugios", "Usuarios", "Registro de auditoría", "Mi cuenta", "Cerrar sesión"):
        assert label in home
    assert "Sign out" not in home
    cases = text_of(client.get("/cases/"))
    assert "Casos más recientes de su agencia" in cases
    assert "Abierto" in cases
    assert heading(client.get("/no-such-page")) == "No se encontró la página"
    forbidden = make_user(fresh(Agency, agency_data.agency_id), Role.SHELTER_STAFF)
    client.post("/auth/logout")
    login(client, forbidden)
    choose(client, "es")
    assert heading(client.get("/admin/users")) == "No permitido"


def test_arabic_pages_are_in_arabic_and_right_to_left(
    client: CSRFClient, agency_data: SimpleNamespace
) -> None:
    if shown("ar", "Sign in") == "Sign in":
        pytest.skip("no Arabic translation yet")
    choose(client, "ar")
    page = client.get("/auth/login")
    assert html_lang(page) == ("ar", "rtl")
    assert heading(page) == "تسجيل الدخول"
    login(client, fresh(User, agency_data.advocate_id))
    cases = client.get("/cases/")
    assert html_lang(cases) == ("ar", "rtl")
    assert heading(cases) == "الحالات"
    assert "أحدث الحالات في مؤسستك" in text_of(cases)


# --- Choosing the language ----------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("so,en;q=0.5", "so"),
        ("hmn", "hmn"),
        ("ksw", "ksw"),
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("ar-EG", "ar"),
        ("fr-CA,fr;q=0.9,de;q=0.5", "en"),
        ("", "en"),
    ],
)
def test_accept_language_picks_the_best_registered_language(
    header: str, expected: str, client: CSRFClient
) -> None:
    page = client.get("/auth/login", headers={"Accept-Language": header} if header else {})
    assert html_lang(page) == (expected, registry()[expected].dir)


def test_the_switcher_beats_accept_language(client: CSRFClient) -> None:
    choose(client, "so")
    assert html_lang(client.get("/auth/login", headers={"Accept-Language": "ar"}))[0] == "so"


def test_an_unknown_language_from_the_switcher_is_ignored(client: CSRFClient) -> None:
    choose(client, "es")
    choose(client, "xx")
    assert html_lang(client.get("/auth/login"))[0] == "es"


def test_a_saved_preference_beats_the_switcher_and_accept_language(
    client: CSRFClient, agency_data: SimpleNamespace
) -> None:
    user = fresh(User, agency_data.advocate_id)
    user.language = "es"
    db.session.commit()
    choose(client, "so")  # before signing in: this client's choice
    login(client, user)  # the session keeps "so" through sign-in, the preference wins
    assert html_lang(client.get("/", headers={"Accept-Language": "ar"}))[0] == "es"


def test_the_switcher_saves_the_preference_of_a_signed_in_user(
    client: CSRFClient, other_client: CSRFClient, agency_data: SimpleNamespace
) -> None:
    user = fresh(User, agency_data.advocate_id)
    login(client, user)
    choose(client, "hmn")
    db.session.expire_all()
    assert db.session.get(User, user.id).language == "hmn"  # type: ignore[union-attr]

    assert html_lang(other_client.get("/auth/login", headers={"Accept-Language": "ar"}))[0] == "ar"
    login(other_client, user)
    assert html_lang(other_client.get("/", headers={"Accept-Language": "ar"}))[0] == "hmn"


def test_a_saved_preference_no_longer_registered_falls_back(
    client: CSRFClient, agency_data: SimpleNamespace
) -> None:
    user = fresh(User, agency_data.advocate_id)
    user.language = "kar"
    db.session.commit()
    login(client, user)
    assert html_lang(client.get("/", headers={"Accept-Language": "om"}))[0] == "om"


# --- Languages Babel has no CLDR data for ---------------------------------------------


@pytest.mark.parametrize("tag", ["hmn", "ksw", "oj"])
def test_dates_and_numbers_format_through_the_fallback_locale(
    tag: str, app: Flask, client: CSRFClient, agency_data: SimpleNamespace
) -> None:
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": tag}):
        assert select_language() == tag
        assert flask_babel.get_locale() == Locale.parse(registry()[tag].babel)
        assert "2026" in flask_babel.format_date(date(2026, 3, 9))
        assert flask_babel.format_number(1234567) == "1,234,567"
        opened = flask_babel.format_date(agency_data.case_opened_at)

    login(client, fresh(User, agency_data.advocate_id))
    choose(client, tag)
    page = client.get("/cases/")
    assert page.status_code == 200
    assert html_lang(page) == (tag, "ltr")
    assert opened in text_of(page)


def test_hmong_catalog_is_loaded_although_babel_does_not_know_hmong(
    app: Flask, client: CSRFClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "translations"
    (base / "hmn" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(TRANSLATIONS / "messages.pot", base / "messages.pot")
    catalog = Catalog(locale="hmn", project="advocacy")
    catalog.add("Sign in", "[hmn] Sign in")
    catalog.add("Continue", "[hmn] Continue", flags=["fuzzy"])  # unreviewed: not shown, not counted
    with _po(base, "hmn").open("wb") as fh:
        write_po(fh, catalog, width=0)
    with _po(base, "hmn").with_suffix(".mo").open("wb") as fh:
        write_mo(fh, catalog, use_fuzzy=False)

    # Flask-Babel resolved its directories when the app was made; point it (and
    # the coverage report) at the temporary catalogs, with an empty cache.
    monkeypatch.setattr(app.extensions["babel"], "translation_directories", [str(base)])
    monkeypatch.setitem(app.config, "BABEL_TRANSLATION_DIRECTORIES", str(base))
    monkeypatch.delitem(app.extensions, "advocacy.babel_domain", raising=False)

    page = client.get("/auth/login", headers={"Accept-Language": "hmn"})
    assert html_lang(page) == ("hmn", "ltr")
    assert heading(page) == "[hmn] Sign in"
    assert ">Continue<" in page.get_data(as_text=True)

    done, total = catalog_coverage()["hmn"]
    assert (done, total) == (1, catalog_coverage(TRANSLATIONS)["hmn"][1])


def test_plural_forms_follow_the_language_of_the_catalog(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arabic has six plural forms; a merged catalog must keep its rule, not English's."""
    base = tmp_path / "translations"
    (base / "ar" / "LC_MESSAGES").mkdir(parents=True)
    catalog = Catalog(locale="ar", project="advocacy")
    assert catalog.num_plurals == 6
    catalog.add(("%(num)d bed", "%(num)d beds"), tuple(f"form {i}: %(num)d" for i in range(6)))
    with (base / "ar" / "LC_MESSAGES" / "messages.mo").open("wb") as fh:
        write_mo(fh, catalog)
    monkeypatch.setattr(app.extensions["babel"], "translation_directories", [str(base)])
    monkeypatch.delitem(app.extensions, "advocacy.babel_domain", raising=False)

    rule = gettext.c2py(catalog.plural_expr)
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "ar"}):
        for n in (0, 1, 2, 3, 11, 100):
            assert flask_babel.ngettext("%(num)d bed", "%(num)d beds", n) == f"form {rule(n)}: {n}"
    assert {rule(n) for n in (0, 1, 2, 3, 11, 100)} == set(range(6))


@pytest.mark.parametrize(
    ("tag", "seconds", "expected"),
    [
        ("en", 60, "after 1 minute without"),
        ("en", 900, "after 15 minutes without"),
        ("es", 60, "después de 1 minuto sin"),
        ("es", 900, "después de 15 minutos sin"),
        ("ar", 120, "بعد دقيقتين دون"),
        ("ar", 300, "بعد 5 دقائق دون"),
        ("ar", 900, "بعد 15 دقيقة دون"),
    ],
)
def test_the_idle_timeout_is_said_with_the_right_plural(
    tmp_path: Path, tag: str, seconds: int, expected: str
) -> None:
    """Arabic has six plural forms; the session notice must pick the right one.
    (Rendering only: SQLite is enough.)"""
    url = f"sqlite:///{tmp_path / 'plural.sqlite3'}"
    app = configure_test_app(create_app(make_settings(url, idle_timeout_seconds=seconds)))
    with app.app_context():
        db.create_all()
        user = make_user(make_agency(), Role.ADVOCATE)
        client = app.test_client()
        login(client, user)
        client.post("/language", data={"language": tag})
        assert expected in text_of(client.get("/auth/account"))
        db.session.remove()


# --- languages without translations (issue 12) -----------------------------------------------------


UNTRANSLATED = ("so", "hmn", "ksw", "om", "oj")


def test_the_switcher_marks_the_languages_not_yet_translated(client: CSRFClient) -> None:
    served = client.get("/auth/login").get_data(as_text=True)
    for tag in TAGS:
        option = re.search(rf'<option value="{tag}"[^>]*>([^<]*)</option>', served)
        assert option, tag
        assert ("not yet translated" in option.group(1)) == (tag in UNTRANSLATED), (tag, option.group(1))


@pytest.mark.parametrize("tag", UNTRANSLATED)
def test_a_language_not_yet_translated_says_on_the_page_that_it_is_shown_in_english(
    tag: str, client: CSRFClient
) -> None:
    client.post("/language", data={"language": tag})
    page = client.get("/auth/login")
    assert f'lang="{tag}"' in page.get_data(as_text=True)
    said = html.unescape(text_of(page))
    assert f"is not yet translated into {registry()[tag].native}" in said
    assert f"({registry()[tag].english}): it is shown in English until it is" in said


@pytest.mark.parametrize("tag", ["en", "es", "ar"])
def test_a_translated_language_has_no_such_notice(tag: str, client: CSRFClient) -> None:
    client.post("/language", data={"language": tag})
    assert 'class="usa-alert usa-alert--info usa-alert--slim app-untranslated"' not in client.get(
        "/auth/login"
    ).get_data(as_text=True)


# --- Per-render text: the same words as Babel's and Jinja's, formatted fewer times ---------


@pytest.mark.parametrize("tag", ["en", "es", "ar"])
def test_relative_times_say_what_babel_says(app: Flask, tag: str) -> None:
    """``relative_time`` formats each phrase once and reuses it: for every number of
    seconds (both sides of each rounding and unit boundary, past and future) it
    says exactly what ``format_timedelta`` says."""
    from datetime import UTC, datetime, timedelta

    from advocacy.templating import _RELATIVE, relative_time

    now = datetime(2026, 3, 9, 12, 0, 30, 500_000, tzinfo=UTC)
    seconds = sorted(
        {0, 1, 29, 30, 31, 59, 60, 89, 90, 91, 3059, 3060, 3061, 5399, 5400, 7199, 7200}
        | set(range(0, 200_000, 997))
        | {86400 * d + s for d in (1, 6, 7, 29, 30, 364, 365) for s in (-1, 0, 1)}
    )
    with app.test_request_context("/", headers={"Accept-Language": tag}):
        _RELATIVE.clear()
        for threshold in (0.85, 2):
            for s in seconds:
                for sign in (1, -1):
                    for fraction in (0, 0.4, 0.9):
                        moment = now + timedelta(seconds=sign * (s + fraction))
                        expected = flask_babel.format_timedelta(
                            moment - now, granularity="minute", threshold=threshold, add_direction=True
                        )
                        assert relative_time(moment, now, threshold=threshold) == expected, (
                            s,
                            sign,
                            fraction,
                        )
        assert 0 < len(_RELATIVE) < len(seconds)  # phrases were reused, not formatted per call


def test_the_render_gettext_formats_as_jinjas_own(app: Flask) -> None:
    """The per-render ``_``/``ngettext`` give what Jinja's i18n wrappers give: escaping
    of variables, ``%`` applied without variables, plurals by number, no escaping
    where the template does not escape, the same text asked twice."""
    from jinja2.ext import _make_new_gettext, _make_new_ngettext

    from advocacy.templating import _render_gettext

    source = (
        "{{ _('100%% sure') }}|{{ _('100%% sure') }}|{{ _('Hello %(name)s', name='<b>&') }}|"
        "{% for n in (0, 1, 2, 1, 11, 100) %}{{ ngettext('%(num)d bed', '%(num)d beds', n) }},{% endfor %}|"
        "{{ ngettext('%(num)d bed for %(who)s', '%(num)d beds for %(who)s', 3, who='<i>') }}|"
        "{% autoescape false %}{{ _('Hello %(name)s', name='<b>') }}{{ _('100%% sure') }}{% endautoescape %}"
    )
    for tag in ("en", "ar"):
        with app.test_request_context("/", headers={"Accept-Language": tag}):
            template = app.jinja_env.from_string(source)
            catalog = flask_babel.get_translations()
            jinjas = template.render(
                _=_make_new_gettext(catalog.ugettext), ngettext=_make_new_ngettext(catalog.ungettext)
            )
            ours = template.render(**_render_gettext())
            assert ours == jinjas
            assert "&lt;b&gt;&amp;" in ours and "100% sure|100% sure" in ours


def test_row_urls_are_the_routers_own(app: Flask) -> None:
    """``UrlPattern`` builds a row's URL from one ``url_for``: the same URL for every id, in the path or the query."""
    from flask import url_for

    from advocacy.templating import UrlPattern

    with app.test_request_context("/"):
        case_url = UrlPattern("intake.detail", "case_id")
        check_out = UrlPattern("shelters.bed_check_out", "bed_id", shelter_id=7)
        for id_ in (1, 9, 10, 123456, 2**31 - 1):
            assert case_url(id_) == url_for("intake.detail", case_id=id_)
            assert check_out(id_) == url_for("shelters.bed_check_out", shelter_id=7, bed_id=id_)
            assert UrlPattern("intake.index", "page")(id_) == url_for("intake.index", page=id_)


@pytest.mark.parametrize("tag", ["en", "ar"])
def test_dates_and_numbers_are_formatted_once_as_flask_babel_formats_them(app: Flask, tag: str) -> None:
    """The ``dateformat`` filter keeps each day's text for the request: the same text as
    Flask-Babel's for every moment, also either side of midnight in the person's time zone
    and across its change to summer time (Chicago's, on 8 March 2026);
    ``numberformat`` keeps each number's."""
    from datetime import UTC, datetime, timedelta

    from advocacy.templating import date_format, number_format

    start = datetime(2026, 3, 8, 0, 0, tzinfo=UTC)
    moments = [start + timedelta(minutes=37 * n) for n in range(200)]
    with app.test_request_context("/", headers={"Accept-Language": tag}):
        assert str(flask_babel.get_timezone()) == "America/Chicago"  # the tests' zone: it has summer time
        for moment in moments + moments:
            assert date_format(moment) == flask_babel.format_date(moment)
            assert date_format(moment, "short") == flask_babel.format_date(moment, "short")
        assert date_format(date(2026, 3, 9)) == flask_babel.format_date(date(2026, 3, 9))
        assert len(flask.request.environ["advocacy.days"].days) == 2 * len(
            {flask_babel.to_user_timezone(m).date() for m in moments}
        )
        for number in (0, 1, 1234567, 0.5, 1.0, 2, 1234567, 0):
            assert number_format(number) == flask_babel.format_number(number)


def test_labels_kept_for_the_app_follow_each_pages_language(app: Flask) -> None:
    """A translated label is kept per language: an English page after a Spanish one
    still says "Available", and a Spanish one after it says the Spanish word."""
    from advocacy.shelters.models import BedState
    from advocacy.vocab import Labels

    said = {}
    for tag in ("es", "en", "es", "ar"):
        # An app context of its own, as every served request has (``g`` with it).
        with app.app_context(), app.test_request_context("/", headers={"Accept-Language": tag}):
            said.setdefault(tag, set()).add(Labels(BedState)("available"))
            assert Labels(BedState)("available") == BedState.AVAILABLE.label  # as Flask-Babel says it now
    assert said["en"] == {"Available"}
    assert len(said["es"]) == 1 and said["es"] != said["en"] and said["ar"] != said["es"]
