"""Forms of the court pages: the agency's courts and schedule, and a case's court dates.

The start of a court date is two fields, a date and a time, read on the
court's clock; turning them into an instant (and refusing the hour skipped
in spring) is the service's work, so the form only checks their shape.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from advocacy.court.models import CourtEventKind
from advocacy.court.service import MAX_ADDRESS, MAX_COURT_NAME, MAX_COURTROOM

#: The zones offered first: the United States' and its territories', then the rest by name.
COMMON_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "Pacific/Guam",
)


def zone_choices() -> list[tuple[str, str]]:
    from zoneinfo import available_timezones

    rest = sorted(z for z in available_timezones() if "/" in z and z not in COMMON_ZONES)
    return [(z, z.replace("_", " ")) for z in (*COMMON_ZONES, *rest)]


class CourtForm(FlaskForm):
    name = StringField(
        _l("Court name"),
        validators=[
            DataRequired(_l("Enter the court's name.")),
            Length(
                max=MAX_COURT_NAME, message=_l("Keep the name to 40 characters: it goes into text messages.")
            ),
        ],
    )
    time_zone = SelectField(
        _l("Time zone"), validators=[DataRequired(_l("Choose the court's time zone from the list."))]
    )
    address = StringField(
        _l("Address (optional)"),
        validators=[Optional(), Length(max=MAX_ADDRESS, message=_l("Keep the address to 300 characters."))],
    )
    active = BooleanField(_l("Offered for new court dates"), default=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone.choices = zone_choices()


class ScheduleForm(FlaskForm):
    schedule = StringField(
        _l("Reminders for every court date"),
        validators=[DataRequired(_l("Enter at least one reminder time."))],
    )
    denser = StringField(_l("Added for a case screened in as high danger"), validators=[Optional()])


class _WhenAndWhere(FlaskForm):
    """Where and when a court date is: the same fields, checks and messages whether it is
    entered or changed, so the two forms cannot drift apart."""

    court = SelectField(
        _l("Court"), coerce=int, validators=[DataRequired(_l("Choose a court from your agency's list."))]
    )
    courtroom = StringField(
        _l("Courtroom (optional)"),
        validators=[
            Optional(),
            Length(max=MAX_COURTROOM, message=_l("Keep the courtroom to 10 characters (for example “3B”).")),
        ],
    )
    day = DateField(
        _l("Date"), validators=[InputRequired(_l("Enter the date of the court date."))], format="%Y-%m-%d"
    )
    at = TimeField(
        _l("Time, on the court's clock"),
        validators=[InputRequired(_l("Enter the time, as the court gives it."))],
    )

    def __init__(self, courts: list[tuple[int, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.court.choices = [(0, _l("Choose a court")), *courts]


class EventForm(_WhenAndWhere):
    kind = SelectField(
        _l("Kind of court date"),
        choices=[("", _l("Choose one")), *CourtEventKind.choices()],
        validators=[DataRequired(_l("Choose the kind of court date."))],
    )


class ChangeForm(_WhenAndWhere):
    why = RadioField(
        _l("What happened"),
        choices=[
            ("continued", _l("The court continued it to a new date")),
            ("correction", _l("The details were wrong or changed")),
        ],
        default="continued",
        validators=[DataRequired(_l("Say what happened."))],
    )
    notice = BooleanField(_l("Text the victim that the court date changed"), default=False)


class CancelForm(FlaskForm):
    notice = BooleanField(_l("Text the victim that the court date is cancelled"), default=False)


class HeldForm(FlaskForm):
    pass
