"""The page frame's cached fragments: the same page as before, and nothing of anyone in them."""

from __future__ import annotations

import re

from flask import Flask

from advocacy.auth.models import Role
from advocacy.fragments import LIMIT
from tests import factories
from tests.helpers import CSRFClient, sign_in


def _fragments(app: Flask) -> list[str]:
    return [str(value) for value in app.jinja_env.fragment_cache.values()]  # type: ignore[attr-defined]


def test_the_frame_is_drawn_once_per_language_and_menu_and_holds_nothing_of_the_person(
    client: CSRFClient, app: Flask
) -> None:
    north = factories.agency("north", "Northern Lights Advocacy")
    advocate = factories.user(north, Role.ADVOCATE, "ruth-advocate")
    sign_in(client, advocate)
    page = client.get("/cases/?q=zzsecretsearch").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token is not None
    fragments = _fragments(app)
    assert fragments, "the frame's fragments are cached"
    for fragment in fragments:
        assert token.group(1) not in fragment
        assert "csrf" not in fragment
        assert "zzsecretsearch" not in fragment  # the request's own URL stays outside
        assert advocate.display_name not in fragment and "ruth-advocate" not in fragment
        assert "Northern Lights" not in fragment
    # A second page of the same person reuses them: no new fragment but the menu's current entry.
    count = len(fragments)
    client.get("/cases/")
    assert len(_fragments(app)) == count
    client.get("/")
    assert len(_fragments(app)) == count + 1  # "menu" with another current endpoint


def test_the_cached_menu_marks_the_page_it_is_on(client: CSRFClient) -> None:
    sign_in(client, factories.user(factories.agency("north"), Role.ADVOCATE))
    cases = client.get("/cases/").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'usa-current" href="/cases/" aria-current="page"', cases)
    assert not re.search(r'href="/cases/" aria-current="page"', home)
    assert 'href="/" aria-current="page"' in home


def test_the_cached_frame_follows_the_language(client: CSRFClient) -> None:
    sign_in(client, factories.user(factories.agency("north"), Role.ADVOCATE))
    english = client.get("/cases/").get_data(as_text=True)
    client.post("/language", data={"language": "es", "next": "/cases/"})
    spanish = client.get("/cases/").get_data(as_text=True)
    assert "Skip to main content" in english and "Skip to main content" not in spanish
    assert 'lang="es"' in spanish
    assert '<option value="es" lang="es" dir="ltr" selected>' in spanish
    assert '<option value="en" lang="en" dir="ltr" selected>' in english


def test_a_role_sees_its_own_menu_from_the_cache(client: CSRFClient, app: Flask) -> None:
    north = factories.agency("north")
    sign_in(client, factories.user(north, Role.ADVOCATE))
    assert "Audit log" not in client.get("/").get_data(as_text=True)
    other = app.test_client()
    sign_in(other, factories.user(north, Role.ADMIN))
    assert "Audit log" in other.get("/").get_data(as_text=True)
    assert "Audit log" not in client.get("/").get_data(as_text=True)


def test_past_its_limit_a_fragment_is_drawn_each_time(client: CSRFClient, app: Flask) -> None:
    cache = app.jinja_env.fragment_cache  # type: ignore[attr-defined]
    cache.update({("filler", n): "" for n in range(LIMIT)})
    sign_in(client, factories.user(factories.agency("north"), Role.ADVOCATE))
    page = client.get("/cases/").get_data(as_text=True)
    assert "Skip to main content" in page and "app.js" in page
    assert len(cache) == LIMIT


def test_a_fragment_with_links_is_kept_per_mount_point(client: CSRFClient) -> None:
    """Behind a proxy that mounts the app under a prefix as well as at the root, each
    page's menu and assets link under its own prefix."""
    sign_in(client, factories.user(factories.agency("north"), Role.ADVOCATE))
    at_root = client.get("/cases/").get_data(as_text=True)
    mounted = client.get("/cases/", base_url="http://localhost/dv").get_data(as_text=True)
    assert 'href="/cases/"' in at_root and 'href="/dv/cases/"' not in at_root
    assert 'href="/dv/cases/"' in mounted and 'href="/dv/static/' in mounted
    assert '"/static/' not in mounted  # the menu's icon too
    assert 'href="/"' not in mounted and 'href="/dv/"' in mounted  # the logo's link home
