"""The guided intake: one step per page, a draft saved at every step.

A draft is created by the first POST (never by a GET, so following a link
creates nothing).  Each step's POST validates its form, stores every valid
field in the draft (a field with an error keeps its last good value), and
moves on only when the whole step is valid.  The page's script also sends the
step's fields to :func:`autosave` when they change and just before the idle
timeout, with the background header so that saving never keeps an idle
session open; a person who is signed out finds the draft under "Unfinished
intakes".  The last step opens the case, with its screening, in one
transaction, and then asks for a bed, if one is wanted.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from advocacy.access import current_actor, roles_required
from advocacy.errors import NotFound, Refused
from advocacy.intake import bp, service
from advocacy.intake import instruments as inst
from advocacy.intake.forms import SECTION_FORMS, PlacementForm, ScreenForm, StepForm, screen_form
from advocacy.intake.models import Case, IntakeDraft, IntakeStep
from advocacy.security import BACKGROUND_HEADER
from advocacy.shelters.models import Referral
from advocacy.shelters.service import NetworkRow, fitting_shelters, own_referral

#: The steps' titles, from the step vocabulary (for templates that look them up by key).
STEP_TITLES = {step.value: step.lazy_label for step in IntakeStep}


# --- helpers ----------------------------------------------------------------------------------


def _screen_form(draft: IntakeDraft, formdata: Any = None) -> ScreenForm:
    """The screen step's form for the instrument chosen (in the post, else in the draft)."""
    instruments = service.available_instruments(draft.agency_id)
    stored = service.step_values(draft, "screen")
    if formdata is not None:
        ref = formdata.get("instrument", "")
    else:
        ref = stored.get("instrument", "" if stored else inst.default_ref(instruments))
    chosen = next((i for i in instruments if i.ref == ref), None)
    if formdata is not None:
        return screen_form(instruments, chosen, formdata=formdata)
    data = {"instrument": chosen.ref if chosen else "", **_stored_screen(stored)}
    return screen_form(instruments, chosen, formdata=None, data=data)


def _stored_screen(stored: dict[str, Any]) -> dict[str, Any]:
    data = {f"answer_{k}": v for k, v in stored.get("answers", {}).items()}
    data["judgment"] = stored.get("judgment", False)
    data["judgment_reason"] = stored.get("judgment_reason", "")
    return data


def _step_form(draft: IntakeDraft, step: str, formdata: Any = None) -> FlaskForm:
    if step == "screen":
        return _screen_form(draft, formdata)
    if step == "placement":
        stored = service.step_values(draft, step)
        form = PlacementForm(formdata=formdata, data=stored or None)
        if formdata is None and not stored:
            outcome = _draft_outcome(draft)
            form.priority.data = bool(outcome and outcome.screened_in)
        held = _draft_referral(draft)
        return form.offer([] if held else _draft_shelters(draft), held)
    form_class = SECTION_FORMS[step]
    stored = service.step_values(draft, step)
    if step == "needs" and "access_needs" in stored and isinstance(stored["access_needs"], str):
        stored = {**stored, "access_needs": stored["access_needs"].split()}
    if step == "household" and stored.get("children_ages"):
        stored = {**stored, "children_ages": ", ".join(stored["children_ages"].split())}
    return form_class(formdata=formdata, data=stored or None)


def _values(form: FlaskForm, *, valid_only: bool) -> dict[str, Any]:
    if isinstance(form, ScreenForm):
        return form.stored()
    if isinstance(form, StepForm):
        return form.valid_values() if valid_only else form.values()
    assert isinstance(form, PlacementForm)
    return {"bed": None if form.bed.errors else form.bed.data, "priority": bool(form.priority.data)}


def _draft_outcome(draft: IntakeDraft) -> inst.Outcome | None:
    """What the draft's screen says, before the case exists (for the steps after it)."""
    stored = service.step_values(draft, "screen")
    if not stored.get("instrument") or "screen" not in service.steps_done(draft):
        return None
    instrument = service.get_instrument(stored["instrument"], draft.agency_id)
    judgment = service.judgment_reason(stored) is not None
    return inst.evaluate(instrument, stored.get("answers", {}), judgment=judgment)


