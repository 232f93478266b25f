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

:class:`SelectField`, :class:`StringField` and :class:`BooleanField` are WTForms'
own with widgets that write the same markup at less cost: attributes through
this module's :func:`html_params`, and each plain option of a select in one
f-string (the filter forms of the boards and the case list show selects of up
to fifty options on every render).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import BooleanField as _BooleanField
from wtforms import IntegerField
from wtforms import SelectField as _SelectField
from wtforms import StringField as _StringField
from wtforms.validators import NumberRange, StopValidation
from wtforms.widgets import CheckboxInput as _CheckboxInput
from wtforms.widgets import Select as _Select
from wtforms.widgets import TextInput as _TextInput
from wtforms.widgets.core import clean_key


def html_params(**kwargs: Any) -> Markup:
    """``wtforms.widgets.html_params``, the same attributes in the same order, written
    with f-strings (WTForms formats each attribute through ``Markup.format``, whose
    escaping formatter costs more than the field it writes).

    Sorted by name, ``class_``/``for_`` without the underscore, ``data_``/``aria_``
    with hyphens, ``True`` as a bare attribute, ``False`` left out, every other
    value escaped (``markupsafe.escape`` writes ``"`` as ``&#34;``, so WTForms'
    extra ``&quot;`` replacement never finds one).
    """
    params = []
    for key, value in sorted(kwargs.items()):
        name = escape(clean_key(key))
        if value is True:
            params.append(str(name))
        elif value is not False:
            params.append(f'{name}="{escape(value)}"')
    return Markup(" ".join(params))  # noqa: S704 - names and values escaped


class TextInput(_TextInput):
    """WTForms' ``TextInput`` with :func:`html_params` (the same markup)."""

    html_params = staticmethod(html_params)


class CheckboxInput(_CheckboxInput):
    """WTForms' ``CheckboxInput`` with :func:`html_params` (the same markup)."""

    html_params = staticmethod(html_params)


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

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        if self.multiple or field.has_groups():
            return super().__call__(field, **kwargs)
        # WTForms' own, with html_params of this module.
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        options = "".join(self.render_option(choice) for choice in field._iter_choices_normalized())
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")  # noqa: S704

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


class StringField(_StringField):
    """WTForms' ``StringField`` with :class:`TextInput` (the same markup, fewer calls)."""

    widget = TextInput()


class BooleanField(_BooleanField):
    """WTForms' ``BooleanField`` with :class:`CheckboxInput` (the same markup, fewer calls)."""

    widget = CheckboxInput()


def form_field(f: Any, hint: Any = None, classes: str = "usa-input", attrs: Any = None) -> Markup:
    """An accessible form field: label, hint and errors linked by ``aria-describedby``.

    The ``field`` macro of ``templates/_forms.html`` is this function (every form
    of every page draws its fields through it); it writes the markup the Jinja
    macro wrote, whitespace included, at a fraction of the cost: the macro's
    dozen ``set``/``append``/``update`` steps per field were more than the
    field's own widget.  ``tests/test_form_details.py`` renders both.
    """
    field_id = escape(f.id)
    errors = list(f.errors)
    out = [
        f'<div class="usa-form-group{" usa-form-group--error" if errors else ""}">\n',
        f'  <label class="usa-label" for="{field_id}">{escape(f.label.text)}</label>\n',
    ]
    described = []
    if hint:
        out.append(f'<div class="usa-hint" id="{field_id}-hint">{escape(hint)}</div>')
        described.append(f"{f.id}-hint")
    for n, error in enumerate(errors, start=1):
        out.append(
            f'  <span class="usa-error-message" id="{field_id}-error-{n}" role="alert">{escape(error)}</span>\n'
        )
        described.append(f"{f.id}-error-{n}")
    extra = dict(attrs or {})
    if described:
        extra["aria-describedby"] = " ".join(described)
    if errors:
        extra["aria-invalid"] = "true"
    widget = f(class_=classes + (" usa-input--error" if errors else ""), **extra)
    out.append(f"  {widget}\n</div>\n")
    return Markup("".join(out))  # noqa: S704 - every value above is escaped or the widget's own markup
