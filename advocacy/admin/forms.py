"""Forms of agency administration.  Choices are filled per request from the
admin's own agencies, so a form can never name another agency."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from advocacy.auth.models import Role


def role_choices() -> list[tuple[str, object]]:
    return Role.choices()


class NewUserForm(FlaskForm):
    username = StringField(
        _l("User name"),
        validators=[
            DataRequired(_l("Enter a user name.")),
            Length(min=3, max=64, message=_l("User names are 3 to 64 characters.")),
            Regexp(
                r"^[A-Za-z0-9._-]+\Z",  # \Z: "$" would let a trailing newline through
                message=_l("Use only letters, digits, dots, dashes and underscores."),
            ),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    display_name = StringField(
        _l("Name shown to colleagues"),
        validators=[
            DataRequired(_l("Enter the name colleagues know this person by.")),
            Length(max=120, message=_l("Names are at most 120 characters.")),
        ],
    )
    agency = SelectField(_l("Agency"), coerce=int, validate_choice=True)
    # Advocate by default: the least surprising role for a new colleague.
    role = SelectField(_l("Role"), default="advocate", validators=[DataRequired(_l("Choose a role."))])

    def __init__(self, agencies: list[tuple[int, str]], *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.agency.choices = agencies
        self.role.choices = role_choices()


class RolesForm(FlaskForm):
    roles = SelectMultipleField(
        _l("Roles"), option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False)
    )
    agency = SelectField(_l("Agency"), coerce=int, validate_choice=True)

    def __init__(self, agencies: list[tuple[int, str]], *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.agency.choices = agencies
        self.roles.choices = role_choices()


class ConfirmForm(FlaskForm):
    """A button that changes something: CSRF token only."""