def _draft_referral(draft: IntakeDraft) -> Referral | None:
    """The referral the intake was started from on the network board (its beds are held)."""
    referral_id = service.draft_referral_id(draft)
    return own_referral(current_actor(), referral_id) if referral_id is not None else None


def _draft_shelters(draft: IntakeDraft) -> list[NetworkRow]:
    return fitting_shelters(
        service.draft_household(draft), service.step_values(draft, "needs").get("cultural_program")
    )


def _progress(draft: IntakeDraft, current: str) -> list[dict[str, Any]]:
    done = set(service.steps_done(draft))
    return [
        {
            "key": step,
            "title": STEP_TITLES[step],
            "number": i + 1,
            "done": step in done,
            "current": step == current,
            "url": url_for("intake.step", draft_id=draft.id, step=step),
        }
        for i, step in enumerate(service.STEPS)
    ]


def _render(draft: IntakeDraft, step: str, form: FlaskForm, status: int = 200) -> Any:
    context: dict[str, Any] = {
        "draft": draft,
        "step": step,
        "form": form,
        "progress": _progress(draft, step),
        "titles": STEP_TITLES,
        "total": len(service.STEPS),
        "number": service.STEPS.index(step) + 1,
        "person_language": service.step_values(draft, "person").get("language"),
        "outcome": _draft_outcome(draft) if step in ("consent", "placement") else None,
    }
    if step == "placement":
        context["household"] = service.draft_household(draft)
    return render_template(f"intake/steps/{step}.html", **context), status


# --- routes -----------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*service.CASE_ROLES)
def new() -> Any:
    form = FlaskForm()
    if form.validate_on_submit():
        draft = service.start_draft(current_actor())
        return redirect(url_for("intake.step", draft_id=draft.id, step=service.STEPS[0]))
    return render_template(
        "intake/new.html",
        form=form,
        titles=[STEP_TITLES[s] for s in service.STEPS],
        drafts=service.unfinished_drafts(current_actor()),
        step_titles=STEP_TITLES,
    )


@bp.route("/intake/<id:draft_id>")
@roles_required(*service.CASE_ROLES)
def resume(draft_id: int) -> Any:
    draft = service.get_draft(current_actor(), draft_id)
    return redirect(url_for("intake.step", draft_id=draft.id, step=draft.step))


@bp.route("/intake/<id:draft_id>/<step>", methods=["GET", "POST"])
@roles_required(*service.CASE_ROLES)
def step(draft_id: int, step: str) -> Any:
    if step not in service.STEPS:
        raise NotFound()
    draft = service.get_draft(current_actor(), draft_id)
    if request.method == "GET":
        service.view_draft(current_actor(), draft)
        return _render(draft, step, _step_form(draft, step))

    try:
        return _post_step(draft, step)
    except service.AlreadyFinished:
        return _gone()


def _gone() -> Any:
    flash(_("This intake was already finished, and its case is open. Find it in the case list."), "info")
    return redirect(url_for("intake.index"))


def _post_step(draft: IntakeDraft, step: str) -> Any:
    form = _step_form(draft, step, request.form)
    action = request.form.get("action", "next")
    if step == "screen" and action == "choose":
        # Only the instrument changed: show its questions, keep what was answered.
        service.save_step(
            current_actor(), draft, step, {"instrument": form.instrument.data or ""}, complete=False
        )
        return _render(draft, step, _screen_form(draft))
    valid = form.validate()
    service.save_step(current_actor(), draft, step, _values(form, valid_only=True), complete=valid)
    if not valid:
        return _render(draft, step, form, 400)
    if action == "back" and service.STEPS.index(step) > 0:
        return redirect(
            url_for("intake.step", draft_id=draft.id, step=service.STEPS[service.STEPS.index(step) - 1])
        )
    if action == "later":
        flash(_("The intake is saved. Find it under “Unfinished intakes” to go on."), "success")
        return redirect(url_for("intake.index"))
    following = service.next_step(step)
    if following is not None:
        return redirect(url_for("intake.step", draft_id=draft.id, step=following))
    return _finish(draft, form)  # type: ignore[arg-type]


