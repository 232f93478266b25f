"""Setting up the network: shelters, rooms and the agency's network rules.

Admins of the owning agency add and change shelters and rooms and set the
agency's rules.  Every shelter is fetched through :func:`service.own_shelter`,
so another agency's shelter is a 404.  A refusal of the service is shown next
to the field it names, with status 400, and changes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from advocacy.access import current_actor, roles_required
from advocacy.admin.service import admin_agencies
from advocacy.auth.models import Role
from advocacy.errors import NotFound, Refused
from advocacy.shelters import bp, service
from advocacy.shelters.forms import NetworkSettingsForm, RoomForm, ShelterForm
from advocacy.shelters.models import RoomType, Shelter


def _agency_choices() -> list[tuple[int, str]]:
    return [(a.id, a.name) for a in admin_agencies(current_actor())]


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
        "intake_phone": shelter.intake_phone,
        "intake_phone_shared": shelter.intake_phone_shared,
        "agency": shelter.agency_id,
    }


def _detail(shelter_id: int) -> Any:
    return redirect(url_for("shelters.detail", shelter_id=shelter_id))


def _show_next_to_field(form: Any, refused: Refused, default: str) -> None:
    field = form[refused.field] if refused.field and refused.field in form else form[default]
    field.errors = [*field.errors, refused.message]


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*service.MANAGER_ROLES)
def new() -> Any:
    actor = current_actor()
    # An admin of one agency never sees the field; of several, it starts on the acting one.
    form = ShelterForm(_agency_choices(), data={"languages": ["en"], "agency": actor.agency_for(Role.ADMIN)})
    if form.validate_on_submit():
        try:
            shelter = service.add_shelter(actor, form.agency.data, **form.values())
        except Refused as refused:
            _show_next_to_field(form, refused, "public_label")
        else:
            flash(_("The shelter is added. Now add its rooms and beds."), "success")
            return _detail(shelter.id)
    return render_template("shelters/manage/shelter_form.html", form=form, shelter=None), (
        400 if form.errors else 200
    )


@bp.route("/<id:shelter_id>/edit", methods=["GET", "POST"])
@roles_required(*service.MANAGER_ROLES)
def edit(shelter_id: int) -> Any:
    actor = current_actor()
    shelter = service.own_shelter(actor, shelter_id, *service.MANAGER_ROLES)
    # The agency of a shelter does not change: its own is the only choice.
    form = ShelterForm([(shelter.agency_id, "")], data=_shelter_data(shelter))
    if form.validate_on_submit():
        try:
            service.update_shelter(actor, shelter, **form.values())
        except Refused as refused:
            _show_next_to_field(form, refused, "public_label")
        else:
            flash(_("The shelter is saved."), "success")
            return _detail(shelter.id)
    return render_template("shelters/manage/shelter_form.html", form=form, shelter=shelter), (
        400 if form.errors else 200
    )


@bp.route("/<id:shelter_id>/rooms/new", methods=["GET", "POST"])
@roles_required(*service.MANAGER_ROLES)
def room_new(shelter_id: int) -> Any:
    actor = current_actor()
    shelter = service.own_shelter(actor, shelter_id, *service.MANAGER_ROLES)
    form = RoomForm()
    if form.validate_on_submit():
        try:
            room = service.add_room_with_beds(
                actor,
                shelter,
                form.label.data or "",
                room_type=RoomType(form.room_type.data),
                accessible=bool(form.accessible.data),
                pets_allowed=bool(form.pets_allowed.data),
                adult_beds=form.adult_beds.data or 0,
                child_beds=form.child_beds.data or 0,
                cribs=form.cribs.data or 0,
            )
        except Refused as refused:
            _show_next_to_field(form, refused, "label")
        else:
            flash(_("Room %(room)s is added with its beds.", room=room.label), "success")
            return _detail(shelter.id)
    return render_template("shelters/manage/room_form.html", form=form, shelter=shelter), (
        400 if form.errors else 200
    )


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(*service.MANAGER_ROLES)
def settings() -> Any:
    actor = current_actor()
    choices = _agency_choices()
    # The acting agency's rules; an admin of several may name another of theirs (?agency=).
    agency_id = request.args.get("agency", actor.agency_for(Role.ADMIN), type=int)
    if agency_id not in dict(choices):
        raise NotFound()
    current = service.network_settings(agency_id)
    form = NetworkSettingsForm(
        choices,
        data={
            "agency": agency_id,
            "hold_minutes": current.hold_minutes,
            "stale_after_minutes": current.stale_after_minutes,
            "pending_referrals_per_agency": current.pending_referrals_per_agency,
        },
    )
    if form.validate_on_submit():
        try:
            service.update_network_settings(
                actor,
                form.agency.data,
                hold_minutes=form.hold_minutes.data or 0,
                stale_after_minutes=form.stale_after_minutes.data or 0,
                pending_referrals_per_agency=form.pending_referrals_per_agency.data,
            )
        except Refused as refused:
            _show_next_to_field(form, refused, "hold_minutes")
        else:
            flash(_("The network settings are saved. New holds last the new length."), "success")
            return redirect(url_for("shelters.settings", agency=form.agency.data))
    return render_template("shelters/manage/settings.html", form=form, agency_id=agency_id), (
        400 if form.errors else 200
    )
