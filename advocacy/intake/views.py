"""The case list with its search, the case page, and the changes made from it.

Views stay thin: every read and change goes through
:mod:`advocacy.intake.service`, which scopes it to the user's agency (another
agency's case is a 404 on every route) and writes the audit event.  A page
that shows a case records a view; a change records itself.  Bad input
re-renders the page with status 400 and the error next to its field, and
changes nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from advocacy.access import current_actor, roles_required
from advocacy.errors import NotFound, Refused
from advocacy.i18n import current_language
from advocacy.intake import bp, service
from advocacy.intake import instruments as inst
from advocacy.intake.forms import (
    SECTION_FORMS,
    CaseSearchForm,
    CloseForm,
    LowerForm,
    ProtocolForm,
    ReassignForm,
    screen_form,
)
from advocacy.intake.models import (
    DRAFT_DAYS,
    AccessNeed,
    Case,
    CaseStatus,
    CloseReason,
    Danger,
    PlacementKind,
    ProtocolOutcome,
    ProtocolStepKey,
    ReferralSource,
)
from advocacy.intake.rows import case_rows
from advocacy.intake.wizard import STEP_TITLES
from advocacy.templating import UrlPattern
from advocacy.vocab import Labels

#: The sections of the case page that can be changed (the intake's steps, after it).
SECTION_TITLES: dict[str, Any] = {section: STEP_TITLES[section] for section in SECTION_FORMS}

TRENDS: dict[str | None, Any] = {
    "higher": _l("Higher than before"),
    "lower": _l("Lower than before"),
    "same": _l("Same as before"),
    None: _l("First screening with this instrument"),
}


# --- the case list ----------------------------------------------------------------------------


def page_numbers(page: int, pages: int, around: int = 2, *, more: bool = False) -> list[int | None]:
    """The page links to show: the first, the last and a few around the current one.

    ``None`` stands for pages left out ("…"), so that 2,000 pages make a short row.
    ``more``: ``pages`` is only as far as the list counted (:attr:`CasePage.more`),
    so no last page is offered, only "…" after the pages around this one.
    """
    shown = {1, *range(max(1, page - around), min(pages, page + around) + 1)}
    if not more:
        shown.add(pages)
    out: list[int | None] = []
    for number in sorted(shown):
        if out and out[-1] is not None and number > out[-1] + 1:
            out.append(None)
        out.append(number)
    if more:
        out.append(None)
    return out


@bp.route("/", methods=["GET", "POST"])
@roles_required(*service.CASE_ROLES)
def index() -> Any:
    """The list and its search.

    The search form is sent by POST, so that a person's name never sits in a
    URL: not in the browser's history on a shared front-desk computer, not in
    a proxy's log.  Filters without a name also work as a GET (page links).
    """
    if request.method == "GET" and "name" in request.args:
        raise Refused(_("Search for a name with the search form: a name is never sent in a web address."))
    actor = current_actor()
    owners = service.case_owners(actor.agency_for(*service.CASE_ROLES))
    form = CaseSearchForm(owners, request.form if request.method == "POST" else request.args)
    drafts = service.unfinished_drafts(actor)
    if not form.validate():
        # Nothing is searched with a filter that makes no sense.
        return (
            render_template("intake/index.html", form=form, result=None, drafts=drafts, **_list_links(form)),
            400,
        )
    result = service.search_cases(actor, form.query())
    high = [case.id for case in result.cases if case.high_danger]
    return render_template(
        "intake/index.html",
        form=form,
        result=result,
        open_steps=service.open_protocol_steps(high),
        pages=page_numbers(result.page, result.pages, more=result.more),
        drafts=drafts,
        **_list_links(form),
    )


def _list_links(form: CaseSearchForm) -> dict[str, Any]:
    filters = form.filters()

    def page_url(number: int) -> str:
        query = {**filters, **({"page": str(number)} if number > 1 else {})}
        base = url_for("intake.index")
        return f"{base}?{urlencode(query)}" if query else base

    return {
        "page_url": page_url,
        "case_url": UrlPattern("intake.detail", "case_id"),
        "step_titles": STEP_TITLES,
    }


# --- the case page ----------------------------------------------------------------------------


def _protocol_form(step_id: int, **kwargs: Any) -> ProtocolForm:
    return ProtocolForm(prefix=f"step{step_id}", **kwargs)


def _reassign_form(case: Case, **kwargs: Any) -> ReassignForm:
    """The advocates of the case's agency; on the page, the current one is chosen."""
    if kwargs.get("formdata", ...) is None:
        kwargs["data"] = {"owner_id": case.owner_id}
    form = ReassignForm(**kwargs)
    form.owner_id.choices = [(user.id, user.display_name) for user in service.case_owners(case.agency_id)]
    return form


