"""The staff board and the network board: thin views over :mod:`advocacy.shelters.service`.

A refused transition (someone else took the bed first, a hold that ended)
is flashed and the person is sent back to the board, which then shows the
state that refused them.  Bad input re-renders the page with the errors next
to their fields (400) and changes nothing.  Both boards answer a poll that
finds nothing changed with 304 (see :func:`_conditional`).
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

import phonenumbers
from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from advocacy import clock
from advocacy.access import current_actor, roles_required
from advocacy.audit.service import record
from advocacy.errors import NotFound, Refused
from advocacy.i18n import current_language
from advocacy.intake import service as intake
from advocacy.security import BACKGROUND_HEADER
from advocacy.shelters import bp, service
from advocacy.shelters.forms import (
    NEW_INTAKE,
    BedActionForm,
    BoardFilterForm,
    DeclineForm,
    HoldCheckInForm,
    NetworkFilterForm,
    ReferralForm,
)
from advocacy.shelters.models import (
    BedState,
    BedType,
    CulturalProgram,
    DeclineReason,
    OutOfServiceReason,
    Referral,
    ReferralStatus,
    RoomType,
)
from advocacy.shelters.rows import (
    bed_rows,
    count_items,
    hold_cards,
    network_rows,
    referral_rows,
    stay_items,
)
from advocacy.templating import UrlPattern, day_formatter, language_name, relative_time
from advocacy.vocab import Labels

#: How often an open board asks whether it changed (seconds).
POLL_SECONDS = 30


def _fragment() -> bool:
    return request.args.get("fragment") == "1"


def _conditional(etag: str) -> Response | None:
    """304 when the browser already has this version of the board."""
    if etag in request.if_none_match:
        response = Response(status=304)
        response.set_etag(etag)
        return response
    return None


def _with_etag(body: str, etag: str) -> Response:
    response = Response(body, mimetype="text/html")
    response.set_etag(etag)
    return response


def _etag_parts() -> tuple[object, ...]:
    """The page and its polls share an ETag, so a page's first poll can already be a 304."""
    filters = sorted((k, v) for k, v in request.args.items(multi=True) if k != "fragment")
    return (current_actor().user_id, current_language().tag, filters)


def _back_to_board(shelter_id: int) -> Any:
    return redirect(url_for("shelters.board", shelter_id=shelter_id))


# --- the list of the agency's shelters -----------------------------------------------------


@bp.route("/")
@roles_required(*service.STAFF_ROLES)
def index() -> str:
    return render_template("shelters/index.html", shelters=service.own_shelters(current_actor()))


@bp.route("/<id:shelter_id>")
@roles_required(*service.STAFF_ROLES)
def detail(shelter_id: int) -> str:
    return render_template("shelters/detail.html", shelter=service.view_shelter(current_actor(), shelter_id))


# --- the staff board ----------------------------------------------------------------------


def _render_board(
    shelter: Any,
    filters_form: BoardFilterForm,
    action_form: BedActionForm | None = None,
    etag: str = "",
    stale_after_minutes: int | None = None,
) -> str:
    # With an ETag, board_etag has just ended the holds past their time.
    board = service.staff_board(
        shelter, filters_form.filters(), holds_ended=bool(etag), stale_after_minutes=stale_after_minutes
    )
    template = "shelters/_board.html" if _fragment() else "shelters/board.html"
    return render_template(
        template,
        board=board,
        urls=_board_urls(shelter.id),
        filters_form=filters_form,
        action_form=action_form or BedActionForm(),
        days=day_formatter(),
        poll_seconds=POLL_SECONDS,
        etag=etag,
    )


