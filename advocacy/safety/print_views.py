"""The printed plan: a page to print from the browser (print stylesheet) and the same page as PDF."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request
from markupsafe import Markup

from advocacy.access import current_actor, roles_required
from advocacy.auth.models import Agency
from advocacy.errors import NotFound
from advocacy.extensions import db
from advocacy.safety import bp, pdf, printing, service
from advocacy.safety.guidance import plan_view
from advocacy.safety.language import in_language


def _printed(case_id: int) -> tuple[Any, Any, printing.PrintedPlan, printing.AdvocateNotes, bool]:
    actor = current_actor()
    state = service.plan_state(actor, case_id)
    if state.plan is None or state.latest is None:
        raise NotFound()
    number = request.args.get("version", "")
    version = service.version_of(state.plan, int(number)) if number.isdigit() else state.latest
    with_agency = request.args.get("agency") == "1"
    agency = db.session.get(Agency, state.case.agency_id) if with_agency else None
    view = plan_view(state.case.agency_id, version.pack_keys, version.locale)
    printed = printing.build(version, view, agency_name=agency.name if agency else None)
    return state, version, printed, printing.notes(view), with_agency


@bp.route("/case/<id:case_id>/print")
@roles_required(*service.PLAN_ROLES)
def print_plan(case_id: int) -> Any:
    state, version, printed, notes, with_agency = _printed(case_id)
    # The advocate's toolbar is drawn first, in the advocate's language; the paper after, in the victim's.
    # Our own template, its values escaped when it was rendered.
    toolbar = Markup(  # noqa: S704
        render_template(
            "safety/_print_toolbar.html",
            case=state.case,
            version=version,
            notes=notes,
            printed=printed,
            with_agency=with_agency,
            pdf_available=pdf.available(),
        )
    )
    with in_language(printed.locale):
        return render_template("safety/print.html", printed=printed, toolbar=toolbar, for_pdf=False)


@bp.route("/case/<id:case_id>/print.pdf")
@roles_required(*service.PLAN_ROLES)
def print_pdf(case_id: int) -> Any:
    if not pdf.available():
        raise NotFound()
    _state, version, printed, _notes, _with_agency = _printed(case_id)
    with in_language(printed.locale):
        html = render_template("safety/print.html", printed=printed, toolbar="", for_pdf=True)
    body = pdf.render(html)
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="plan-{version.number}.pdf"'},
    )
