"""Form fields the app's forms share.

:class:`WholeNumberField` replaces WTForms' ``IntegerField`` everywhere a
person types a count or an age.  Two things go wrong with the original: a
browser's ``type="number"`` box cannot hold letters, so what the person typed
vanishes when the page comes back with its error (Firefox lets letters in,
then the server's page shows an empty box); and text that is not a number
gets two messages ("Not a valid integer value." and the range's).  This field
is a text box with a numeric keyboard on phones (``inputmode="numeric"``)
that shows back exactly what was typed, and says one thing: the range
message of the field when it has one ("Enter a number from 0 to 10."), else
"Enter a whole number".

:class:`SelectField` is WTForms' own with a :class:`Select` widget that writes
each plain option without ``html_params`` (the same markup): the filter forms
of the boards and the case list show selects of up to fifty options on every
render.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import IntegerField
from wtforms import SelectField as _SelectField
from wtforms.validators import NumberRange, StopValidation
from wtforms.widgets import Select as _Select
from wtforms.widgets import TextInput

NOT_A_NUMBER = _l("Enter a whole number, in digits.")


class WholeNumberField(IntegerField):
    widget = TextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        render_kw = {"inputmode": "numeric", "autocomplete": "off", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(*args, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]).strip() if valuelist else ""
        if not text:
            self.data = None  # "required" or "optional" says the rest, once
            return
        try:
            self.data = int(text)
        except ValueError:
            self.data = None
            raise ValueError(NOT_A_NUMBER) from None

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            ranges = [v.message for v in self.validators if isinstance(v, NumberRange) and v.message]
            self.errors = [ranges[0] if ranges else NOT_A_NUMBER]
            raise StopValidation()


class Select(_Select):
    """WTForms' ``Select``; an option without attributes of its own is written directly.

    ``html_params`` sorts and escapes every attribute of every option; for an
    option that has only its value (and ``selected``) the result is
    ``<option [selected ]value="…">label</option>``, written here in one
    f-string.  Options with attributes of their own go through WTForms.
    """

    @classmethod
    def render_option(cls, choice: Any, **kwargs: Any) -> Markup:
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = choice.value
        if isinstance(value, bool):
            value = str(value)
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{escape(value)}">{label}</option>')  # noqa: S704 - escaped


class SelectField(_SelectField):
    """WTForms' ``SelectField`` with :class:`Select` (the same markup, fewer calls)."""

    widget = Select()
