"""The fixed vocabulary of the hand-off record: event types and their structured choices.

A partner's tracking system follows a case from arrest to probation and
needs to know what happened, not how the victim told it.  So each event type
says what it carries as *choices* from fixed lists (a protection order's
type, a court notification's outcome) and whether it may carry a short
summary at all.  Every choice is a value from a list or a yes/no, never free
text: only the summary is free text, and only the summary goes through the
location guard (:mod:`advocacy.handoff.guard`).

The risk screen result carries the instrument, the screened-in flag and the
level only, as the preview record of :mod:`advocacy.handoff.service` does
(same event type string, same field names, same schema version), and no
summary: a reason or an answer would say more than the screen's result.  A
court notification outcome has no summary either; nothing about a delivery
needs one.

Values are stored and sent; labels are translated for staff.  Changing or
removing a value is a new schema version, because partners have stored it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flask_babel import lazy_gettext as _l

from advocacy.errors import Refused
from advocacy.vocab import LabelledEnum

__all__ = [
    "SCHEMA_VERSION",
    "SPECS",
    "SUMMARY_FIELD",
    "SUMMARY_MAX_LENGTH",
    "EventSpec",
    "EventType",
    "Field",
    "FieldKind",
    "check_choices",
    "check_summary",
    "choices_schema",
    "spec",
]

#: The schema version this vocabulary belongs to (the one of ``service.SCHEMA_VERSION``).
SCHEMA_VERSION = 1
#: The one free-text field a record may have, and its length (characters).
SUMMARY_FIELD = "summary"
SUMMARY_MAX_LENGTH = 500


class EventType(LabelledEnum):
    VICTIM_CONTACTED = "victim_contacted", _l("Victim contacted")
    VICTIM_UNREACHABLE = "victim_unreachable", _l("Victim unreachable")
    SAFETY_CONCERN_REPORTED = "safety_concern_reported", _l("Safety concern reported")
    PROTECTION_ORDER_FILED = "protection_order_filed", _l("Protection order filed")
    PROTECTION_ORDER_GRANTED = "protection_order_granted", _l("Protection order granted")
    PROTECTION_ORDER_DENIED = "protection_order_denied", _l("Protection order denied")
    NO_CONTACT_VIOLATION_REPORTED = "no_contact_violation_reported", _l("No-contact order violation reported")
    VICTIM_INPUT_BAIL = "victim_input_bail", _l("Victim's input for bail")
    VICTIM_INPUT_SENTENCING = "victim_input_sentencing", _l("Victim's input for sentencing")
    RISK_SCREEN_RESULT = "risk_screen_result", _l("Risk screen result")
    COURT_NOTIFICATION_OUTCOME = "court_notification_outcome", _l("Court notification outcome")


class ContactMethod(LabelledEnum):
    IN_PERSON = "in_person", _l("In person")
    PHONE = "phone", _l("Phone call")
    TEXT_MESSAGE = "text_message", _l("Text message")
    VIDEO = "video", _l("Video call")
    WRITTEN = "written", _l("Letter or e-mail")


class InitiatedBy(LabelledEnum):
    ADVOCATE = "advocate", _l("The advocate")
    VICTIM = "victim", _l("The victim")


class UnreachableReason(LabelledEnum):
    NO_ANSWER = "no_answer", _l("No answer")
    NO_REPLY = "no_reply", _l("Message left, no reply")
    CONTACT_DETAILS_NOT_WORKING = "contact_details_not_working", _l("Contact details no longer work")
    NO_SAFE_WAY_TO_CONTACT = "no_safe_way_to_contact", _l("No safe way to make contact")


class SafetyConcern(LabelledEnum):
    THREATS = "threats", _l("Threats")
    STALKING_OR_MONITORING = "stalking_or_monitoring", _l("Stalking or monitoring")
    WEAPONS = "weapons", _l("Weapons")
    STRANGULATION = "strangulation", _l("Strangulation")
    ESCALATION = "escalation", _l("Escalating violence")
    THREATS_TO_CHILDREN = "threats_to_children", _l("Threats to children")
    SUICIDE_THREATS = "suicide_threats", _l("Threats of suicide")
    CONTACT_THROUGH_OTHERS = "contact_through_others", _l("Contact through other people")
    OTHER = "other", _l("Other")


class ProtectionOrderType(LabelledEnum):
    EX_PARTE = "ex_parte", _l("Ex parte")
    FULL = "full", _l("Full (after a hearing)")
    HARASSMENT = "harassment", _l("Harassment restraining order")


class OrderDenial(LabelledEnum):
    DENIED_AFTER_HEARING = "denied_after_hearing", _l("Denied after a hearing")
    DISMISSED_NOT_SERVED = "dismissed_not_served", _l("Dismissed: respondent not served")
    DISMISSED_PETITIONER_ABSENT = "dismissed_petitioner_absent", _l("Dismissed: petitioner not present")
    WITHDRAWN = "withdrawn", _l("Withdrawn by the petitioner")


class ViolationKind(LabelledEnum):
    IN_PERSON = "in_person", _l("In person")
    PHONE_CALL = "phone_call", _l("Phone call")
    TEXT_OR_MESSAGE = "text_or_message", _l("Text or message")
    SOCIAL_MEDIA = "social_media", _l("Social media")
    THROUGH_A_THIRD_PARTY = "through_a_third_party", _l("Through another person")
    OTHER = "other", _l("Other")


class ReportedTo(LabelledEnum):
    POLICE = "police", _l("Police")
    PROSECUTOR = "prosecutor", _l("Prosecutor")
    PROBATION = "probation", _l("Probation")
    COURT = "court", _l("Court")
    ADVOCATE_ONLY = "advocate_only", _l("Only to the advocate")


class BailPosition(LabelledEnum):
    OPPOSES_RELEASE = "opposes_release", _l("Opposes release")
    RELEASE_WITH_CONDITIONS = "release_with_conditions", _l("Release only with conditions")
    NO_POSITION = "no_position", _l("No position")


class BailRequest(LabelledEnum):
    NO_CONTACT = "no_contact", _l("No contact")
    NO_WEAPONS = "no_weapons", _l("No weapons")
    ELECTRONIC_MONITORING = "electronic_monitoring", _l("Electronic monitoring")
    NO_ALCOHOL_OR_DRUGS = "no_alcohol_or_drugs", _l("No alcohol or drugs")
    STAY_AWAY = "stay_away", _l("Stay away from her home, work or school")
    HIGHER_BAIL = "higher_bail", _l("Higher bail")


class ImpactStatement(LabelledEnum):
    WRITTEN = "written", _l("Written statement")
    SPOKEN = "spoken", _l("Spoken in court")
    NONE = "none", _l("No statement")


class SentencingRequest(LabelledEnum):
    NO_CONTACT = "no_contact", _l("No contact")
    INTERVENTION_PROGRAM = "intervention_program", _l("Batterer intervention program")
    INCARCERATION = "incarceration", _l("Jail or prison time")
    PROBATION = "probation", _l("Probation")
    RESTITUTION = "restitution", _l("Restitution")
    FIREARM_PROHIBITION = "firearm_prohibition", _l("Firearm prohibition")
    NO_POSITION = "no_position", _l("No position")


class NotificationOutcome(LabelledEnum):
    DELIVERED = "delivered", _l("Delivered")
    NOT_DELIVERED = "not_delivered", _l("Not delivered")
    VICTIM_CONFIRMED = "victim_confirmed", _l("Victim confirmed receipt")


class NotificationChannel(LabelledEnum):
    TEXT_MESSAGE = "text_message", _l("Text message")
    PHONE_CALL = "phone_call", _l("Phone call")
    EMAIL = "email", _l("E-mail")
    LETTER = "letter", _l("Letter")
    IN_PERSON = "in_person", _l("In person")


class FieldKind(enum.StrEnum):
    CHOICE = "choice"  # one value of ``options``
    CHOICES = "choices"  # one or more values of ``options``, sent as a list in declaration order
    FLAG = "flag"  # true or false
    COUNT = "count"  # a whole number between ``minimum`` and ``maximum``
    KEY = "key"  # a key from the agency's own configuration (an instrument), never free text


#: An instrument as a record names it ("lethality-screen@1") and one of its levels ("high"),
#: the forms :mod:`advocacy.intake.instruments` gives keys and versions.
INSTRUMENT_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}@[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
LEVEL_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@dataclass(frozen=True)
class Field:
    """One structured choice of a record: its name in the JSON, and what it may hold."""

    name: str
    kind: FieldKind
    label: Any
    options: type[LabelledEnum] | None = None
    required: bool = True
    minimum: int | None = None
    maximum: int | None = None
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class EventSpec:
    """What a record of one event type carries besides the envelope and the event date."""

    event_type: EventType
    fields: tuple[Field, ...]
    has_summary: bool

    @property
    def field_names(self) -> tuple[str, ...]:
        """The record's fields for this event type: its choices, then the summary if it has one."""
        return tuple(f.name for f in self.fields) + ((SUMMARY_FIELD,) if self.has_summary else ())

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


