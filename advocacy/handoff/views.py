"""The advocate's side: consents and hand-offs on the case page, the preview, the release.

A hand-off is prepared in two requests: the form, then the preview of the
exact bytes with a "Send" button that carries the same values (and the same
record id) back.  Sending prepares the record again on the server, so the
consent and the location guard are checked at the moment of release.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from advocacy import clock
from advocacy.access import current_actor, roles_required
from advocacy.audit.service import record
from advocacy.errors import NotFound, Refused
from advocacy.handoff import bp, service
from advocacy.handoff.models import ConsentMeans, HandoffRecord, RecordState
from advocacy.handoff.serialize import LocationRefused
from advocacy.handoff.vocabulary import SUMMARY_MAX_LENGTH, EventType, FieldKind, spec
from advocacy.intake import service as intake
from advocacy.intake.models import Case


@bp.app_template_global()
def handoff_overview(case: Case) -> dict[str, Any]:
    """What the case page's hand-off section shows: partners, consents, records and their pushes."""
    actor = current_actor()
    consents = service.consents_of(case)
    # Every record names the consent of this case that allowed it (consent_id is
    # required, and kept: consents are revoked, never deleted), so a case without
    # a consent has no record: one statement fewer on most case pages.
    records = service.records_of(case) if consents else []
    return {
        "partners": service.partners_for_cases(actor, case.agency_id),
        "consents": consents,
        "records": records,
        "deliveries": service.deliveries_of(records),
        "event_types": list(EventType),
        "now": clock.now(),
    }


@bp.route("/cases/<id:case_id>/preview")
@roles_required(*intake.CASE_ROLES)
def preview(case_id: int) -> Any:
    actor = current_actor()
    case = intake.get_case(actor, case_id)
    record(actor, "handoff.preview", "case", case.id, agency_id=case.agency_id)
    result = service.risk_result_record(case)
    body = service.preview_bytes(result).decode("utf-8") if result is not None else None
    return render_template("handoff/preview.html", case=case, body=body)


# --- consents ------------------------------------------------------------------------------


def _day(value: str | None, field: str) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError as error:
        raise Refused(_("Enter a date."), field) from error


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


@bp.route("/cases/<id:case_id>/consents/new", methods=["GET", "POST"])
@roles_required(*intake.CASE_ROLES)
def consent_new(case_id: int) -> Any:
    actor = current_actor()
    case = intake.get_case(actor, case_id)
    partners = service.partners_for_cases(actor, case.agency_id)
    error: Refused | None = None
    if request.method == "POST":
        try:
            partner = service.partner_for_case(actor, case, int(request.form.get("partner") or 0))
            given = _day(request.form.get("given_on"), "given_on")
            expires = _day(request.form.get("expires_on"), "expires_on")
            service.record_consent(
                actor,
                case,
                partner,
                request.form.getlist("event_types"),
                given_at=_start_of(given),
                means=request.form.get("means") or "",
                form_reference=request.form.get("form_reference", ""),
                expires_at=_start_of(expires),
            )
        except (Refused, ValueError) as refused:
            error = refused if isinstance(refused, Refused) else Refused(_("Choose one of the options."))
        else:
            flash(_("The release of information is recorded."), "success")
            return redirect(url_for("intake.detail", case_id=case.id, _anchor="handoffs"))
    return (
        render_template(
            "handoff/consent_new.html",
            case=case,
            partners=partners,
            event_types=list(EventType),
            means=list(ConsentMeans),
            error=error,
            form=request.form,
            today=clock.now().date(),
        ),
        400 if error else 200,
    )


@bp.route("/cases/<id:case_id>/consents/<id:consent_id>/revoke", methods=["POST"])
@roles_required(*intake.CASE_ROLES)
def consent_revoke(case_id: int, consent_id: int) -> Any:
    actor = current_actor()
    case = intake.get_case(actor, case_id)
    consent = service.get_consent(actor, consent_id)
    if consent.case_id != case.id:
        raise NotFound()
    withheld = service.revoke_consent(actor, consent)
    flash(
        _(
            "The consent is revoked. Records not yet received by the partner are withheld: %(count)d.",
            count=withheld,
        ),
        "success",
    )
    return redirect(url_for("intake.detail", case_id=case.id, _anchor="handoffs"))