def _board_urls(shelter_id: int) -> SimpleNamespace:
    """The URLs of the board's rows (a bed, a hold, a stay, a referral), each endpoint
    asked of the router once per render, not once per row."""
    return SimpleNamespace(
        **{
            endpoint: UrlPattern(f"shelters.{endpoint}", name, shelter_id=shelter_id)
            for endpoint, name in (
                ("bed_check_out", "bed_id"),
                ("stay_check_out", "stay_id"),
                ("hold_check_in", "hold_id"),
                ("hold_extend", "hold_id"),
                ("hold_release", "hold_id"),
                ("referral_accept", "referral_id"),
                ("referral_decline", "referral_id"),
            )
        }
    )


@bp.route("/<id:shelter_id>/board")
@roles_required(*service.STAFF_ROLES)
def board(shelter_id: int) -> Any:
    shelter, stale_after = service.board_shelter(current_actor(), shelter_id)
    etag = service.board_etag(*_etag_parts(), shelter=shelter)
    if (unchanged := _conditional(etag)) is not None:
        return unchanged
    if not request.headers.get(BACKGROUND_HEADER):
        # A person opened the board (a poll is not a new look).
        record(current_actor(), "shelter.board_view", "shelter", shelter.id, agency_id=shelter.agency_id)
    board = _render_board(shelter, BoardFilterForm(request.args), etag=etag, stale_after_minutes=stale_after)
    return _with_etag(board, etag)


@bp.route("/<id:shelter_id>/board.json")
@roles_required(*service.STAFF_ROLES)
def board_json(shelter_id: int) -> Any:
    """The staff board's rows without a template (for tools, and the benchmark's baseline)."""
    shelter = service.own_shelter(current_actor(), shelter_id)
    board = service.staff_board(shelter)
    return jsonify(
        shelter=shelter.id,
        counts=board.counts,
        beds=[
            {
                "id": bed.id,
                "label": bed.label,
                "room": bed.room_label,
                "room_type": bed.room_type,
                "bed_type": bed.bed_type,
                "state": bed.state,
                "accessible": bed.accessible,
                "pets_allowed": bed.pets_allowed,
                "out_of_service_reason": bed.out_of_service_reason,
                "hold_expires_at": board.holds[bed.hold_id].expires_at.isoformat() if bed.hold_id else None,
            }
            for bed in board.beds
        ],
    )


@bp.route("/<id:shelter_id>/beds", methods=["POST"])
@roles_required(*service.STAFF_ROLES)
def bed_action(shelter_id: int) -> Any:
    actor = current_actor()
    shelter = service.own_shelter(actor, shelter_id)
    form = BedActionForm()
    action = request.form.get("action", "")
    # Only the fields of the chosen action are checked.
    needed = {"hold": ("note",), "check_in": ("adults", "children", "note"), "out_of_service": ("reason",)}
    form.validate_on_submit()
    errors = {name: form[name].errors for name in ("bed_ids", "csrf_token", *needed.get(action, ()))}
    if action not in (*needed, "back_in_service"):
        form.bed_ids.errors = [_("Choose what to do with the beds.")]
        errors["bed_ids"] = form.bed_ids.errors
    if any(errors.values()):
        for name in form._fields:
            if name not in errors:
                form[name].errors = []
        return _render_board(shelter, BoardFilterForm(request.args), form), 400
    beds = form.bed_ids.data or []
    try:
        if action == "hold":
            service.place_hold(actor, shelter, beds, note=form.note.data)
            flash(_("The beds are held."), "success")
        elif action == "check_in":
            service.check_in(
                actor,
                shelter,
                beds,
                adults=form.adults.data or 1,
                children=form.children.data or 0,
                note=form.note.data,
            )
            flash(_("The household is checked in."), "success")
        elif action == "out_of_service":
            service.take_out_of_service(actor, shelter, beds, OutOfServiceReason(form.reason.data))
            flash(_("The beds are out of service."), "success")
        else:
            service.return_to_service(actor, shelter, beds)
            flash(_("The beds are back in service."), "success")
    except Refused as refused:
        flash(refused.message, "error")
    return _back_to_board(shelter.id)


