"""The small things of the forms that a person meets on the first day (issue 12, "Forms and layout").

A number typed with letters says one thing and is shown back as typed; a
screen sent with no answers lists that once and marks each question; the
"Show the questions" button is offered only where the questions are hidden;
the bed step's facts about a shelter do not run together.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from flask import Flask

from advocacy.auth.models import Role
from tests import factories
from tests.helpers import CSRFClient, sign_in, text_of
from tests.test_intake import place, walk  # noqa: F401  (place: the intake tests' fixture)


@pytest.fixture
def case(app: Flask) -> SimpleNamespace:
    north = factories.agency("north")
    advocate = factories.user(north, Role.ADVOCATE)
    return SimpleNamespace(advocate=advocate, id=factories.case(advocate, "Maple").id)


def _errors(html: str, field: str) -> list[str]:
    return re.findall(rf'<span class="usa-error-message" id="{field}-error-\d+"[^>]*>([^<]*)</span>', html)


def test_a_number_typed_with_letters_says_one_thing_and_keeps_what_was_typed(
    client: CSRFClient, case: SimpleNamespace
) -> None:
    sign_in(client, case.advocate)
    response = client.post(f"/cases/{case.id}/edit/household", data={"adults": "two", "pets": "3 dogs"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert _errors(html, "adults") == ["Enter a number from 1 to 12."]
    assert _errors(html, "pets") == ["Enter a number from 0 to 10."]
    # A text box with a numeric keyboard: a browser's number box could not show "two" back.
    adults = re.search(r'<input[^>]*name="adults"[^>]*>', html)
    assert adults and 'value="two"' in adults.group(0) and 'type="text"' in adults.group(0)
    assert 'inputmode="numeric"' in adults.group(0)
    assert 'value="3 dogs"' in html
    assert text_of(response).count("Enter a number from 1 to 12.") == 2  # the summary, and the field


def test_an_empty_number_says_it_is_needed_once(client: CSRFClient, case: SimpleNamespace) -> None:
    sign_in(client, case.advocate)
    html = client.post(f"/cases/{case.id}/edit/household", data={"adults": "", "pets": "0"}).get_data(
        as_text=True
    )
    assert _errors(html, "adults") == ["Enter the number of adults."]


def test_a_screen_with_no_answers_lists_the_problem_once_and_marks_each_question(
    client: CSRFClient, case: SimpleNamespace
) -> None:
    sign_in(client, case.advocate)
    page = client.get(f"/cases/{case.id}/screen").get_data(as_text=True)
    ref = re.search(r'<option selected value="([^"]+)"', page) or re.search(
        r'<option value="([^"]+)" selected', page
    )
    assert ref, "an instrument is chosen by default"
    response = client.post(f"/cases/{case.id}/screen", data={"instrument": ref.group(1), "action": "save"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    summary = html[html.index('id="error-summary"') : html.index("</ul>", html.index('id="error-summary"'))]
    assert summary.count("Choose an answer, or “Did not answer”.") == 1
    questions = re.findall(r'<fieldset class="[^"]*app-question[^"]*"', html)
    assert len(questions) > 3
    assert all("usa-form-group--error" in q for q in questions)
    assert summary.count('<a href="#answer_') == len(questions)  # each question linked from the one line


def test_show_the_questions_is_offered_only_where_they_are_hidden(
    client: CSRFClient, case: SimpleNamespace
) -> None:
    sign_in(client, case.advocate)
    hidden = client.get(f"/cases/{case.id}/screen?instrument=")
    assert "Show the questions" in text_of(hidden) and "app-question" not in hidden.get_data(as_text=True)
    shown = client.get(f"/cases/{case.id}/screen")
    assert "app-question" in shown.get_data(as_text=True) and "Show the questions" not in text_of(shown)


def test_the_bed_steps_facts_about_a_shelter_do_not_run_together(
    client: CSRFClient,
    place: SimpleNamespace,  # noqa: F811
) -> None:
    factories.shelter(
        place.valley,
        "F1+accessible: adult child child",
        label="RV-2",
        name="Aspen Lodge",
        address=None,
        languages=("en", "oj"),
        cultural_program="indigenous",
    )
    sign_in(client, place.advocate)
    draft_id = walk(client)
    text = text_of(client.get(f"/cases/intake/{draft_id}/placement"))
    assert re.search(r"Anishinaabemowin\. Program:", text), text[text.find("RV-2") :][:300]
