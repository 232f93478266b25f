"""The intake's step forms, also used to edit a case one section at a time.

Each form's field names are the :class:`~advocacy.intake.models.Case` column
names, so a validated form's ``values()`` can be stored in a draft and later
passed to :func:`~advocacy.intake.service.open_case` or ``update_case``
unchanged.  ``valid_values()`` returns only the fields that passed: a step
with one bad field still saves the rest.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import (
    Field,
    RadioField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from advocacy.fields import BooleanField, SelectField, StringField, WholeNumberField
from advocacy.i18n import current_language
from advocacy.intake import instrument_format
from advocacy.intake import instruments as inst
from advocacy.intake.languages import OTHER, known_tags, language_choices
from advocacy.intake.models import (
    AccessNeed,
    CaseStatus,
    CloseReason,
    Danger,
    PlacementKind,
    ProtocolOutcome,
    ReferralSource,
)
from advocacy.intake.service.cases import CaseQuery, parse_case_number
from advocacy.shelters.forms import MAX_CHILD_AGE, GetForm, adults_field, children_ages
from advocacy.shelters.models import CulturalProgram

_BCP47 = re.compile(
    r"^(?P<lang>[A-Za-z]{2,3})(?:-(?P<script>[A-Za-z]{4}))?(?:-(?P<region>[A-Za-z]{2}|\d{3}))?"
    r"(?P<rest>(?:-(?:[A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*)$"
)
_PHONE = re.compile(r"^\+?[\d\s().-]{7,25}$")


def canonical_language_tag(value: str) -> str | None:
    """A BCP 47 tag in its usual casing (``zh-Hant-TW``), or None if it is not one."""
    match = _BCP47.fullmatch(value.strip().replace("_", "-"))
    if not match:
        return None
    parts = [match["lang"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    tag = "-".join(parts) + match["rest"].lower()
    return tag if len(tag) <= 16 else None


def normalize_phone(value: str) -> str | None:
    """``(218) 555-0101`` → ``+12185550101``.  Ten digits are a US number; others need their ``+``."""
    raw = value.strip()
    if not _PHONE.fullmatch(raw):
        return None
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+"):
        return f"+{digits}" if 8 <= len(digits) <= 15 else None
    if len(digits) == 10:
        return f"+1{digits}"
    if len(digits) == 11 and digits.startswith("1"):
        return f"+{digits}"
    return None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class StepForm(FlaskForm):
    """A form whose fields are case columns, plus ``values()`` to store them."""

    #: Fields that are not case columns (a CSRF token, say).
    skip: tuple[str, ...] = ("csrf_token",)

    def value_of(self, field: Field) -> Any:
        return field.data

    def values(self) -> dict[str, Any]:
        return {f.name: self.value_of(f) for f in self if f.name not in self.skip}

    def valid_values(self) -> dict[str, Any]:
        """The fields that have no error, after ``validate()`` ran."""
        return {f.name: self.value_of(f) for f in self if f.name not in self.skip and not f.errors}


class PersonForm(StepForm):
    alias = StringField(
        _l("Name or alias"),
        validators=[
            InputRequired(_l("Enter a name or an alias the person chose.")),
            Length(max=120, message=_l("Keep the name under 120 characters.")),
        ],
    )
    language = SelectField(
        _l("Preferred language"),
        choices=[],
        default="en",
        validate_choice=False,
        validators=[InputRequired(_l("Choose the person's preferred language."))],
    )
    language_other = StringField(
        _l("Other language (BCP 47 tag)"),
        validators=[Optional(), Length(max=16, message=_l("A language tag has at most 16 characters."))],
    )
    interpreter_needed = BooleanField(_l("Needs an interpreter"))
    referral_source = SelectField(_l("Who referred them"), choices=[], validate_choice=True, default="")

    skip = ("csrf_token", "language_other")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.referral_source.choices = [("", _l("Choose one")), *ReferralSource.choices()]
        self.language.choices = [*language_choices(), (OTHER, _l("Other: type its BCP 47 tag"))]
        # A stored tag outside the list (zh-Hant-TW) shows as "Other" with the tag.
        current = self.language.data or ""
        stored = not self.language.raw_data  # from the case or draft, not from a form sent
        if stored and current and current != OTHER and current not in known_tags():
            self.language_other.data = self.language_other.data or current
            self.language.data = OTHER

    def validate_language(self, field: Field) -> None:
        if field.data == OTHER:
            return
        if field.data not in known_tags():
            raise ValidationError(_l("Choose a language from the list, or Other."))

    def validate_language_other(self, field: Field) -> None:
        if self.language.data != OTHER:
            return
        tag = canonical_language_tag(field.data or "")
        if tag is None:
            raise ValidationError(_l("Enter a language tag such as zh-Hant, prs or sgn-US (BCP 47)."))
        field.data = tag

    def value_of(self, field: Field) -> Any:
        if field.name == "language" and field.data == OTHER:
            return self.language_other.data
        return field.data

    def valid_values(self) -> dict[str, Any]:
        values = super().valid_values()
        if self.language_other.errors:
            values.pop("language", None)  # "Other" with a bad tag keeps the last good language
        return values

    def validate_referral_source(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose who referred them."))


class ContactForm(StepForm):
    phone = StringField(
        _l("Phone number that is safe to use"),
        # Not Optional(): an empty number is checked against the ways of contact below.
        validators=[Length(max=25, message=_l("A phone number has at most 25 characters."))],
    )
    safe_to_text = BooleanField(_l("Safe to send text messages"))
    safe_to_call = BooleanField(_l("Safe to call"))
    safe_voicemail = BooleanField(_l("Safe to leave a voicemail"))
    code_word = StringField(
        _l("Code word"),
        validators=[Optional(), Length(max=60, message=_l("Keep the code word under 60 characters."))],
    )
    contact_note = TextAreaField(
        _l("When and how to reach them safely"),
        validators=[Optional(), Length(max=500, message=_l("Keep this under 500 characters."))],
    )

    def validate_phone(self, field: Field) -> None:
        if not field.data:
            field.data = None
            if self.safe_to_text.data or self.safe_to_call.data or self.safe_voicemail.data:
                raise ValidationError(_l("Enter the number, or untick the ways of contact that use it."))
            return
        phone = normalize_phone(field.data)
        if phone is None:
            raise ValidationError(
                _l("Enter a phone number with its area code, such as 218 555 0101, or +252 …")
            )
        field.data = phone

    def value_of(self, field: Field) -> Any:
        if field.name in ("code_word", "contact_note"):
            return (field.data or "").strip() or None
        return field.data


class HouseholdForm(StepForm):
    adults = adults_field(_l("Adults, including the person"))
    children_ages = StringField(
        _l("Children's ages"), validators=[Optional(), Length(max=60, message=_l("List at most 12 ages."))]
    )
    oldest_boy_age = WholeNumberField(
        _l("Age of the oldest boy, if any"),
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_CHILD_AGE, message=_l("Enter an age from 0 to 17.")),
        ],
    )
    pets = WholeNumberField(
        _l("Pets coming along"),
        default=0,
        validators=[
            InputRequired(_l("Enter the number of pets (0 if none).")),
            NumberRange(min=0, max=10, message=_l("Enter a number from 0 to 10.")),
        ],
    )
    pets_note = StringField(
        _l("About the pets"),
        validators=[Optional(), Length(max=200, message=_l("Keep this under 200 characters."))],
    )

    def validate_children_ages(self, field: Field) -> None:
        field.data = " ".join(str(age) for age in children_ages(field.data or "")) or None

    def validate_oldest_boy_age(self, field: Field) -> None:
        if field.data is None or self.children_ages.errors:
            return
        if field.data not in children_ages(self.children_ages.data or ""):
            raise ValidationError(_l("This age is not among the children's ages."))

    def value_of(self, field: Field) -> Any:
        if field.name == "pets_note":
            return (field.data or "").strip() or None
        return field.data


class NeedsForm(StepForm):
    access_needs = MultiCheckboxField(_l("Accessibility needs"), choices=[], validate_choice=True, default=[])
    access_note = TextAreaField(
        _l("More about accessibility"),
        validators=[Optional(), Length(max=500, message=_l("Keep this under 500 characters."))],
    )
    cultural_program = SelectField(
        _l("Culturally specific program wanted"), choices=[], validate_choice=True, default=""
    )
    cultural_note = TextAreaField(
        _l("Cultural, religious or dietary needs"),
        validators=[Optional(), Length(max=500, message=_l("Keep this under 500 characters."))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.access_needs.choices = AccessNeed.choices()
        self.cultural_program.choices = [("", _l("None in particular")), *CulturalProgram.choices()]

    def value_of(self, field: Field) -> Any:
        if field.name == "access_needs":
            return " ".join(v for v in (a.value for a in AccessNeed) if v in (field.data or []))
        if field.name == "cultural_program":
            return field.data or None
        if field.name in ("access_note", "cultural_note"):
            return (field.data or "").strip() or None
        return field.data


class ConsentForm(StepForm):
    consent_sms = BooleanField(_l("They want text-message reminders (court dates, appointments)"))
    consent_share = BooleanField(
        _l("They would like to hear about sharing information with the coordinated community response")
    )


class ScreenForm(FlaskForm):
    """A risk screen; :func:`screen_form` adds one radio group per question of an instrument.

    ``instrument`` empty means "not now": the case opens unscreened and says so.
    """

    instrument = SelectField(_l("Screening instrument"), choices=[], validate_choice=True, default="")
    judgment = BooleanField(_l("In my judgment this person is in high danger, whatever the answers say"))
    judgment_reason = TextAreaField(
        _l("Why (required with your judgment)"),
        validators=[Length(max=1000, message=_l("Keep this under 1000 characters."))],
    )
    instruments: list[inst.Instrument]
    chosen: inst.Instrument | None

    @property
    def question_fields(self) -> list[tuple[inst.Question, RadioField]]:
        if self.chosen is None:
            return []
        return [(q, self[f"answer_{q.key}"]) for q in self.chosen.questions]

    def validate_judgment_reason(self, field: Field) -> None:
        if self.judgment.data and not (field.data or "").strip():
            raise ValidationError(_l("Say why, so that colleagues understand the decision."))

    def answers(self) -> dict[str, str]:
        return {q.key: f.data for q, f in self.question_fields if f.data in q.answers}

    def stored(self) -> dict[str, Any]:
        """What the draft keeps: the valid answers and the judgment."""
        return {
            "instrument": self.instrument.data or "",
            "answers": {
                q.key: f.data for q, f in self.question_fields if not f.errors and f.data in q.answers
            },
            "judgment": bool(self.judgment.data),
            "judgment_reason": ""
            if self.judgment_reason.errors
            else (self.judgment_reason.data or "").strip(),
        }


def screen_form(
    instruments: list[inst.Instrument], chosen: inst.Instrument | None, **kwargs: Any
) -> ScreenForm:
    """A :class:`ScreenForm` with a required answer per question of ``chosen``."""
    attrs: dict[str, Any] = {}
    if chosen is not None:
        for q in chosen.questions:
            attrs[f"answer_{q.key}"] = RadioField(
                _l("Question %(number)s", number=q.number),
                choices=[(a, a) for a in q.answers],
                validators=[InputRequired(_l("Choose an answer, or “Did not answer”."))],
            )
    form = type("InstrumentScreenForm", (ScreenForm,), attrs)(**kwargs)
    form.instruments = instruments
    form.chosen = chosen
    language = current_language().tag
    form.instrument.choices = [("", _l("Not now: screen later"))] + [
        (i.ref, inst.pick(i.title, language)[0]) for i in instruments
    ]
    return form


#: The placement step's value when the intake was started from a referral (its beds are held).
HELD = "held"


class PlacementForm(FlaskForm):
    """One choice: a shelter of the network that fits the household, no bed, or later.

    The shelters are those offered when the page was drawn (:meth:`offer`); one
    that no longer fits when the form comes back is an error on the field, not
    a request that would fail.
    """

    bed = RadioField(
        _l("Where can they stay?"),
        choices=[],
        validate_choice=False,
        validators=[InputRequired(_l("Choose a shelter, “No bed needed” or “Find a bed later”."))],
    )
    priority = BooleanField(_l("Ask for priority (the shelter sees “priority”, never why)"))
    shelters: list[Any]
    #: The referral already made on the network board for this intake: its beds are the choice.
    held: Any = None

    def offer(self, shelters: list[Any], held: Any = None) -> PlacementForm:
        self.held = held
        if held is not None:
            self.shelters = []
            self.bed.choices = [(HELD, held.token)]
            if self.bed.data is None:
                self.bed.data = HELD
            return self
        self.shelters = shelters
        self.bed.choices = [(f"shelter-{row.shelter_id}", row.public_label) for row in shelters] + [
            (PlacementKind.NO_BED_NEEDED.value, _l("No bed needed")),
            (PlacementKind.LATER.value, _l("Find a bed later")),
        ]
        return self

    def validate_bed(self, field: Field) -> None:
        if self.held is not None:
            if field.data != HELD:
                raise ValidationError(_l("Beds are held for this intake already: keep them."))
            return
        if field.data in (PlacementKind.NO_BED_NEEDED.value, PlacementKind.LATER.value):
            return
        if field.data not in {value for value, _label in self.bed.choices}:
            raise ValidationError(
                _l("This shelter has no open beds for this household any more. Choose another.")
            )

    @property
    def kind(self) -> PlacementKind:
        return (
            PlacementKind.REFERRAL
            if str(self.bed.data).startswith("shelter-") or self.bed.data == HELD
            else PlacementKind(self.bed.data)
        )

    @property
    def shelter_id(self) -> int | None:
        if self.kind is not PlacementKind.REFERRAL or self.bed.data == HELD:
            return None
        return int(str(self.bed.data).removeprefix("shelter-"))


class CloseForm(FlaskForm):
    reason = SelectField(_l("Why is the case closing?"), choices=[], validate_choice=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = CloseReason.choices()


class LowerForm(FlaskForm):
    """An advocate confirms a lower re-screen: the reason is required and kept."""

    reason = TextAreaField(
        _l("Why is the danger lower now?"),
        validators=[
            InputRequired(_l("Say why the danger is lower now.")),
            Length(max=500, message=_l("Keep this under 500 characters.")),
        ],
    )


class ReassignForm(FlaskForm):
    owner_id = SelectField(_l("Advocate"), choices=[], coerce=int, validate_choice=True)


class ProtocolForm(FlaskForm):
    outcome = RadioField(
        _l("How did it go?"), choices=[], validators=[InputRequired(_l("Choose what happened."))]
    )
    note = StringField(
        _l("Note (optional)"),
        validators=[Optional(), Length(max=300, message=_l("Keep this under 300 characters."))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcome.choices = ProtocolOutcome.choices()


#: The form of each intake step that edits case columns, by step name.
SECTION_FORMS: dict[str, type[StepForm]] = {
    "person": PersonForm,
    "contact": ContactForm,
    "household": HouseholdForm,
    "needs": NeedsForm,
    "consent": ConsentForm,
}


# --- the case list --------------------------------------------------------------------------------


class CaseSearchForm(GetForm):
    """The list's filters.  They travel in the query string: nothing changes."""

    name = StringField(
        _l("Name or alias"),
        validators=[Optional(), Length(max=120, message=_l("Keep the name under 120 characters."))],
    )
    phone = StringField(
        _l("Phone number"),
        validators=[Optional(), Length(max=25, message=_l("A phone number has at most 25 characters."))],
    )
    number = StringField(
        _l("Case number"),
        validators=[
            Optional(),
            Length(max=30, message=_l("Enter a case number such as 2026-000123 or 123.")),
        ],
    )
    status = SelectField(_l("Status"), choices=[], validate_choice=False, default="")
    danger = SelectField(_l("Danger"), choices=[], validate_choice=False, default="")
    owner = SelectField(_l("Advocate"), choices=[], validate_choice=False, default="")
    page = StringField(_l("Page"), default="")

    def __init__(self, owners: list[Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [
            ("", _l("Any status")),
            (CaseStatus.OPEN.value, CaseStatus.OPEN.label),
            (CaseStatus.CLOSED.value, CaseStatus.CLOSED.label),
        ]
        self.danger.choices = [("", _l("Any")), *((d.value, d.label) for d in Danger)]
        self.owner.choices = [
            ("", _l("Anyone")),
            ("me", _l("Me")),
            *((str(user.id), user.display_name) for user in owners),
        ]

    # The choices are checked here, with a message in plain words, rather than
    # by WTForms, whose own message would name no field.
    def _check_choice(self, field: Any) -> None:
        if (field.data or "") not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose one of the options in the list."))

    def validate_status(self, field: Any) -> None:
        self._check_choice(field)

    def validate_danger(self, field: Any) -> None:
        self._check_choice(field)

    def validate_owner(self, field: Any) -> None:
        self._check_choice(field)

    def validate_phone(self, field: Any) -> None:
        if field.data and normalize_phone(field.data) is None:
            raise ValidationError(
                _l("Enter a phone number with its area code, such as 218 555 0101, or +252 …")
            )

    def validate_number(self, field: Any) -> None:
        if field.data and parse_case_number(field.data) is None:
            raise ValidationError(_l("Enter a case number such as 2026-000123 or 123."))

    def validate_page(self, field: Any) -> None:
        text = (field.data or "").strip()
        if text and not (text.isascii() and text.isdigit() and 1 <= int(text) <= 10**9):
            raise ValidationError(_l("Enter a page number, such as 2."))

    def query(self) -> CaseQuery:
        page = (self.page.data or "").strip()
        return CaseQuery(
            name=(self.name.data or "").strip(),
            phone=normalize_phone(self.phone.data) or "" if self.phone.data else "",
            number=(self.number.data or "").strip(),
            status=self.status.data or "",
            danger=self.danger.data or "",
            owner=self.owner.data or "",
            page=int(page) if page else 1,
        )

    def filters(self) -> dict[str, str]:
        """The valid filters in use, for links that keep them (another page of results)."""
        names = ("number", "status", "danger", "owner")  # never the name or phone: see index()
        return {
            name: str(self[name].data).strip() for name in names if self[name].data and not self[name].errors
        }


# --- risk instruments -----------------------------------------------------------------------------


class InstrumentUploadForm(FlaskForm):
    file = FileField(
        _l("Instrument file (.json)"),
        validators=[
            FileRequired(_l("Choose the instrument file to add.")),
            # The same words as the parser's own check, which stays the real limit.
            FileSize(
                instrument_format.MAX_FILE_BYTES,
                message=_l("The file is larger than %(kb)d KB.", kb=instrument_format.MAX_FILE_BYTES // 1024),
            ),
        ],
        render_kw={"accept": ".json,application/json"},
    )