def _transition(shelter_id: int, call: Any, done: str) -> Any:
    """Run one change of the board and say how it went (a refusal changed nothing)."""
    actor = current_actor()
    shelter = service.own_shelter(actor, shelter_id)
    try:
        call(actor, shelter)
    except Refused as refused:
        flash(refused.message, "error")
    else:
        flash(done, "success")
    return _back_to_board(shelter.id)


def _check_out(shelter_id: int, *, stay_id: int | None = None, bed_id: int | None = None) -> Any:
    """A check-out cannot be undone: the first POST shows what it would end and asks;
    only the POST from that page (``confirm=yes``) checks the household out."""
    actor = current_actor()
    shelter = service.own_shelter(actor, shelter_id)
    try:
        preview = service.check_out_preview(actor, shelter, stay_id=stay_id, bed_id=bed_id)
    except Refused as refused:
        flash(refused.message, "error")
        return _back_to_board(shelter.id)
    if request.form.get("confirm") != "yes":
        return render_template("shelters/confirm_check_out.html", shelter=shelter, preview=preview)
    try:
        service.check_out(actor, shelter, preview.stay.id)
    except Refused as refused:
        flash(refused.message, "error")
    else:
        flash(
            ngettext(
                "The household is checked out of bed %(beds)s, which is available now. If this was a mistake, check the household in again.",
                "The household is checked out of beds %(beds)s, which are available now. If this was a mistake, check the household in again.",
                len(preview.bed_labels),
                beds=", ".join(preview.bed_labels),
            ),
            "success",
        )
    return _back_to_board(shelter.id)


@bp.route("/<id:shelter_id>/beds/<id:bed_id>/check-out", methods=["POST"])
@roles_required(*service.STAFF_ROLES)
def bed_check_out(shelter_id: int, bed_id: int) -> Any:
    return _check_out(shelter_id, bed_id=bed_id)


@bp.route("/<id:shelter_id>/stays/<id:stay_id>/check-out", methods=["POST"])
@roles_required(*service.STAFF_ROLES)
def stay_check_out(shelter_id: int, stay_id: int) -> Any:
    return _check_out(shelter_id, stay_id=stay_id)


@bp.route("/<id:shelter_id>/holds/<id:hold_id>/extend", methods=["POST"])
@roles_required(*service.STAFF_ROLES)
def hold_extend(shelter_id: int, hold_id: int) -> Any:
    return _transition(
        shelter_id,
        lambda actor, s: service.extend_hold(actor, s, hold_id),
        _("The hold is extended."),
    )


@bp.route("/<id:shelter_id>/holds/<id:hold_id>/release", methods=["POST"])
@roles_required(*service.STAFF_ROLES)
def hold_release(shelter_id: int, hold_id: int) -> Any:
    return _transition(
        shelter_id,
        lambda actor, s: service.release_hold(actor, s, hold_id),
        _("The hold is released. Its beds are available."),
    )


@bp.route("/<id:shelter_id>/holds/<id:hold_id>/check-in", methods=["POST"])
@roles_required(*service.STAFF_ROLES)
def hold_check_in(shelter_id: int, hold_id: int) -> Any:
    shelter = service.own_shelter(current_actor(), shelter_id)
    form = HoldCheckInForm()
    if not form.validate_on_submit():
        for field in form:
            for error in field.errors:
                flash(f"{field.label.text}: {error}", "error")
        return _back_to_board(shelter.id)
    return _transition(
        shelter.id,
        lambda actor, s: service.check_in(
            actor,
            s,
            hold_id=hold_id,
            adults=form.adults.data or 1,
            children=form.children.data or 0,
            note=form.note.data,
        ),
        _("The household is checked in."),
    )