def _choice(name: str, label: Any, options: type[LabelledEnum], *, required: bool = True) -> Field:
    return Field(name, FieldKind.CHOICE, label, options, required)


def _choices(name: str, label: Any, options: type[LabelledEnum], *, required: bool = True) -> Field:
    return Field(name, FieldKind.CHOICES, label, options, required)


def _flag(name: str, label: Any, *, required: bool = True) -> Field:
    return Field(name, FieldKind.FLAG, label, required=required)


_ORDER_TYPE = _choice("order_type", _l("Type of order"), ProtectionOrderType)

SPECS: Mapping[EventType, EventSpec] = MappingProxyType(
    {
        spec.event_type: spec
        for spec in (
            EventSpec(
                EventType.VICTIM_CONTACTED,
                (
                    _choice("method", _l("How"), ContactMethod),
                    _choice("initiated_by", _l("Who reached out"), InitiatedBy, required=False),
                ),
                has_summary=True,
            ),
            EventSpec(
                EventType.VICTIM_UNREACHABLE,
                (
                    Field("attempts", FieldKind.COUNT, _l("Attempts"), minimum=1, maximum=99),
                    _choice("reason", _l("Why"), UnreachableReason),
                ),
                has_summary=True,
            ),
            EventSpec(
                EventType.SAFETY_CONCERN_REPORTED,
                (_choices("concerns", _l("Concerns"), SafetyConcern),),
                has_summary=True,
            ),
            EventSpec(EventType.PROTECTION_ORDER_FILED, (_ORDER_TYPE,), has_summary=True),
            EventSpec(
                EventType.PROTECTION_ORDER_GRANTED,
                (
                    _ORDER_TYPE,
                    _flag("firearm_surrender_ordered", _l("Firearm surrender ordered"), required=False),
                ),
                has_summary=True,
            ),
            EventSpec(
                EventType.PROTECTION_ORDER_DENIED,
                (_ORDER_TYPE, _choice("denial", _l("Outcome"), OrderDenial, required=False)),
                has_summary=True,
            ),
            EventSpec(
                EventType.NO_CONTACT_VIOLATION_REPORTED,
                (
                    _choices("violation", _l("Kind of contact"), ViolationKind),
                    _choices("reported_to", _l("Reported to"), ReportedTo),
                ),
                has_summary=True,
            ),
            EventSpec(
                EventType.VICTIM_INPUT_BAIL,
                (
                    _choice("position", _l("Victim's position on release"), BailPosition),
                    _choices("requests", _l("Conditions the victim asks for"), BailRequest, required=False),
                ),
                has_summary=True,
            ),
            EventSpec(
                EventType.VICTIM_INPUT_SENTENCING,
                (
                    _choice("impact_statement", _l("Impact statement"), ImpactStatement),
                    _choices("requests", _l("What the victim asks for"), SentencingRequest, required=False),
                ),
                has_summary=True,
            ),
            # The same fields as service.risk_result_record: nothing else about a screening leaves.
            EventSpec(
                EventType.RISK_SCREEN_RESULT,
                (
                    _flag("screened_in", _l("Screened in")),
                    Field("instrument", FieldKind.KEY, _l("Instrument"), pattern=INSTRUMENT_KEY),
                    Field("level", FieldKind.KEY, _l("Level"), pattern=LEVEL_KEY),
                ),
                has_summary=False,
            ),
            EventSpec(
                EventType.COURT_NOTIFICATION_OUTCOME,
                (
                    _choice("outcome", _l("Outcome"), NotificationOutcome),
                    _choice("channel", _l("Sent by"), NotificationChannel, required=False),
                ),
                has_summary=False,
            ),
        )
    }
)


