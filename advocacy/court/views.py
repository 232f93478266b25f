"""The court pages: an agency admin's courts and reminder schedule, and a case's court dates.

Thin: each view reads its form, calls one service function and shows a
refusal next to the field it names (status 400, nothing changed).  A court
date is reached through its agency (:func:`service.get_event`), so another
agency's is a 404.
"""

from __future__ import annotations

from typing import Any

from babel.dates import format_date, format_time
from flask import flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from advocacy.access import current_actor, roles_required
from advocacy.court import bp, service
from advocacy.court.forms import CancelForm, ChangeForm, CourtForm, EventForm, HeldForm, ScheduleForm
from advocacy.court.models import EVENT, CourtEvent, CourtEventKind, CourtEventStatus
from advocacy.court.zones import local
from advocacy.errors import Refused
from advocacy.intake import service as intake
from advocacy.intake.models import Case
from advocacy.roles import Role
from advocacy.templating import menu_item


def _show_next_to_field(form: Any, refused: Refused, default: str) -> None:
    field = form[refused.field] if refused.field and refused.field in form else form[default]
    field.errors = [*field.errors, refused.message]


def _status(form: Any) -> int:
    return 400 if form.errors else 200


# --- the agency's courts and schedule ----------------------------------------------------------


def _courts_page(court_form: Any = None, schedule_form: Any = None) -> tuple[str, int]:
    agency_id = current_actor().agency_for(Role.ADMIN)
    schedule = service.agency_schedule(agency_id)
    court_form = court_form or CourtForm(formdata=None, data={"time_zone": "America/Chicago", "active": True})
    schedule_form = schedule_form or ScheduleForm(
        formdata=None, data={"schedule": schedule.standard_text, "denser": schedule.denser_text}
    )
    body = render_template(
        "court/courts.html",
        courts=service.agency_courts(agency_id),
        form=court_form,
        schedule_form=schedule_form,
    )
    return body, max(_status(court_form), _status(schedule_form))


@bp.route("/courts")
@roles_required(*service.ADMIN_ROLES)
def courts() -> Any:
    return _courts_page()


@bp.route("/courts", methods=["POST"])
@roles_required(*service.ADMIN_ROLES)
def court_add() -> Any:
    actor = current_actor()
    form = CourtForm()
    if form.validate_on_submit():
        try:
            court = service.add_court(
                actor,
                actor.agency_for(Role.ADMIN),
                form.name.data or "",
                form.time_zone.data or "",
                address=form.address.data,
            )
        except Refused as refused:
            _show_next_to_field(form, refused, "name")
        else:
            flash(_("%(court)s is added to your courts.", court=court.name), "success")
            return redirect(url_for("court.courts"))
    return _courts_page(court_form=form)


@bp.route("/courts/<id:court_id>/edit", methods=["GET", "POST"])
@roles_required(*service.ADMIN_ROLES)
def court_edit(court_id: int) -> Any:
    actor = current_actor()
    court = service.get_court(actor, court_id)
    form = CourtForm(
        data={
            "name": court.name,
            "time_zone": court.time_zone,
            "address": court.address,
            "active": court.active,
        }
    )
    if form.validate_on_submit():
        try:
            service.update_court(
                actor,
                court.id,
                form.name.data or "",
                form.time_zone.data or "",
                address=form.address.data,
                active=bool(form.active.data),
            )
        except Refused as refused:
            _show_next_to_field(form, refused, "name")
        else:
            flash(_("The court is saved."), "success")
            return redirect(url_for("court.courts"))
    return render_template("court/court_edit.html", form=form, court=court), _status(form)


@bp.route("/schedule", methods=["POST"])
@roles_required(*service.ADMIN_ROLES)
def schedule() -> Any:
    actor = current_actor()
    form = ScheduleForm()
    if form.validate_on_submit():
        try:
            service.update_schedule(
                actor, actor.agency_for(Role.ADMIN), form.schedule.data or "", form.denser.data or ""
            )
        except Refused as refused:
            _show_next_to_field(form, refused, "schedule")
        else:
            flash(
                _("The reminder schedule is saved. It applies to court dates added or changed from now on."),
                "success",
            )
            return redirect(url_for("court.courts"))
    return _courts_page(schedule_form=form)


menu_item("court.courts", _l("Courts"), order=86)


# --- a case's court dates ----------------------------------------------------------------------


def _court_choices(case: Case, keep: int | None = None) -> list[tuple[int, str]]:
    """The agency's courts offered for a court date (and the event's own, even if no longer offered)."""
    return [(c.id, c.name) for c in service.agency_courts(case.agency_id) if c.active or c.id == keep]


def _to_case(case_id: int) -> Response:
    return redirect(url_for("intake.detail", case_id=case_id, _anchor="court"))