@bp.route("/<id:shelter_id>/referrals/<id:referral_id>/accept", methods=["POST"])
@roles_required(*service.STAFF_ROLES)
def referral_accept(shelter_id: int, referral_id: int) -> Any:
    return _transition(
        shelter_id,
        lambda actor, s: service.accept_referral(actor, s, referral_id),
        _("The referral is accepted. The beds stay held until the household arrives or the hold ends."),
    )


@bp.route("/<id:shelter_id>/referrals/<id:referral_id>/decline", methods=["POST"])
@roles_required(*service.STAFF_ROLES)
def referral_decline(shelter_id: int, referral_id: int) -> Any:
    form = DeclineForm()
    if not form.validate_on_submit():
        service.own_shelter(current_actor(), shelter_id)
        flash(_("Choose a reason for declining."), "error")
        return _back_to_board(shelter_id)
    return _transition(
        shelter_id,
        lambda actor, s: service.decline_referral(actor, s, referral_id, DeclineReason(form.reason.data)),
        _("The referral is declined. Its beds are available again."),
    )


@bp.route("/<id:shelter_id>/confirm", methods=["POST"])
@roles_required(*service.STAFF_ROLES)
def confirm(shelter_id: int) -> Any:
    return _transition(
        shelter_id,
        lambda actor, s: service.confirm_board(actor, s),
        _("Thank you: the network sees this board as up to date."),
    )


# --- the network board --------------------------------------------------------------------


@bp.route("/network")
@roles_required(*service.NETWORK_ROLES)
def network() -> Any:
    etag = service.board_etag(*_etag_parts())
    if (unchanged := _conditional(etag)) is not None:
        return unchanged
    # One read of the shelters gives both the form's regions and the board's rows.
    shelters = service.network_shelters()
    form = NetworkFilterForm(service.network_regions(shelters), request.args)
    rows = service.network_board(form.filters(), holds_ended=True, shelters=shelters)  # board_etag ended them
    template = "shelters/_network.html" if _fragment() else "shelters/network.html"
    body = render_template(
        template,
        rows=rows,
        form=form,
        poll_seconds=POLL_SECONDS,
        etag=etag,
        request_url=UrlPattern("shelters.request_hold", "shelter_id"),
    )
    status = 400 if form.errors else 200
    response = _with_etag(body, etag)
    response.status_code = status
    return response


@bp.route("/network.json")
@roles_required(*service.NETWORK_ROLES)
def network_json() -> Any:
    """The network board's rows without a template: labels and counts only."""
    shelters = service.network_shelters()
    form = NetworkFilterForm(service.network_regions(shelters), request.args)
    return jsonify(
        shelters=[row.to_dict() for row in service.network_board(form.filters(), shelters=shelters)]
    )


@bp.route("/network/<id:shelter_id>/request", methods=["GET", "POST"])
@roles_required(*service.NETWORK_ROLES)
def request_hold(shelter_id: int) -> Any:
    rows = service.network_board(service.NetworkFilters(beds_needed=0, shelter_id=shelter_id))
    if not rows:
        raise NotFound()
    row = rows[0]
    actor = current_actor()
    can_open = actor.has_role(*intake.CASE_ROLES)
    form = ReferralForm().offer_cases(
        intake.open_cases_to_refer(actor) if can_open else [], can_open=can_open
    )
    if form.validate_on_submit():
        try:
            return _refer(actor, shelter_id, form)
        except Refused as refused:
            flash(refused.message, "error")
    return render_template("shelters/request.html", row=row, form=form), 400 if form.errors else 200