# --- hand-offs -----------------------------------------------------------------------------


def _choices_from(form: MultiDict[str, str], event_type: EventType) -> dict[str, object]:
    """The structured choices as the vocabulary reads them (empty fields left out)."""
    values: dict[str, object] = {}
    for f in spec(event_type).fields:
        name = f"choice_{f.name}"
        if f.kind is FieldKind.CHOICES:
            chosen = form.getlist(name)
            if chosen:
                values[f.name] = chosen
        elif f.kind is FieldKind.FLAG:
            raw = form.get(name)
            if raw in ("yes", "no"):
                values[f.name] = raw == "yes"
        elif f.kind is FieldKind.COUNT:
            raw = (form.get(name) or "").strip()
            if raw:
                values[f.name] = int(raw) if raw.isdigit() else raw
        else:
            raw = form.get(name)
            if raw:
                values[f.name] = raw
    return values


def _corrected(case: Case) -> HandoffRecord | None:
    raw = request.values.get("corrects")
    if not raw or not raw.isdigit():
        return None
    return service.get_record(current_actor(), case, int(raw))


@bp.route("/cases/<id:case_id>/new", methods=["GET", "POST"])
@roles_required(*intake.CASE_ROLES)
def handoff_new(case_id: int) -> Any:
    actor = current_actor()
    case = intake.get_case(actor, case_id)
    form = request.values
    raw_partner = form.get("partner") or ""
    partner = service.partner_for_case(actor, case, int(raw_partner) if raw_partner.isdigit() else 0)
    try:
        event_type = EventType(form.get("event_type") or "")
    except ValueError:
        flash(_("Choose an event type from the list."), "error")
        return redirect(url_for("intake.detail", case_id=case.id, _anchor="handoffs"))
    corrects = _corrected(case)
    context: dict[str, Any] = {
        "case": case,
        "partner": partner,
        "event_type": event_type,
        "spec": spec(event_type),
        "form": form,
        "corrects": corrects,
        "summary_max": SUMMARY_MAX_LENGTH,
        "today": clock.now().date(),
    }
    try:
        service.gate(case, partner, event_type)
    except service.NoConsent as no:
        return render_template("handoff/not_allowed.html", refusal=no, **context), 403
    if request.method == "GET" or form.get("action") == "edit":
        return render_template("handoff/form.html", error=None, hits=None, **context)
    try:
        prepared = service.prepare(
            actor,
            case,
            partner,
            event_type,
            event_date=_day(form.get("event_date"), "event_date"),
            partner_case_reference=form.get("partner_case_reference", ""),
            choices=_choices_from(request.form, event_type),
            summary=form.get("summary"),
            record_id=form.get("record_id") or None,
            corrects=corrects,
        )
    except service.NoConsent as no:
        return render_template("handoff/not_allowed.html", refusal=no, **context), 403
    except LocationRefused as refused:
        return render_template("handoff/form.html", error=refused, hits=refused.hits, **context), 400
    except Refused as refused:
        return render_template("handoff/form.html", error=refused, hits=None, **context), 400
    if form.get("action") != "send":
        record(actor, "handoff.preview", "case", case.id, agency_id=case.agency_id)
        return render_template(
            "handoff/confirm.html", prepared=prepared, body=prepared.body.decode("utf-8"), **context
        )
    released = service.release(actor, case, partner, prepared)
    flash(
        _("The hand-off is released to %(partner)s.", partner=partner.name)
        if released.state is RecordState.RELEASED
        else _("The hand-off was not released."),
        "success",
    )
    return redirect(url_for("intake.detail", case_id=case.id, _anchor="handoffs"))