def spec(event_type: EventType | str) -> EventSpec:
    """The spec of an event type; ValueError for a string outside the vocabulary."""
    return SPECS[EventType(event_type)]


def _refuse(message: Any, field: str) -> Refused:
    return Refused(message, field=field)


def _check_field(field: Field, value: object) -> object:
    if field.kind is FieldKind.FLAG:
        if not isinstance(value, bool):
            raise _refuse(_l("Choose yes or no."), field.name)
        return value
    if field.kind is FieldKind.COUNT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _refuse(_l("Enter a whole number."), field.name)
        assert field.minimum is not None and field.maximum is not None
        if not field.minimum <= value <= field.maximum:
            raise _refuse(
                _l("Enter a number from %(low)d to %(high)d.", low=field.minimum, high=field.maximum),
                field.name,
            )
        return value
    if field.kind is FieldKind.KEY:
        assert field.pattern is not None
        if not isinstance(value, str) or not field.pattern.fullmatch(value):
            raise _refuse(_l("This is not a known value."), field.name)
        return value
    assert field.options is not None
    allowed = [member.value for member in field.options]
    if field.kind is FieldKind.CHOICE:
        if not isinstance(value, str) or value not in allowed:
            raise _refuse(_l("Choose one of the options."), field.name)
        return value
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise _refuse(_l("Choose one or more of the options."), field.name)
    chosen = set(value)
    if not chosen or not all(isinstance(v, str) and v in allowed for v in chosen):
        raise _refuse(_l("Choose one or more of the options."), field.name)
    return [v for v in allowed if v in chosen]