def _refer(actor: Any, shelter_id: int, form: ReferralForm) -> Any:
    """Hold the beds, tied to the case chosen (the referring side only), to a new intake, or to none yet."""
    choice = form.case.data or ""
    if choice and choice != NEW_INTAKE:
        case = intake.get_case(actor, int(choice))
        placement = intake.place_referral(actor, case, shelter_id, household=form.household())
        return redirect(url_for("shelters.referrals", new=placement.referral_id))
    referral = service.request_referral(
        actor, shelter_id, form.household(), from_agency_id=actor.agency_for(*service.NETWORK_ROLES)
    )
    if choice == NEW_INTAKE:
        draft = intake.start_draft(actor, referral_id=referral.id)
        flash(
            _(
                "Beds are held at %(label)s (referral %(token)s). Now the intake: the case it opens gets this referral.",
                label=referral.shelter.public_label,
                token=referral.token,
            ),
            "success",
        )
        return redirect(url_for("intake.step", draft_id=draft.id, step=intake.STEPS[0]))
    return redirect(url_for("shelters.referrals", new=referral.id))


@bp.route("/referrals")
@roles_required(*service.NETWORK_ROLES)
def referrals() -> str:
    actor = current_actor()
    new = request.args.get("new", type=int)
    rows = service.agency_referrals(actor)
    # The case of each referral: the referring agency's own knowledge, for those who keep cases.
    show_cases = actor.has_role(*intake.CASE_ROLES)
    cases = intake.referral_cases(actor, [r.id for r in rows]) if show_cases else {}
    return render_template(
        "shelters/referrals.html", referrals=rows, new=new, cases=cases, show_cases=show_cases
    )


@bp.route("/referrals/<id:referral_id>/cancel", methods=["POST"])
@roles_required(*service.NETWORK_ROLES)
def referral_cancel(referral_id: int) -> Any:
    try:
        service.cancel_referral(current_actor(), referral_id)
    except Refused as refused:
        flash(refused.message, "error")
    else:
        flash(_("The request is cancelled and the beds are free for others."), "success")
    return redirect(url_for("shelters.referrals"))


# --- what the templates say about beds, holds and referrals --------------------------------


@bp.app_template_filter("since")
def since(moment: datetime) -> str:
    """ "5 minutes ago", in the page's language (never "0 minutes"); each phrase formatted once."""
    return relative_time(moment, clock.now())


@bp.app_template_filter("dial")
def dial(e164: str) -> str:
    """An intake line as people dial it: "+1 218-555-0142"."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


@bp.app_template_filter("time_left")
def time_left(moment: datetime) -> str:
    """ "in 95 minutes": minutes up to two hours, so a hold's time left is exact enough."""
    return relative_time(moment, clock.now(), threshold=2)


def household_text(referral: Referral) -> str:
    """A referral's household in words: numbers, ages and needs only."""
    parts = [ngettext("%(num)d adult", "%(num)d adults", referral.adults)]
    ages = referral.ages
    if ages:
        parts.append(
            ngettext(
                "%(num)d child, aged %(ages)s",
                "%(num)d children, aged %(ages)s",
                len(ages),
                ages=", ".join(map(str, ages)),
            )
        )
    if referral.oldest_boy_age is not None:
        parts.append(_("oldest boy %(age)d", age=referral.oldest_boy_age))
    if referral.pets:
        parts.append(ngettext("%(num)d pet", "%(num)d pets", referral.pets))
    if referral.needs_accessible:
        parts.append(_("needs an accessible room"))
    if referral.language:
        parts.append(_("speaks %(language)s", language=language_name(referral.language)))
    return "; ".join(parts)


bp.add_app_template_global(network_rows, "network_rows")
bp.add_app_template_global(bed_rows, "bed_rows")
bp.add_app_template_global(count_items, "count_items")
bp.add_app_template_global(referral_rows, "referral_rows")
bp.add_app_template_global(hold_cards, "hold_cards")
bp.add_app_template_global(stay_items, "stay_items")


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    # A new set for every render: each label is translated once per page, not once per row.
    return {
        "state_label": Labels(BedState),
        "bed_type_label": Labels(BedType),
        "room_label": Labels(RoomType),
        "reason_label": Labels(OutOfServiceReason),
        "referral_label": Labels(ReferralStatus),
        "decline_label": Labels(DeclineReason),
        "program_label": Labels(CulturalProgram),
        "household_text": household_text,
    }