@bp.route("/cases/<id:case_id>/new", methods=["GET", "POST"])
@roles_required(*service.EVENT_ROLES)
def event_new(case_id: int) -> Any:
    actor = current_actor()
    case = intake.view_case(actor, case_id)
    form = EventForm(_court_choices(case))
    if form.validate_on_submit():
        try:
            service.add_event(
                actor,
                case,
                kind=CourtEventKind(form.kind.data),
                court_id=form.court.data,
                courtroom=form.courtroom.data,
                day=form.day.data,
                at=form.at.data,
            )
        except Refused as refused:
            _show_next_to_field(form, refused, "day")
        else:
            flash(_("The court date is added, and its reminders are planned."), "success")
            return _to_case(case.id)
    return render_template("court/event_new.html", form=form, case=case), _status(form)


def _event_page(event: CourtEvent, status: int = 200, **forms: Any) -> tuple[str, int]:
    actor = current_actor()
    case = intake.view_case(actor, event.case_id)
    when = local(event.starts_at, event.court.time_zone)
    change = forms.get("change") or ChangeForm(
        _court_choices(case, keep=event.court_id),
        formdata=None,
        data={"court": event.court_id, "courtroom": event.courtroom, "day": when.date(), "at": when.time()},
    )
    body = render_template(
        "court/event.html",
        event=event,
        case=case,
        history=service.event_history(event),
        planned=service.planned_for(event, case),
        change_form=change,
        cancel_form=forms.get("cancel") or CancelForm(formdata=None),
        held_form=HeldForm(formdata=None),
    )
    return body, status


@bp.route("/events/<id:event_id>")
@roles_required(*service.EVENT_ROLES)
def event(event_id: int) -> Any:
    return _event_page(service.get_event(current_actor(), event_id))


@bp.route("/events/<id:event_id>/change", methods=["POST"])
@roles_required(*service.EVENT_ROLES)
def event_change(event_id: int) -> Any:
    actor = current_actor()
    event = service.get_event(actor, event_id)
    form = ChangeForm(_court_choices(intake.get_case(actor, event.case_id), keep=event.court_id))
    if form.validate_on_submit():
        try:
            service.change_event(
                actor,
                event.id,
                court_id=form.court.data,
                courtroom=form.courtroom.data,
                day=form.day.data,
                at=form.at.data,
                continued=form.why.data == "continued",
                notice=bool(form.notice.data),
            )
        except Refused as refused:
            _show_next_to_field(form, refused, "day")
        else:
            flash(_("The court date is changed, and its reminders are planned again."), "success")
            return redirect(url_for("court.event", event_id=event.id))
    return _event_page(event, 400, change=form)


@bp.route("/events/<id:event_id>/cancel", methods=["POST"])
@roles_required(*service.EVENT_ROLES)
def event_cancel(event_id: int) -> Any:
    actor = current_actor()
    event = service.get_event(actor, event_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            service.cancel_event(actor, event.id, notice=bool(form.notice.data))
        except Refused as refused:
            form.notice.errors = [refused.message]
        else:
            flash(_("The court date is cancelled, and so are its reminders."), "success")
            return redirect(url_for("court.event", event_id=event.id))
    return _event_page(event, 400, cancel=form)


@bp.route("/events/<id:event_id>/held", methods=["POST"])
@roles_required(*service.EVENT_ROLES)
def event_held(event_id: int) -> Any:
    actor = current_actor()
    event = service.get_event(actor, event_id)
    form = HeldForm()
    if form.validate_on_submit():
        try:
            service.record_held(actor, event.id)
        except Refused as refused:
            flash(refused.message, "error")
            return _event_page(event, 400)
        flash(_("The court date is recorded as held."), "success")
        return redirect(url_for("court.event", event_id=event.id))
    return _event_page(event, 400)


# --- what the case page and the court pages show -----------------------------------------------


def court_time(instant: Any, zone_name: str, style: str = "full") -> str:
    """A time on the court's clock, in the reader's language, with the zone named
    ("Tuesday, December 15, 2026, 9:30 AM CST")."""
    when = local(instant, zone_name)
    locale = get_locale()
    day = format_date(when.date(), "full" if style == "full" else "medium", locale=locale)
    clock_time = format_time(when.time(), "short", locale=locale)
    return f"{day}, {clock_time} {when.tzname()}"


@bp.app_context_processor
def _court_context() -> dict[str, Any]:
    return {
        "court_events": service.case_events,
        "court_time": court_time,
        "court_event_kind_label": lambda value: CourtEventKind(value).label,
        "court_event_status_label": lambda value: CourtEventStatus(value).label,
        "court_action_label": EVENT.label,
    }
