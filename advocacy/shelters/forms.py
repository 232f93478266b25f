"""Forms of the shelter pages: the staff board, the network board, and setting up
shelters, rooms and the agency's network rules.

Bed ids are not validated against a list of choices here: the service answers
an id that is not a bed of the shelter with 404, as every other object of
another agency is answered, instead of a form error that would confirm it exists.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from advocacy.fields import BooleanField, SelectField, StringField, WholeNumberField
from advocacy.i18n import registry
from advocacy.shelters.models import (
    BedState,
    BedType,
    CulturalProgram,
    DeclineReason,
    OutOfServiceReason,
    RoomType,
)
from advocacy.shelters.service import (
    MAX_BEDS_PER_REQUEST,
    MAX_BEDS_PER_ROOM,
    MAX_HOLD_MINUTES,
    MAX_ROOM_LABEL,
    MAX_STALE_AFTER_MINUTES,
    BoardFilters,
    Household,
    NetworkFilters,
)


def _choices(enum: Any, *, blank: Any = None) -> list[tuple[str, Any]]:
    items = [(member.value, member.label) for member in enum]
    return ([("", blank)] if blank is not None else []) + items


def language_choices(blank: Any) -> list[tuple[str, Any]]:
    return [("", blank)] + [(lang.tag, lang.native) for lang in registry().values()]


def adults_field(label: Any = None) -> WholeNumberField:
    return WholeNumberField(
        label or _l("Adults"),
        default=1,
        validators=[
            InputRequired(_l("Enter the number of adults.")),
            NumberRange(min=1, max=MAX_BEDS_PER_REQUEST, message=_l("Enter a number from 1 to 12.")),
        ],
    )


MAX_CHILD_AGE = 17
# Commas of every keyboard the app's languages use (Arabic "،", CJK "、"), semicolons, spaces.
_AGE_SEPARATORS = re.compile(r"[\s,;\u060c\u3001]+")


def children_ages(text: str) -> tuple[int, ...]:
    """Children's ages as people type them (``3, 7``, ``3 7``, Arabic digits and comma),
    or :class:`ValidationError` saying what is wrong."""
    parts = [part for part in _AGE_SEPARATORS.split(text.strip()) if part]
    try:
        ages = tuple(int(part) for part in parts)
    except ValueError:
        raise ValidationError(_l("Write each child's age in whole years, separated by commas.")) from None
    if any(not 0 <= age <= MAX_CHILD_AGE for age in ages):
        raise ValidationError(_l("Children's ages are from 0 to 17."))
    if len(ages) > MAX_BEDS_PER_REQUEST:
        raise ValidationError(_l("List at most 12 ages."))
    return ages


def children_field() -> WholeNumberField:
    return WholeNumberField(
        _l("Children"),
        default=0,
        validators=[
            InputRequired(_l("Enter the number of children (0 if none).")),
            NumberRange(min=0, max=MAX_BEDS_PER_REQUEST, message=_l("Enter a number from 0 to 12.")),
        ],
    )


def note_field() -> StringField:
    """Staff's own words about a hold or a stay: kept in their agency, encrypted."""
    return StringField(
        _l("Note for your colleagues (optional)"),
        validators=[Optional(), Length(max=200, message=_l("Keep the note under 200 characters."))],
    )


class GetForm(FlaskForm):
    """Filters travel in the query string: no CSRF token, nothing changes."""

    class Meta:
        csrf = False


