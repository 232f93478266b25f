"""Shelter management, occupancy and history: thin views over
:mod:`advocacy.shelters.service`, :mod:`advocacy.shelters.manage_service` and
:mod:`advocacy.shelters.charts`.

Admins of the owning agency add and change shelters and rooms and set the
agency's network rules; its staff and admins read occupancy and history.
Every shelter is fetched through :func:`service.own_shelter_or_404`, so
another agency's shelter is a 404.  A refusal of the service is shown next
to the field it concerns, with status 400, and changes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from advocacy.access import roles_required
from advocacy.admin.service import admin_agencies
from advocacy.audit.service import record
from advocacy.extensions import db
from advocacy.shelters import bp, charts, manage_service, service
from advocacy.shelters.manage_forms import NetworkSettingsForm, RoomForm, ShelterForm
from advocacy.shelters.models import RoomType, Shelter

#: The ranges the occupancy page offers, in days.
OCCUPANCY_DAYS = (7, 30, 90)
DEFAULT_OCCUPANCY_DAYS = 30


def _agency_choices() -> list[tuple[int, str]]:
    return [(a.id, a.name) for a in admin_agencies()]


def _shelter_data(shelter: Shelter) -> dict[str, Any]:
    return {
        "name": shelter.name,
        "address": shelter.address,
        "public_label": shelter.public_label,
        "region": shelter.region,
        "languages": shelter.language_tags,
        "cultural_program": shelter.cultural_program or "",
        "boys_age_limit": shelter.boys_age_limit,
        "max_stay_days": shelter.max_stay_days,
        "agency": shelter.agency_id,
    }


def _detail(shelter_id: int) -> Any:
    return redirect(url_for("shelters.detail", shelter_id=shelter_id))


# --- shelters, rooms and beds -----------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*service.MANAGER_ROLES)
def new() -> Any:
    choices = _agency_choices()
    # One agency: the field is not shown and defaults to it.
    form = ShelterForm(choices, data={"languages": ["en"], "agency": choices[0][0] if choices else None})
    if form.validate_on_submit():
        try:
            shelter = manage_service.create_shelter(form.agency.data, form.values())
        except service.Refused as refused:
            form.public_label.errors = [*form.public_label.errors, refused.message]
        else:
            flash(_("The shelter is added. Now add its rooms and beds."), "success")
            return _detail(shelter.id)
    return render_template("shelters/manage/shelter_form.html", form=form, shelter=None), (
        400 if form.errors else 200
    )


@bp.route("/<int:shelter_id>/edit", methods=["GET", "POST"])
@roles_required(*service.MANAGER_ROLES)
def edit(shelter_id: int) -> Any:
    shelter = service.own_shelter_or_404(shelter_id, *service.MANAGER_ROLES)
    # The agency of a shelter does not change: its own is the only choice.
    choices = [(shelter.agency_id, "")]
    form = ShelterForm(choices, data=_shelter_data(shelter))
    if form.validate_on_submit():
        try:
            service.update_shelter(shelter, **form.values())
        except service.Refused as refused:
            db.session.rollback()
            form.public_label.errors = [*form.public_label.errors, refused.message]
        else:
            flash(_("The shelter is saved."), "success")
            return _detail(shelter.id)
    return render_template("shelters/manage/shelter_form.html", form=form, shelter=shelter), (
        400 if form.errors else 200
    )


@bp.route("/<int:shelter_id>/rooms/new", methods=["GET", "POST"])
@roles_required(*service.MANAGER_ROLES)
def room_new(shelter_id: int) -> Any:
    shelter = service.own_shelter_or_404(shelter_id, *service.MANAGER_ROLES)
    form = RoomForm()
    if form.validate_on_submit():
        try:
            room = manage_service.add_room_with_beds(
                shelter,
                form.label.data or "",
                room_type=RoomType(form.room_type.data),
                accessible=bool(form.accessible.data),
                pets_allowed=bool(form.pets_allowed.data),
                adult_beds=form.adult_beds.data or 0,
                child_beds=form.child_beds.data or 0,
                cribs=form.cribs.data or 0,
                actor_id=current_user.id,
            )
        except manage_service.FieldRefused as refused:
            db.session.rollback()
            field = form[refused.field]
            field.errors = [*field.errors, refused.message]
        else:
            flash(_("Room %(room)s is added with its beds.", room=room.label), "success")
            return _detail(shelter.id)
    return render_template("shelters/manage/room_form.html", form=form, shelter=shelter), (
        400 if form.errors else 200
    )


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(*service.MANAGER_ROLES)
def settings() -> Any:
    choices = _agency_choices()
    if not choices:
        abort(404)
    # An admin of several agencies picks one (?agency=); another agency's id is a 404.
    agency_id = request.args.get("agency", choices[0][0], type=int)
    if agency_id not in dict(choices):
        abort(404)
    current = service.network_settings(agency_id)
    form = NetworkSettingsForm(
        choices,
        data={
            "agency": agency_id,
            "hold_minutes": current.hold_minutes,
            "stale_after_minutes": current.stale_after_minutes,
        },
    )
    if form.validate_on_submit():
        hold, stale = form.hold_minutes.data or 0, form.stale_after_minutes.data or 0
        try:
            service.update_network_settings(form.agency.data, hold_minutes=hold, stale_after_minutes=stale)
        except service.Refused as refused:
            db.session.rollback()
            field = (
                form.hold_minutes if not 15 <= hold <= service.MAX_HOLD_MINUTES else form.stale_after_minutes
            )
            field.errors = [*field.errors, refused.message]
        else:
            flash(_("The network settings are saved. New holds last the new length."), "success")
            return redirect(url_for("shelters.settings", agency=form.agency.data))
    return render_template("shelters/manage/settings.html", form=form, agency_id=agency_id), (
        400 if form.errors else 200
    )


# --- occupancy and history ----------------------------------------------------------------


def _days() -> int:
    days = request.args.get("days", DEFAULT_OCCUPANCY_DAYS, type=int)
    if days not in OCCUPANCY_DAYS:
        abort(400)
    return days


@bp.route("/<int:shelter_id>/occupancy")
@roles_required(*service.STAFF_ROLES)
def occupancy(shelter_id: int) -> str:
    shelter = service.own_shelter_or_404(shelter_id, *service.STAFF_ROLES)
    days = _days()
    points = service.occupancy(shelter, days)
    return render_template(
        "shelters/occupancy.html",
        shelter=shelter,
        days=days,
        choices=OCCUPANCY_DAYS,
        points=points,
        chart=charts.occupancy_chart(points),
    )


@bp.route("/<int:shelter_id>/occupancy.csv")
@roles_required(*service.STAFF_ROLES)
def occupancy_csv(shelter_id: int) -> Response:
    shelter = service.own_shelter_or_404(shelter_id, *service.STAFF_ROLES)
    days = _days()
    body = manage_service.occupancy_csv(service.occupancy(shelter, days))
    # Data leaving the app is recorded; the file name carries no name of the shelter.
    record("shelter.occupancy_export", "shelter", shelter.id, agency_id=shelter.agency_id)
    db.session.commit()
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="occupancy-{shelter.id}-{days}d.csv"'
    return response


@bp.route("/<int:shelter_id>/history")
@roles_required(*service.STAFF_ROLES)
def history(shelter_id: int) -> str:
    shelter = service.own_shelter_or_404(shelter_id, *service.STAFF_ROLES)
    page = manage_service.history(shelter, before=request.args.get("before", type=int))
    return render_template(
        "shelters/manage/history.html",
        shelter=shelter,
        page=page,
        paged="before" in request.args,
        action_label=manage_service.action_label,
    )
