"""The app as the benchmark serves it: the product's app, plus what only a benchmark needs.

* Bare JSON endpoints for the pages that have none (the case list, the case
  page): the same service calls as the page, the same rows, no template, so
  that "HTML / bare" says what rendering costs.  (Until issue 11's last round
  the case page's left out the four sections other domains add to the page:
  half the page's statements, counted against the template.)  They live here, not among
  the product's routes.
* A count of the SQL statements each request sent, in the response header
  ``X-Bench-Statements``, so the table can show statements per request.

    gunicorn --pythonpath bench 'benchapp:create_bench_app()'
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Blueprint, Flask, g, jsonify
from sqlalchemy import event

from advocacy import create_app
from advocacy.access import current_actor, roles_required
from advocacy.extensions import db
from advocacy.intake import service as intake
from advocacy.shelters import service as shelters
from advocacy.uow import transactional

STATEMENTS_HEADER = "X-Bench-Statements"

bare = Blueprint("bench", __name__, url_prefix="/bench")


@bare.route("/cases.json")
@roles_required(*intake.CASE_ROLES)
def case_list() -> Any:
    """The case list's first page, as the list page reads it (its audit write too): the
    advocates of the filter, the person's unfinished intakes, the page of cases."""
    actor = current_actor()
    owners = intake.case_owners(actor.agency_for(*intake.CASE_ROLES))
    drafts = intake.unfinished_drafts(actor)
    page = intake.search_cases(actor, intake.CaseQuery())
    high = [case.id for case in page.cases if case.high_danger]
    steps = intake.open_protocol_steps(high)
    return jsonify(
        owners=[{"id": owner.id, "name": owner.display_name} for owner in owners],
        drafts=[{"id": draft.id, "alias": draft.alias, "step": draft.step} for draft in drafts],
        total=page.total,
        more=page.more,
        cases=[
            {
                "id": case.id,
                "number": case.number,
                "alias": case.alias,
                "language": case.language,
                "status": case.status,
                "danger": case.danger,
                "owner": case.owner_name,
                "opened_at": case.opened_at.isoformat(),
                "open_steps": steps.get(case.id, 0),
            }
            for case in page.cases
        ],
    )


@bare.route("/cases/<id:case_id>.json")
@roles_required(*intake.CASE_ROLES)
def case_page(case_id: int) -> Any:
    """What the case page reads: the case (a view, audited), its steps, risk history,
    placements, the advocates it may go to, and the other domains' sections (safety
    plan, court dates, text reminders, hand-offs), each through the call the page's
    section makes."""
    from advocacy.court import service as court
    from advocacy.handoff.views import handoff_overview
    from advocacy.notify.views import case_sms
    from advocacy.safety import service as safety

    actor = current_actor()
    case = intake.view_case(actor, case_id)
    steps = intake.protocol_steps(case) if case.high_danger else []
    history = intake.risk_history(case)
    placements = intake.placements(case)
    owners = intake.case_owners(case.agency_id)
    plan = safety.plan_summary(actor, case)
    events = court.case_events(case)
    sms = case_sms(case)
    handoffs = handoff_overview(case)
    return jsonify(
        id=case.id,
        number=case.number,
        alias=case.alias,
        danger=case.danger,
        phone=case.phone,
        owner=case.owner.display_name,
        steps=[{"step": s.step, "done": s.done_at is not None} for s in steps],
        history=[{"level": e.level.key, "trend": e.trend} for e in history],
        placements=[p.placement.kind for p in placements],
        owners=[{"id": user.id, "name": user.display_name} for user in owners],
        plan=None if plan is None else plan.number,
        court=[{"id": e.id, "starts_at": e.starts_at.isoformat(), "court": e.court.name} for e in events],
        sms={
            "state": None if sms["latest"] is None else sms["latest"].state,
            "messages": [m.state for m in sms["messages"]],
            "replies": [r.kind for r in sms["replies"]],
        },
        handoff={
            "partners": [p.name for p in handoffs["partners"]],
            "consents": [c.id for c in handoffs["consents"]],
            "records": [r.state for r in handoffs["records"]],
        },
    )


@bare.route("/shelters/<id:shelter_id>/board.json")
@roles_required(*shelters.STAFF_ROLES)
def staff_board(shelter_id: int) -> Any:
    """The opened staff board as the page reads and writes it: the shelter, its ETag (due
    holds ended), the audit row of a person opening it, then the beds, holds, referrals
    and stays the page shows.  The product's ``/shelters/<id>/board.json`` (for tools)
    writes no audit row and leaves out the holds, referrals and stays: a baseline for
    the page's rows, not for the whole page."""
    from flask import request

    from advocacy.audit.service import record
    from advocacy.shelters.forms import BoardFilterForm

    actor = current_actor()
    shelter = shelters.own_shelter(actor, shelter_id)
    etag = shelters.board_etag(actor.user_id, "en", [], shelter=shelter)
    record(actor, "shelter.board_view", "shelter", shelter.id, agency_id=shelter.agency_id)
    board = shelters.staff_board(shelter, BoardFilterForm(request.args).filters(), holds_ended=True)
    return jsonify(
        shelter=shelter.id,
        etag=etag,
        counts=board.counts,
        stale=board.stale,
        beds=[
            {"id": bed.id, "label": bed.label, "state": bed.state, "hold": bed.hold_id, "stay": bed.stay_id}
            for bed in board.beds
        ],
        holds=[
            {"id": h.id, "expires_at": h.expires_at.isoformat(), "note": h.note} for h in board.holds.values()
        ],
        referrals=[{"id": r.id, "token": r.token, "status": r.status} for r in board.referrals],
        stays=[{"id": st.id, "adults": st.adults, "children": st.children} for st in board.stays.values()],
    )


def _count_statements(app: Flask) -> None:
    def before_request() -> None:
        g.bench_statements = 0

    def after_request(response: Any) -> Any:
        response.headers[STATEMENTS_HEADER] = str(g.get("bench_statements", 0))
        return response

    app.before_request_funcs.setdefault(None, []).insert(0, before_request)
    app.after_request(after_request)

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        from flask import has_request_context

        if has_request_context() and not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            g.bench_statements = g.get("bench_statements", 0) + 1


def add_bare_endpoints(app: Flask) -> None:
    """The bare JSON endpoints, each in its unit of work as the product's views are."""
    app.register_blueprint(bare)
    for endpoint in ("bench.case_list", "bench.case_page", "bench.staff_board"):
        app.view_functions[endpoint] = transactional(app.view_functions[endpoint])


def create_bench_app() -> Flask:
    app = create_app()
    add_bare_endpoints(app)
    _count_statements(app)
    return app
