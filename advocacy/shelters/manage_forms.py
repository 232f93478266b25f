"""Forms of shelter management: a shelter's two identities and what it offers,
its rooms and beds, and the agency's network rules.

The limits below repeat the service's own checks so that a person sees every
mistake next to its field at once; the service still refuses on its own
(:class:`advocacy.shelters.service.Refused`) whatever a form lets through.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from advocacy.i18n import registry
from advocacy.shelters.manage_service import MAX_BEDS_PER_ROOM, MAX_ROOM_LABEL
from advocacy.shelters.models import CulturalProgram, RoomType
from advocacy.shelters.service import MAX_HOLD_MINUTES

#: The service accepts a stale-after time from 15 minutes to 7 days.
MAX_STALE_AFTER_MINUTES = 7 * 24 * 60


class ShelterForm(FlaskForm):
    """A new or changed shelter.  ``agency`` is offered only when the admin has
    several agencies; its choices are the admin's own agencies, never another's."""

    name = StringField(
        _l("Name (your agency only)"),
        validators=[
            DataRequired(_l("Enter the shelter's name.")),
            Length(max=120, message=_l("Names are at most 120 characters.")),
        ],
    )
    address = StringField(
        _l("Address (your agency only, optional)"),
        validators=[Optional(), Length(max=200, message=_l("Addresses are at most 200 characters."))],
    )
    public_label = StringField(
        _l("Network label"),
        validators=[
            DataRequired(_l("Enter the label other agencies will see.")),
            Length(max=80, message=_l("Labels are at most 80 characters.")),
        ],
    )
    region = StringField(
        _l("Region"),
        validators=[
            DataRequired(_l("Enter the region other agencies will see.")),
            Length(max=80, message=_l("Regions are at most 80 characters.")),
        ],
    )
    languages = SelectMultipleField(
        _l("Languages the staff speak"),
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    cultural_program = SelectField(_l("Culturally specific program"), choices=[], validate_choice=True)
    boys_age_limit = IntegerField(
        _l("Oldest age of boys who may stay with their family (optional)"),
        validators=[Optional(), NumberRange(min=0, max=17, message=_l("Enter an age from 0 to 17."))],
    )
    max_stay_days = IntegerField(
        _l("Longest stay in days (optional)"),
        validators=[Optional(), NumberRange(min=1, max=730, message=_l("Enter a number from 1 to 730."))],
    )
    agency = SelectField(_l("Agency"), coerce=int, validate_choice=True)

    def __init__(self, agencies: list[tuple[int, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agency.choices = agencies
        self.languages.choices = [(lang.tag, lang.native) for lang in registry().values()]
        self.cultural_program.choices = [("", _l("None"))] + [(p.value, p.label) for p in CulturalProgram]

    def validate_languages(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one language."))

    def values(self) -> dict[str, Any]:
        """The fields as :func:`advocacy.shelters.service.update_shelter` takes them."""
        return {
            "name": (self.name.data or "").strip(),
            "address": (self.address.data or "").strip() or None,
            "public_label": (self.public_label.data or "").strip(),
            "region": (self.region.data or "").strip(),
            "languages": list(self.languages.data or []),
            "cultural_program": self.cultural_program.data or None,
            "boys_age_limit": self.boys_age_limit.data,
            "max_stay_days": self.max_stay_days.data,
        }


def _bed_count(label: Any, default: int) -> IntegerField:
    return IntegerField(
        label,
        default=default,
        validators=[
            InputRequired(_l("Enter a number (0 if none).")),
            NumberRange(min=0, max=MAX_BEDS_PER_ROOM, message=_l("Enter a number from 0 to 26.")),
        ],
    )


class RoomForm(FlaskForm):
    """A room and how many beds of each type it has; the beds are labelled for it."""

    label = StringField(
        _l("Room label"),
        validators=[
            DataRequired(_l("Enter the room's label.")),
            Length(max=MAX_ROOM_LABEL, message=_l("Room labels are at most 36 characters.")),
        ],
    )
    room_type = SelectField(_l("Room type"), choices=[], validate_choice=True)
    accessible = BooleanField(_l("Wheelchair accessible"))
    pets_allowed = BooleanField(_l("Pets allowed"))
    adult_beds = _bed_count(_l("Adult beds"), 1)
    child_beds = _bed_count(_l("Child beds"), 0)
    cribs = _bed_count(_l("Cribs"), 0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.room_type.choices = [(t.value, t.label) for t in RoomType]


class NetworkSettingsForm(FlaskForm):
    hold_minutes = IntegerField(
        _l("How long a hold lasts, in minutes"),
        validators=[
            InputRequired(_l("Enter a number of minutes.")),
            NumberRange(
                min=15,
                max=MAX_HOLD_MINUTES,
                message=_l("A hold lasts from 15 minutes to 24 hours (1,440 minutes)."),
            ),
        ],
    )
    stale_after_minutes = IntegerField(
        _l("Availability is marked out of date after this many minutes without an update"),
        validators=[
            InputRequired(_l("Enter a number of minutes.")),
            NumberRange(
                min=15,
                max=MAX_STALE_AFTER_MINUTES,
                message=_l("Enter from 15 minutes to 7 days (10,080 minutes)."),
            ),
        ],
    )
    agency = SelectField(_l("Agency"), coerce=int, validate_choice=True)

    def __init__(self, agencies: list[tuple[int, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agency.choices = agencies