class BoardFilterForm(GetForm):
    state = SelectField(_l("State"), choices=[], validate_choice=True, default="")
    bed_type = SelectField(_l("Bed type"), choices=[], validate_choice=True, default="")
    room_type = SelectField(_l("Room type"), choices=[], validate_choice=True, default="")
    accessible = BooleanField(_l("Wheelchair accessible rooms only"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state.choices = _choices(BedState, blank=_l("Any state"))
        self.bed_type.choices = _choices(BedType, blank=_l("Any bed type"))
        self.room_type.choices = _choices(RoomType, blank=_l("Any room type"))

    def filters(self) -> BoardFilters:
        if not self.validate():
            return BoardFilters()
        return BoardFilters(
            state=self.state.data or None,
            bed_type=self.bed_type.data or None,
            room_type=self.room_type.data or None,
            accessible=bool(self.accessible.data),
        )


class BedActionForm(FlaskForm):
    """One form around the bed table: tick beds, then choose what to do with them."""

    bed_ids = SelectMultipleField(_l("Beds"), coerce=int, validate_choice=False)
    note = note_field()
    adults = adults_field()
    children = children_field()
    reason = SelectField(_l("Reason"), choices=[], validate_choice=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = _choices(OutOfServiceReason)

    def validate_bed_ids(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one bed."))


class HoldCheckInForm(FlaskForm):
    adults = adults_field()
    children = children_field()
    note = note_field()


class DeclineForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=[], validate_choice=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = _choices(DeclineReason)


class NetworkFilterForm(GetForm):
    beds_needed = WholeNumberField(
        _l("Beds needed"),
        default=1,
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_BEDS_PER_REQUEST, message=_l("Enter a number from 1 to 12.")),
        ],
    )
    region = SelectField(_l("Region"), choices=[], validate_choice=True, default="")
    language = SelectField(_l("Staff speak"), choices=[], validate_choice=True, default="")
    cultural_program = SelectField(
        _l("Culturally specific program"), choices=[], validate_choice=True, default=""
    )
    boy_age = WholeNumberField(
        _l("Age of the oldest boy (optional)"),
        validators=[Optional(), NumberRange(min=0, max=17, message=_l("Enter an age from 0 to 17."))],
    )
    accessible = BooleanField(_l("Wheelchair accessible"))
    pets = BooleanField(_l("Pets allowed"))
    family_room = BooleanField(_l("Family room"))

    def __init__(self, regions: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region.choices = [("", _l("Any region"))] + [(r, r) for r in regions]
        self.language.choices = language_choices(_l("Any language"))
        self.cultural_program.choices = _choices(CulturalProgram, blank=_l("Any program"))

    def filters(self) -> NetworkFilters:
        if not self.validate():
            return NetworkFilters()
        return NetworkFilters(
            beds_needed=self.beds_needed.data or 1,
            accessible=bool(self.accessible.data),
            pets=bool(self.pets.data),
            language=self.language.data or None,
            region=self.region.data or None,
            family_room=bool(self.family_room.data),
            cultural_program=self.cultural_program.data or None,
            boy_age=self.boy_age.data,
        )


#: The request form's case choice that starts a new intake from the referral.
NEW_INTAKE = "new"


class ReferralForm(FlaskForm):
    """The household as far as it may cross agencies: numbers and ages, never names."""

    adults = adults_field()
    children_ages = StringField(
        _l("Children's ages"),
        validators=[Optional(), Length(max=60, message=_l("List at most 12 ages."))],
    )
    oldest_boy_age = WholeNumberField(
        _l("Age of the oldest boy (optional)"),
        validators=[Optional(), NumberRange(min=0, max=17, message=_l("Enter an age from 0 to 17."))],
    )
    pets = WholeNumberField(
        _l("Pets"),
        default=0,
        validators=[
            InputRequired(_l("Enter the number of pets (0 if none).")),
            NumberRange(min=0, max=5, message=_l("Enter a number from 0 to 5.")),
        ],
    )
    needs_accessible = BooleanField(_l("Needs a wheelchair accessible room"))
    language = SelectField(_l("Language the household speaks"), choices=[], validate_choice=True, default="")
    # The referring agency's own: a case of its own, a new intake, or none yet (never sent to the shelter).
    case = SelectField(_l("Which case is this for?"), choices=[], validate_choice=True, default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices(_l("Not needed"))
        self.case.choices = [("", _l("No case yet"))]

    def offer_cases(self, cases: list[Any], *, can_open: bool) -> ReferralForm:
        """The advocate's open cases (``id``, ``number``, ``alias``) and, for someone who
        may open cases, a new intake started from this request."""
        if can_open:
            self.case.choices = [
                *self.case.choices,
                (NEW_INTAKE, _l("Start a new intake for this household")),
                *((str(c.id), f"{c.number} · {c.alias}") for c in cases),
            ]
        return self

    def validate_children_ages(self, field: Any) -> None:
        self.ages = children_ages(field.data or "")

    def household(self) -> Household:
        return Household(
            adults=self.adults.data or 1,
            children_ages=getattr(self, "ages", ()),
            oldest_boy_age=self.oldest_boy_age.data,
            pets=self.pets.data or 0,
            needs_accessible=bool(self.needs_accessible.data),
            language=self.language.data or None,
        )


# --- setting up shelters, rooms and the network rules ---------------------------------------


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
    boys_age_limit = WholeNumberField(
        _l("Oldest age of boys who may stay with their family (optional)"),
        validators=[Optional(), NumberRange(min=0, max=17, message=_l("Enter an age from 0 to 17."))],
    )
    max_stay_days = WholeNumberField(
        _l("Longest stay in days (optional)"),
        validators=[Optional(), NumberRange(min=1, max=730, message=_l("Enter a number from 1 to 730."))],
    )
    intake_phone = StringField(
        _l("Intake line (optional)"),
        validators=[Optional(), Length(max=40, message=_l("This is too long to be a phone number."))],
    )
    intake_phone_shared = BooleanField(_l("Show the intake line to advocates of the network"))
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
            "intake_phone": (self.intake_phone.data or "").strip() or None,
            "intake_phone_shared": bool(self.intake_phone_shared.data),
        }


def _bed_count(label: Any, default: int) -> WholeNumberField:
    return WholeNumberField(
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
    hold_minutes = WholeNumberField(
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
    stale_after_minutes = WholeNumberField(
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
    pending_referrals_per_agency = WholeNumberField(
        _l("Requests another agency may have waiting at one of your shelters"),
        validators=[
            Optional(),  # left out: the limit stays as it is
            NumberRange(min=1, max=10, message=_l("Allow from 1 to 10 waiting requests.")),
        ],
    )
    intake_phone = StringField(
        _l("Intake line (optional)"),
        validators=[Optional(), Length(max=40, message=_l("This is too long to be a phone number."))],
    )
    intake_phone_shared = BooleanField(_l("Show the intake line to advocates of the network"))
    agency = SelectField(_l("Agency"), coerce=int, validate_choice=True)

    def __init__(self, agencies: list[tuple[int, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agency.choices = agencies
