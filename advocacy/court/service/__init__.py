"""Courts and court events, and the reminders they plan.

Split along its seams: :mod:`.courts` (an agency's courts and reminder
schedule), :mod:`.events` (a case's court dates and their history) and
:mod:`.reminders` (what an event writes to the SMS outbox, in its own
transaction).  Every function that changes agency data takes the acting
:class:`~advocacy.actor.Actor`, flushes and never commits, and raises the
errors of :mod:`advocacy.errors`.
"""

from advocacy.court.service.courts import (
    ADMIN_ROLES,
    DEFAULT,
    MAX_ADDRESS,
    MAX_COURT_NAME,
    MAX_COURTROOM,
    Schedule,
    add_court,
    agency_courts,
    agency_schedule,
    get_court,
    update_court,
    update_schedule,
)
from advocacy.court.service.events import (
    EVENT_ROLES,
    add_event,
    cancel_event,
    case_events,
    change_event,
    event_history,
    get_event,
    record_held,
    start_instant,
)
from advocacy.court.service.reminders import SOURCE, plan_event, planned_for, replan_case, source_of

__all__ = [
    "ADMIN_ROLES",
    "DEFAULT",
    "EVENT_ROLES",
    "MAX_ADDRESS",
    "MAX_COURTROOM",
    "MAX_COURT_NAME",
    "SOURCE",
    "Schedule",
    "add_court",
    "add_event",
    "agency_courts",
    "agency_schedule",
    "cancel_event",
    "case_events",
    "change_event",
    "event_history",
    "get_court",
    "get_event",
    "plan_event",
    "planned_for",
    "record_held",
    "replan_case",
    "source_of",
    "start_instant",
    "update_court",
    "update_schedule",
]