def check_choices(event_type: EventType | str, values: Mapping[str, object]) -> dict[str, object]:
    """The structured choices of a record, checked and in canonical form; Refused at the first mistake.

    Every required field must be there, no field the event type does not
    have may be, and each value must be one the vocabulary allows.  Multiple
    choices come back as a list in the vocabulary's order (so equal choices
    give equal bytes); a missing optional field is left out, not sent as
    null.  The summary is not a choice: it is checked with
    :func:`check_summary` and the location guard.
    """
    event = spec(event_type)
    names = {f.name for f in event.fields}
    for name in values:
        if name not in names:
            raise _refuse(_l("This event type does not record this."), name)
    checked: dict[str, object] = {}
    for field in event.fields:
        value = values.get(field.name)
        if value is None:
            if field.required:
                raise _refuse(_l("This is required."), field.name)
            continue
        checked[field.name] = _check_field(field, value)
    return checked


def check_summary(event_type: EventType | str, summary: str | None) -> str | None:
    """The summary as it will be sent (stripped; None when empty); Refused if it cannot be.

    Only the length is checked here; the location guard runs on it separately.
    """
    text = (summary or "").strip()
    if not text:
        return None
    if not spec(event_type).has_summary:
        raise _refuse(_l("This event type has no summary."), SUMMARY_FIELD)
    if len(text) > SUMMARY_MAX_LENGTH:
        raise _refuse(
            _l("Keep the summary to %(max)d characters or fewer.", max=SUMMARY_MAX_LENGTH), SUMMARY_FIELD
        )
    return text


def choices_schema(event_type: EventType | str) -> dict[str, Any]:
    """A JSON Schema (2020-12, as OpenAPI 3.1 uses) of an event type's choices and summary."""
    event = spec(event_type)
    properties: dict[str, Any] = {}
    for field in event.fields:
        if field.kind is FieldKind.FLAG:
            properties[field.name] = {"type": "boolean"}
        elif field.kind is FieldKind.COUNT:
            properties[field.name] = {"type": "integer", "minimum": field.minimum, "maximum": field.maximum}
        elif field.kind is FieldKind.KEY:
            assert field.pattern is not None
            properties[field.name] = {"type": "string", "pattern": f"^{field.pattern.pattern}$"}
        else:
            assert field.options is not None
            options = {"type": "string", "enum": [member.value for member in field.options]}
            properties[field.name] = (
                options
                if field.kind is FieldKind.CHOICE
                else {"type": "array", "items": options, "minItems": 1, "uniqueItems": True}
            )
    if event.has_summary:
        properties[SUMMARY_FIELD] = {"type": "string", "minLength": 1, "maxLength": SUMMARY_MAX_LENGTH}
    return {
        "type": "object",
        "properties": properties,
        "required": [f.name for f in event.fields if f.required],
        "additionalProperties": False,
    }
