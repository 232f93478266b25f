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


#: The field macro as templates/_forms.html wrote it until issue 11: the reference
#: that advocacy.fields.form_field, which replaced it, must write byte for byte.
FIELD_MACRO = """{% macro field(f, hint=None, classes="usa-input", attrs={}) %}
<div class="usa-form-group{% if f.errors %} usa-form-group--error{% endif %}">
  <label class="usa-label" for="{{ f.id }}">{{ f.label.text }}</label>
  {% if hint %}<div class="usa-hint" id="{{ f.id }}-hint">{{ hint }}</div>{% endif %}
  {% for error in f.errors %}
  <span class="usa-error-message" id="{{ f.id }}-error-{{ loop.index }}" role="alert">{{ error }}</span>
  {% endfor %}
  {% set described = [] %}
  {% if hint %}{% set _ = described.append(f.id ~ '-hint') %}{% endif %}
  {% for error in f.errors %}{% set _ = described.append(f.id ~ '-error-' ~ loop.index) %}{% endfor %}
  {% set extra = dict(attrs) %}
  {% if described %}{% set _ = extra.update({'aria-describedby': described | join(' ')}) %}{% endif %}
  {% if f.errors %}{% set _ = extra.update({'aria-invalid': 'true'}) %}{% endif %}
  {{ f(class_=classes ~ (' usa-input--error' if f.errors else ''), **extra) }}
</div>
{% endmacro %}"""


def test_the_field_helper_writes_what_the_field_macro_wrote(app: Flask) -> None:
    from flask_wtf import FlaskForm
    from wtforms.validators import DataRequired

    from advocacy.fields import SelectField, StringField, WholeNumberField, form_field

    class Sample(FlaskForm):
        name = StringField("Name <or> alias", validators=[DataRequired("Say a name & more.")])
        count = WholeNumberField("How many")
        kind = SelectField("Kind", choices=[("a", "A & B"), ("b", "\u201cB\u201d")])

    macro = app.jinja_env.from_string(FIELD_MACRO + "{{ field(f, hint, classes, attrs) }}")
    cases: list[tuple[str, object, str, dict[str, str]]] = [
        ("name", None, "usa-input", {}),
        ("name", "A hint with <b>markup</b> to escape", "usa-input", {}),
        ("count", "Digits only", "usa-input usa-input--small", {"inputmode": "numeric", "data-x": 'q"uote'}),
        ("kind", None, "usa-select", {}),
    ]
    with app.test_request_context("/", method="POST", data={"count": "two", "kind": "b"}):
        form = Sample(meta={"csrf": False})
        for errors in (False, True):
            if errors:
                form.validate()
                form.kind.errors = ["First.", "Second <one>."]
            for name, hint, classes, attrs in cases:
                f = form[name]
                expected = macro.render(f=f, hint=hint, classes=classes, attrs=attrs)
                assert str(form_field(f, hint, classes, attrs)) == expected, (name, errors)