def _render_case(case: Case, status: int = 200, **forms: Any) -> tuple[str, int]:
    steps = service.protocol_steps(case) if case.high_danger else []
    step_forms = {
        step.id: forms.get(f"step{step.id}") or _protocol_form(step.id, formdata=None)
        for step in steps
        if step.done_at is None
    }
    body = render_template(
        "intake/detail.html",
        case=case,
        steps=steps,
        step_forms=step_forms,
        history=service.risk_history(case),
        pending_lower=service.pending_lowering(case),
        lower_form=forms.get("lower") or LowerForm(formdata=None),
        placements=service.placements(case),
        close_form=forms.get("close") or CloseForm(formdata=None),
        reassign_form=forms.get("reassign") or _reassign_form(case, formdata=None),
        section_titles=SECTION_TITLES,
        trends=TRENDS,
    )
    return body, status


def _shown_again(case: Case) -> None:
    """A page re-rendered after bad input shows the case again: that is a view too."""
    service.record_view(current_actor(), case)


@bp.route("/<id:case_id>")
@roles_required(*service.CASE_ROLES)
def detail(case_id: int) -> Any:
    return _render_case(service.view_case(current_actor(), case_id))


def _back(case_id: int, anchor: str | None = None) -> Response:
    return redirect(url_for("intake.detail", case_id=case_id, _anchor=anchor))


@bp.route("/<id:case_id>/protocol/<id:step_id>", methods=["POST"])
@roles_required(*service.CASE_ROLES)
def case_protocol(case_id: int, step_id: int) -> Any:
    case = service.get_case(current_actor(), case_id)
    step = next((s for s in service.protocol_steps(case) if s.id == step_id), None)
    if step is None:
        raise NotFound()
    if step.done_at is not None:
        flash(_("This step is already recorded."), "info")
        return _back(case.id, "protocol")
    form = _protocol_form(step_id)
    if not form.validate_on_submit():
        _shown_again(case)
        return _render_case(case, 400, **{f"step{step_id}": form})
    service.complete_step(
        current_actor(),
        case,
        step_id,
        ProtocolOutcome(form.outcome.data),
        note=(form.note.data or "").strip() or None,
    )
    flash(_("The step is recorded."), "success")
    return _back(case.id, "protocol")


@bp.route("/<id:case_id>/lower", methods=["POST"])
@roles_required(*service.CASE_ROLES)
def case_lower(case_id: int) -> Any:
    """Confirm a lower re-screen: only then does "High danger" leave the case."""
    case = service.get_case(current_actor(), case_id)
    form = LowerForm()
    if not form.validate_on_submit():
        _shown_again(case)
        return _render_case(case, 400, lower=form)
    try:
        service.confirm_lowering(current_actor(), case, form.reason.data)
    except Refused as refused:
        flash(refused.message, "error")
    else:
        flash(_("The lower result is confirmed. The case is no longer marked high danger."), "success")
    return _back(case_id, "risk")


@bp.route("/<id:case_id>/close", methods=["POST"])
@roles_required(*service.CASE_ROLES)
def case_close(case_id: int) -> Any:
    """Closing takes the case off everyone's open work: the first POST (from the case
    page) only shows what would happen and asks; the POST from that page closes."""
    case = service.get_case(current_actor(), case_id)
    form = CloseForm()
    if not form.validate_on_submit():
        _shown_again(case)
        return _render_case(case, 400, close=form)
    if case.status == CaseStatus.CLOSED.value:
        flash(_("This case is already closed."), "error")
        return _back(case_id, "manage")
    if request.form.get("confirm") != "yes":
        _shown_again(case)
        return render_template(
            "intake/confirm_close.html", case=case, form=form, active=service.active_referral(case.id)
        )
    try:
        service.close_case(current_actor(), case, form.reason.data)
    except Refused as refused:
        flash(refused.message, "error")
    else:
        flash(
            _(
                "Case %(number)s is closed: %(reason)s. If this was a mistake, reopen it with the button below.",
                number=case.number,
                reason=CloseReason(form.reason.data).label,
            ),
            "success",
        )
    return _back(case_id, "manage")


@bp.route("/<id:case_id>/reopen", methods=["POST"])
@roles_required(*service.CASE_ROLES)
def case_reopen(case_id: int) -> Any:
    case = service.get_case(current_actor(), case_id)
    try:
        service.reopen_case(current_actor(), case)
    except Refused as refused:
        flash(refused.message, "error")
    else:
        flash(_("The case is open again."), "success")
    return _back(case_id)


@bp.route("/<id:case_id>/referrals/<id:referral_id>/cancel", methods=["POST"])
@roles_required(*service.CASE_ROLES)
def case_referral_cancel(case_id: int, referral_id: int) -> Any:
    """Cancel the case's referral from the case page or from "Find a bed" (``next=bed``)."""
    case = service.get_case(current_actor(), case_id)
    try:
        referral = service.cancel_case_referral(current_actor(), case, referral_id)
    except Refused as refused:
        flash(refused.message, "error")
    else:
        flash(
            _(
                "Referral %(token)s is cancelled and its beds are free for others. You can ask for a bed again.",
                token=referral.token,
            ),
            "success",
        )
    if request.form.get("next") == "bed":
        return redirect(url_for("intake.find_bed", case_id=case_id))
    return _back(case_id, "bed")


