"""The plan pages of a case: write, versions, compare, print, text; and the agency's local numbers.

Thin: each view reads the request, calls :mod:`advocacy.safety.service` and
draws what it returns.  The plan form is generated from
:data:`advocacy.content.sections.SECTION_ENTRIES`, field names
``s.<section>.<entry>.<index>.<part>``.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from advocacy.access import current_actor, roles_required
from advocacy.auth.models import Agency
from advocacy.content.packs import Pack, shipped, suggest_for_case
from advocacy.content.sections import Section, entries
from advocacy.errors import NotFound, Refused
from advocacy.extensions import db
from advocacy.i18n import registry
from advocacy.roles import Role
from advocacy.safety import bp, compare, service
from advocacy.safety import content as plan_content
from advocacy.safety.guidance import plan_view
from advocacy.templating import menu_item


def _form_content() -> plan_content.Content:
    return plan_content.from_form(request.form, request.form.getlist("checked"))


def _render_plan(
    state: service.PlanState,
    *,
    content: plan_content.Content | None = None,
    packs: list[str] | None = None,
    locale: str | None = None,
    base: int | None = None,
    conflict: service.EditConflict | None = None,
    error: Refused | None = None,
    status: int = 200,
) -> tuple[str, int]:
    latest = state.latest
    if packs is None:
        packs = latest.pack_keys if latest else [s.pack.value for s in suggest_for_case(state.case)]
    locale = locale or (latest.locale if latest else service.plan_locale(state.case.language))
    shown = content if content is not None else state.content
    view = plan_view(state.case.agency_id, packs, locale)
    changes = None
    if conflict is not None:
        theirs = plan_content.loads(conflict.latest.content) if conflict.latest else plan_content.empty()
        changes = compare.compare(theirs, conflict.mine, view.item_labels)
    return (
        render_template(
            "safety/plan.html",
            case=state.case,
            state=state,
            view=view,
            content=shown,
            packs=packs,
            locale=locale,
            base=state.version if base is None else base,
            suggestions={s.pack.value: s for s in suggest_for_case(state.case)},
            library=shipped(),
            languages=list(registry().values()),
            sections=list(Section),
            entries=entries,
            rows=plan_content.rows,
            conflict=conflict,
            changes=changes,
            error=error,
        ),
        status,
    )


@bp.route("/case/<id:case_id>", methods=["GET"])
@roles_required(*service.PLAN_ROLES)
def plan(case_id: int) -> Any:
    return _render_plan(service.plan_state(current_actor(), case_id))


@bp.route("/case/<id:case_id>", methods=["POST"])
@roles_required(*service.PLAN_ROLES)
def plan_save(case_id: int) -> Any:
    actor = current_actor()
    state = service.plan_state(actor, case_id, audit=False)
    packs = request.form.getlist("packs")
    locale = request.form.get("locale", "")
    base = request.form.get("base", "")
    if not base.isdigit():
        raise NotFound()
    try:
        version = service.save_plan(
            actor, state.case, base=int(base), content=_form_content(), packs=packs, locale=locale
        )
    except service.EditConflict as conflict:
        # Shown again with their words kept, the difference, and the newest version as the new base.
        fresh = service.plan_state(actor, case_id, audit=False)
        return _render_plan(
            fresh,
            content=conflict.mine,
            packs=packs,
            locale=locale,
            base=fresh.version,
            conflict=conflict,
            status=409,
        )
    except Refused as refused:
        return _render_plan(
            state,
            content=_form_content(),
            packs=[p for p in packs if p in {k.value for k in shipped().packs()}],
            locale=locale if locale in registry() else None,
            base=int(base),
            error=refused,
            status=400,
        )
    flash(_("The plan is saved as version %(number)d.", number=version.number), "success")
    return redirect(url_for("safety.plan", case_id=case_id))


# --- versions and comparison ------------------------------------------------------------------


@bp.route("/case/<id:case_id>/versions")
@roles_required(*service.PLAN_ROLES)
def versions(case_id: int) -> Any:
    state = service.plan_state(current_actor(), case_id)
    if state.plan is None:
        raise NotFound()
    found = service.versions(current_actor(), state.plan)
    return render_template("safety/versions.html", case=state.case, state=state, versions=found)


@bp.route("/case/<id:case_id>/compare")
@roles_required(*service.PLAN_ROLES)
def compare_versions(case_id: int) -> Any:
    actor = current_actor()
    left_arg, right_arg = request.args.get("a", ""), request.args.get("b", "")
    if not (left_arg.isdigit() and right_arg.isdigit()):
        raise NotFound()
    state, old = service.get_version(actor, case_id, int(left_arg))
    _state, new = service.get_version(actor, case_id, int(right_arg))
    view = plan_view(state.case.agency_id, new.pack_keys, new.locale)
    changes = compare.compare(
        plan_content.loads(old.content), plan_content.loads(new.content), view.item_labels
    )
    return render_template(
        "safety/compare.html",
        case=state.case,
        state=state,
        old=old,
        new=new,
        changes=changes,
        any_change=compare.has_changes(changes) or old.packs != new.packs or old.locale != new.locale,
        versions=service.versions(actor, state.plan),  # type: ignore[arg-type]
    )


# --- the agency's local numbers ---------------------------------------------------------------


@bp.route("/numbers", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def numbers() -> Any:
    actor = current_actor()
    error: Refused | None = None
    status = 200
    if request.method == "POST":
        agency_id = request.form.get("agency_id", "")
        try:
            if not agency_id.isdigit():
                raise Refused(_("Choose one of your agencies."), "agency_id")
            service.add_local_number(
                actor,
                int(agency_id),
                name=request.form.get("name", ""),
                number=request.form.get("number", ""),
                hours=request.form.get("hours", ""),
                languages=request.form.get("languages", ""),
            )
        except Refused as refused:
            error, status = refused, 400
        else:
            flash(_("The number is added to every plan of the agency's cases."), "success")
            return redirect(url_for("safety.numbers"))
    by_agency = service.admin_agency_numbers(actor)
    agency_names = {
        a.id: a.name for a in db.session.scalars(select(Agency).where(Agency.id.in_(list(by_agency))))
    }
    return (
        render_template(
            "safety/numbers.html",
            by_agency=by_agency,
            agency_names=agency_names,
            error=error,
            form=request.form,
        ),
        status,
    )


@bp.route("/numbers/<id:number_id>/remove", methods=["POST"])
@roles_required(Role.ADMIN)
def number_remove(number_id: int) -> Any:
    service.remove_local_number(current_actor(), number_id)
    flash(_("The number is removed from plans."), "success")
    return redirect(url_for("safety.numbers"))


@bp.app_context_processor
def _plan_section() -> dict[str, Any]:
    def safety_plan_summary(case: Any) -> Any:
        return service.plan_summary(current_actor(), case)

    def pack_labels(keys: list[str]) -> str:
        return ", ".join(Pack(k).label for k in keys)

    return {
        "safety_plan_summary": safety_plan_summary,
        "pack_label": lambda key: Pack(key).label,
        "pack_labels": pack_labels,
        "section_label": lambda key: Section(key).label,
        "change_label": lambda kind: CHANGE_LABELS[kind],
    }


CHANGE_LABELS = {
    compare.EQUAL: _l("Same"),
    compare.CHANGED: _l("Changed"),
    compare.REMOVED: _l("Removed"),
    compare.ADDED: _l("Added"),
}


menu_item("safety.numbers", _l("Local numbers"), order=86)
