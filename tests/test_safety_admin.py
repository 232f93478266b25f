"""What an agency admin sees of the packs and sets for plans: review and coverage per language, local numbers."""

from __future__ import annotations

from flask import Flask

from advocacy.auth.models import Role
from tests import factories
from tests.helpers import sign_in, text_of


def test_the_admin_sees_every_pack_per_locale_with_review_status_and_coverage(client, app: Flask) -> None:
    north = factories.agency("north")
    sign_in(client, factories.user(north, Role.ADMIN))
    page = client.get("/content/packs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for pack in (
        "General",
        "Native and Indigenous",
        "Immigrant and refugee",
        "Deaf and hard of hearing",
        "Rural",
    ):
        assert pack in html
    text = text_of(page)
    # The general pack ships in all eight languages as drafts; the others show the English fallback.
    assert text.count("Draft translation, not reviewed") >= 7 + 6
    assert "No translation: English is shown" in text
    assert "10 of 10" in text
    assert html.count("app-pack-row--source") == 7


def test_an_advocate_does_not_see_the_pack_admin_page(client, app: Flask) -> None:
    north = factories.agency("north")
    sign_in(client, factories.user(north))
    assert client.get("/content/packs").status_code == 403


def test_the_admin_adds_a_local_number_and_plans_show_it(client, app: Flask) -> None:
    north = factories.agency("north")
    admin = factories.user(north, Role.ADMIN)
    advocate = factories.user(north)
    case = factories.case(advocate, "Maple")
    sign_in(client, admin)
    added = client.post(
        "/safety-plans/numbers",
        data={
            "agency_id": str(north.id),
            "name": "North crisis line",
            "number": "218 555 0100",
            "hours": "24 hours",
            "languages": "English, Ojibwe",
        },
    )
    assert added.status_code == 302
    assert "218-555-0100" in text_of(client.get("/safety-plans/numbers"))
    refused = client.post(
        "/safety-plans/numbers",
        data={
            "agency_id": str(north.id),
            "name": "Front desk",
            "number": "211",
            "hours": "at 12 Main St",
            "languages": "en",
        },
    )
    assert refused.status_code == 400
    assert "No addresses here" in text_of(refused)
    sign_in(client, advocate)
    assert "North crisis line" in text_of(client.get(f"/safety-plans/case/{case.id}"))