def _finish(draft: IntakeDraft, form: PlacementForm) -> Any:
    try:
        case = service.finish_draft(current_actor(), draft)
    except service.NotReady as not_ready:
        flash(
            _("“%(step)s” still needs answers before the case can open.", step=STEP_TITLES[not_ready.step]),
            "error",
        )
        return redirect(url_for("intake.step", draft_id=draft.id, step=not_ready.step))
    flash(_("Case %(number)s is open.", number=case.number), "success")
    if form.shelter_id is not None:
        return _request_bed(case, form.shelter_id, priority=bool(form.priority.data))
    return redirect(url_for("intake.detail", case_id=case.id))


def _request_bed(case: Case, shelter_id: int, *, priority: bool) -> Any:
    case_id = case.id
    try:
        placement = service.place_referral(current_actor(), case, shelter_id, priority=priority)
    except Refused as refused:
        flash(
            _("The bed was not held: %(reason)s", reason=refused.message),
            "error",
        )
        return redirect(url_for("intake.find_bed", case_id=case_id))
    referral = placement.referral
    flash(
        _(
            "Beds are held at %(label)s. The shelter decides on referral %(token)s; its status is on the case page.",
            label=referral.shelter.public_label,
            token=referral.token,
        ),
        "success",
    )
    return redirect(url_for("intake.detail", case_id=case_id))


@bp.route("/intake/<id:draft_id>/autosave", methods=["POST"])
@roles_required(*service.CASE_ROLES)
def autosave(draft_id: int) -> Any:
    """Save what is typed without moving on; answers JSON for the page's script.

    Sent with the background header, so it does not count as activity.  A
    field with an error is left as it was in the draft; the answer lists the
    fields that were not saved, and the page shows nothing more: the person
    sees the errors when they press a button.
    """
    draft = service.get_draft(current_actor(), draft_id)
    step = request.form.get("step", "")
    if step not in service.STEPS:
        abort(400)
    form = _step_form(draft, step, request.form)
    form.validate()
    try:
        service.save_step(
            current_actor(),
            draft,
            step,
            _values(form, valid_only=True),
            complete=False,
            background=bool(request.headers.get(BACKGROUND_HEADER)),
        )
    except service.AlreadyFinished:
        return jsonify(saved=False, error="finished"), 409
    unsaved = sorted(name for name, errors in form.errors.items() if errors and name != "csrf_token")
    return jsonify(saved=True, saved_at=draft.updated_at.isoformat(), unsaved=unsaved)


@bp.route("/intake/<id:draft_id>/discard", methods=["POST"])
@roles_required(*service.CASE_ROLES)
def discard(draft_id: int) -> Any:
    draft = service.get_draft(current_actor(), draft_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    service.discard_draft(current_actor(), draft)
    flash(_("The unfinished intake was deleted."), "success")
    return redirect(url_for("intake.index"))


@bp.route("/<id:case_id>/bed", methods=["GET", "POST"])
@roles_required(*service.CASE_ROLES)
def find_bed(case_id: int) -> Any:
    """A bed for an open case: the network's shelters that fit its household."""
    actor = current_actor()
    case = service.view_case(actor, case_id) if request.method == "GET" else service.get_case(actor, case_id)
    household = service.case_household(case)
    active = service.active_referral(case.id)
    if active is not None:
        # Beds are held already: the page shows that referral (with cancel), not the form.
        status = 200
        if request.method == "POST":
            service.record_view(actor, case)
            flash(
                _("Beds are already held for this case. Cancel that referral before asking again."), "error"
            )
            status = 409
        return render_template(
            "intake/find_bed.html", case=case, form=None, household=household, active=active
        ), status
    form = PlacementForm(formdata=request.form if request.method == "POST" else None)
    form.offer(fitting_shelters(household, case.cultural_program))
    if request.method == "GET":
        form.priority.data = case.high_danger
    status = 200
    if request.method == "POST":
        if form.validate():
            if form.shelter_id is not None:
                return _request_bed(case, form.shelter_id, priority=bool(form.priority.data))
            service.record_placement(actor, case, form.kind)
            flash(_("Saved on the case."), "success")
            return redirect(url_for("intake.detail", case_id=case.id))
        status = 400
    return render_template(
        "intake/find_bed.html",
        case=case,
        form=form,
        household=household,
        active=None,
    ), status
