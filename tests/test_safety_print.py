"""The printed plan: the victim's language whatever the advocate's, a neutral title, no agency unless chosen,
never a shelter, fallbacks told to the advocate and not on the paper; the PDF with a glyph for every character."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask

from advocacy.demo.network import SHELTERS as DEMO_SHELTERS
from advocacy.safety import pdf, texts
from tests import factories
from tests.helpers import sign_in

#: A few words in each script the acceptance names, typed by the victim.
OWN_WORDS = {
    "en": "Call my sister from the corner store",
    "es": "Llamar a mi hermana desde la tienda de la esquina",
    "so": "Ka wac walaashay dukaanka geeska",
    "ar": "اتصل بأختي من المتجر عند الزاوية",
    "ksw": "ကိး ယဒီပုၢ်ဖိမုၣ်",
}


def _paper(html: str) -> str:
    """What is printed: the page without the advocate's toolbar."""
    return html.split('<main class="app-paper"', 1)[1]


def _for_pdf(html: str) -> str:
    """The print page as the PDF is made from it: no links to load, no toolbar."""
    head, rest = html.split("<body>", 1)
    return re.sub(r"<link [^>]*>", "", head) + "<body><main" + rest.split("<main", 1)[1]


def _plan(
    client, app: Flask, locale: str, *, packs=("general",), agency_name: str = "North Women's Advocates"
):  # type: ignore[no-untyped-def]
    north = factories.agency("north", agency_name)
    advocate = factories.user(north)
    for spec in DEMO_SHELTERS:
        factories.shelter(north, name=spec.name, address=spec.address, label=spec.label, region=spec.region)
    case = factories.case(advocate, "Maple", language=locale)
    sign_in(client, advocate)
    saved = client.post(
        f"/safety-plans/case/{case.id}",
        data={
            "base": "0",
            "locale": locale,
            "packs": list(packs),
            "s.during_incident.notes.0.text": OWN_WORDS[locale],
            "s.during_incident.safe_places.0.place": OWN_WORDS[locale][:20],
            "checked": ["phone", "money"],
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    return case


def test_the_paper_is_in_the_victims_language_while_the_pages_are_in_english(client, app: Flask) -> None:
    case = _plan(client, app, "es")
    html = client.get(f"/safety-plans/case/{case.id}/print").get_data(as_text=True)
    assert '<html lang="es" dir="ltr">' in html
    paper = _paper(html)
    assert "<h1>Mi plan</h1>" in paper
    assert OWN_WORDS["es"] in paper
    assert "Usted conoce su situación mejor que nadie" in paper or "situación" in paper
    # The advocate's toolbar is in the advocate's language.
    assert 'lang="en"' in html.split('<main class="app-paper"', 1)[0]
    assert "Back to the plan" in html


def test_the_title_is_neutral_and_the_agency_is_named_only_when_chosen(client, app: Flask) -> None:
    case = _plan(client, app, "en")
    plain = _paper(client.get(f"/safety-plans/case/{case.id}/print").get_data(as_text=True))
    assert "<h1>My plan</h1>" in plain
    assert "North Women" not in plain
    named = _paper(client.get(f"/safety-plans/case/{case.id}/print?agency=1").get_data(as_text=True))
    assert "North Women" in named


def test_no_demo_shelters_name_or_address_is_on_the_paper_or_in_the_texts(client, app: Flask) -> None:
    case = _plan(
        client, app, "en", packs=("general", "native", "immigrant", "deaf", "lgbtq", "elders", "rural")
    )
    base = f"/safety-plans/case/{case.id}"
    every_part = "&".join(f"parts={p}" for p in texts.parts_offered())
    outputs = [
        _paper(client.get(f"{base}/print?agency=1").get_data(as_text=True)),
        client.get(f"{base}/text?style=detailed&{every_part}").get_data(as_text=True).split("Preview", 1)[1],
        client.get(f"{base}/text?style=discreet&parts=important_numbers")
        .get_data(as_text=True)
        .split("Preview", 1)[1],
    ]
    for output in outputs:
        for spec in DEMO_SHELTERS:
            street, _town = (part.strip() for part in spec.address.split(","))
            assert spec.name not in output
            assert street not in output
            assert spec.address not in output


def test_guidance_missing_in_the_language_is_printed_in_english_with_a_note_to_the_advocate_only(
    client, app: Flask
) -> None:
    case = _plan(client, app, "so", packs=("general", "rural"))
    html = client.get(f"/safety-plans/case/{case.id}/print").get_data(as_text=True)
    toolbar, paper = html.split('<main class="app-paper"', 1)
    assert "No translation yet for parts of" in toolbar
    assert "printed in English" in toolbar
    assert "translation" not in paper.lower()
    assert "app-fallback-note" not in paper
    # The rural pack's English guidance is on the paper, marked as English for screen readers.
    assert 'lang="en"' in paper


def test_the_print_stylesheet_hides_the_advocates_toolbar(app: Flask) -> None:
    css = pdf.STYLESHEET.read_text(encoding="utf-8")
    assert re.search(r"@media print\s*{[^}]*\.app-print-toolbar", css)


# --- PDF ----------------------------------------------------------------------------------------

needs_weasyprint = pytest.mark.skipif(not pdf.available(), reason="WeasyPrint cannot load here")

#: The fonts each script must be set in (fonts-noto-core), never DejaVu.
EXPECTED_FONT = {"en": "Noto Sans", "es": "Noto Sans", "so": "Noto Sans", "ar": "Arabic", "ksw": "Myanmar"}


@needs_weasyprint
@pytest.mark.parametrize("locale", ["en", "es", "so", "ar", "ksw"])
def test_the_pdf_has_a_glyph_for_every_character_in_the_right_font(
    client, app: Flask, locale: str, caplog: pytest.LogCaptureFixture
) -> None:
    case = _plan(client, app, locale)
    response = client.get(f"/safety-plans/case/{case.id}/print.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")

    # Lay the same paper out again and look at what WeasyPrint (Pango, HarfBuzz) drew it with.
    html = client.get(f"/safety-plans/case/{case.id}/print").get_data(as_text=True)
    paper_html = _for_pdf(html)
    caplog.set_level(logging.WARNING, logger="weasyprint")
    document = pdf.document(paper_html)
    document.write_pdf()
    missing = [r.getMessage() for r in caplog.records if "notdef" in r.getMessage()]
    assert missing == [], missing
    fonts = {font.family for font in document.fonts.values()}
    assert not any("DejaVu" in family for family in fonts), fonts
    assert any(EXPECTED_FONT[locale] in family for family in fonts), fonts
    # Every character of the paper's text maps to a glyph of a font used.
    mapped = set()
    for font in document.fonts.values():
        for text in font.to_unicode.values():
            mapped.update(text)
    words = _paper(html)
    visible = re.sub(r"<[^>]+>", " ", words)
    for char in set(OWN_WORDS[locale]) - {" "}:
        assert char in mapped, (char, hex(ord(char)))
    assert visible


def _pdf_text(client, url: str, monkeypatch: pytest.MonkeyPatch) -> str:  # type: ignore[no-untyped-def]
    """Every character the PDF route lays out, without whitespace (a name may break across lines).

    The route's own HTML is caught on its way to WeasyPrint and laid out again, and the text of
    every text box of every page is read: what is drawn on the paper, agency name and all.
    """
    from weasyprint.formatting_structure.boxes import TextBox

    given: list[str] = []
    real = pdf.render
    monkeypatch.setattr(pdf, "render", lambda html: given.append(html) or real(html))
    response = client.get(url)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    (html,) = given
    boxes = (box for page in pdf.document(html).pages for box in page._page_box.descendants())
    return "".join("".join(box.text.split()) for box in boxes if isinstance(box, TextBox))


@needs_weasyprint
def test_no_demo_shelters_name_or_address_is_in_the_pdf(client, app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    case = _plan(
        client, app, "en", packs=("general", "native", "immigrant", "deaf", "lgbtq", "elders", "rural")
    )
    drawn = _pdf_text(client, f"/safety-plans/case/{case.id}/print.pdf?agency=1", monkeypatch)
    # The text is really read: the title, the agency chosen, the victim's words and a national number.
    for shown in ("My plan", "North Women's Advocates", OWN_WORDS["en"], "1-844-762-8483"):
        assert "".join(shown.split()) in drawn, shown
    for spec in DEMO_SHELTERS:
        for value in (spec.name, spec.address, spec.address.split(",")[0], spec.label):
            assert "".join(value.split()) not in drawn, value
    # Unless chosen, the PDF names no agency either.
    plain = _pdf_text(client, f"/safety-plans/case/{case.id}/print.pdf", monkeypatch)
    assert "Myplan" in plain and "NorthWomen" not in plain


@needs_weasyprint
def test_arabic_is_laid_out_right_to_left(client, app: Flask) -> None:
    case = _plan(client, app, "ar")
    html = client.get(f"/safety-plans/case/{case.id}/print").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    document = pdf.document(_for_pdf(html))
    page = document.pages[0]
    html_box = page._page_box.children[0]
    assert html_box.style["direction"] == "rtl"