@bp.route("/<id:case_id>/reassign", methods=["POST"])
@roles_required(*service.CASE_ROLES)
def case_reassign(case_id: int) -> Any:
    case = service.get_case(current_actor(), case_id)
    form = _reassign_form(case)
    if not form.validate_on_submit():
        _shown_again(case)
        return _render_case(case, 400, reassign=form)
    try:
        service.reassign_case(current_actor(), case, form.owner_id.data)
    except Refused as refused:
        flash(refused.message, "error")
    else:
        flash(_("The case has a new advocate."), "success")
    return _back(case_id, "status")


# --- editing one section ----------------------------------------------------------------------


def _section_data(case: Case, section: str) -> dict[str, Any]:
    """The case's values as the section's form shows them."""
    form = SECTION_FORMS[section](formdata=None)
    names = [field.name for field in form if field.name not in form.skip]
    data = {name: getattr(case, name) for name in names}
    if "access_needs" in data:
        data["access_needs"] = case.access_needs.split()
    if "children_ages" in data:
        data["children_ages"] = ", ".join(str(age) for age in case.ages)
    for name in ("referral_source", "cultural_program"):
        if name in data and data[name] is None:
            data[name] = ""
    return data


@bp.route("/<id:case_id>/edit/<section>", methods=["GET", "POST"])
@roles_required(*service.CASE_ROLES)
def case_edit(case_id: int, section: str) -> Any:
    if section not in SECTION_FORMS:
        raise NotFound()
    form_class = SECTION_FORMS[section]
    if request.method == "GET":
        case = service.view_case(current_actor(), case_id)
        form = form_class(data=_section_data(case, section))
        return _render_edit(case, section, form)
    case = service.get_case(current_actor(), case_id)
    form = form_class()
    if not form.validate_on_submit():
        _shown_again(case)
        return _render_edit(case, section, form, 400)
    service.update_case(current_actor(), case, form.values(), section=section)
    flash(_("%(section)s: saved.", section=SECTION_TITLES[section]), "success")
    return _back(case_id, section)


def _render_edit(case: Case, section: str, form: Any, status: int = 200) -> tuple[str, int]:
    body = render_template(
        "intake/edit.html", case=case, section=section, title=SECTION_TITLES[section], form=form
    )
    return body, status


# --- screening again --------------------------------------------------------------------------


@bp.route("/<id:case_id>/screen", methods=["GET", "POST"])
@roles_required(*service.CASE_ROLES)
def case_screen(case_id: int) -> Any:
    actor = current_actor()
    case = service.view_case(actor, case_id) if request.method == "GET" else service.get_case(actor, case_id)
    instruments = service.available_instruments(case.agency_id)
    by_ref = {instrument.ref: instrument for instrument in instruments}
    default = inst.default_ref(instruments)
    source = request.form if request.method == "POST" else request.args
    ref = source.get("instrument", default)
    chosen = by_ref.get(ref)
    form = screen_form(instruments, chosen)
    ui = current_language().tag
    form.instrument.choices = [("", _l("Choose an instrument"))] + [
        (i.ref, inst.pick(i.title, ui)[0]) for i in instruments
    ]
    if request.method == "GET":
        form.instrument.data = ref if chosen else ""
        return _render_screen(case, form)
    if request.form.get("action") == "show":
        # Without JavaScript, choosing an instrument reloads the form with its questions.
        _shown_again(case)
        return _render_screen(case, form)
    valid = form.validate_on_submit()
    if chosen is None:
        form.instrument.errors = [_("Choose the instrument you screened with.")]
        valid = False
    if not valid:
        _shown_again(case)
        return _render_screen(case, form, 400)
    reason = (form.judgment_reason.data or "").strip() if form.judgment.data else ""
    screening = service.screen_case(actor, case, chosen, form.answers(), judgment_reason=reason or None)
    if screening.screened_in:
        flash(_("Screened in: this case is high danger. Follow the protocol steps now."), "info")
    elif screening.lower_pending:
        flash(
            _("Not screened in. The case stays high danger until an advocate confirms the lower result."),
            "info",
        )
        return _back(case_id, "lower-pending")
    else:
        flash(_("Not screened in. The screening is added to the risk history."), "success")
    return _back(case_id, "risk")


def _render_screen(case: Case, form: Any, status: int = 200) -> tuple[str, int]:
    return render_template("intake/screen.html", case=case, form=form), status


# --- labels the case templates use -------------------------------------------------------------


bp.add_app_template_global(case_rows, "case_rows")


@bp.app_context_processor
def _case_labels() -> dict[str, Any]:
    # A new set for every render: each label is translated once per page, not once per row.
    label = Labels

    return {
        "draft_days": DRAFT_DAYS,
        "case_status_label": label(CaseStatus),
        "danger_label": label(Danger),
        "referral_source_label": label(ReferralSource),
        "access_need_label": label(AccessNeed),
        "close_reason_label": label(CloseReason),
        "protocol_step_label": label(ProtocolStepKey),
        "protocol_outcome_label": label(ProtocolOutcome),
        "placement_label": label(PlacementKind),
    }
