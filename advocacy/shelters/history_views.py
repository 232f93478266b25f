"""What happened to a shelter's beds: occupancy over time (chart, table, CSV) and
the availability history, for staff and admins of the owning agency."""

from __future__ import annotations

from flask import Response, abort, render_template, request

from advocacy.access import current_actor, roles_required
from advocacy.audit.service import record
from advocacy.shelters import bp, charts, service

#: The ranges the occupancy page offers, in days.
OCCUPANCY_DAYS = (7, 30, 90)
DEFAULT_OCCUPANCY_DAYS = 30


def _days() -> int:
    days = request.args.get("days", DEFAULT_OCCUPANCY_DAYS, type=int)
    if days not in OCCUPANCY_DAYS:
        abort(400)
    return days


@bp.route("/<id:shelter_id>/occupancy")
@roles_required(*service.STAFF_ROLES)
def occupancy(shelter_id: int) -> str:
    shelter = service.own_shelter(current_actor(), shelter_id, *service.STAFF_ROLES)
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


@bp.route("/<id:shelter_id>/occupancy.csv")
@roles_required(*service.STAFF_ROLES)
def occupancy_csv(shelter_id: int) -> Response:
    actor = current_actor()
    shelter = service.own_shelter(actor, shelter_id, *service.STAFF_ROLES)
    days = _days()
    body = service.occupancy_csv(service.occupancy(shelter, days))
    # Data leaving the app is recorded; the file name carries no name of the shelter.
    record(actor, "shelter.occupancy_export", "shelter", shelter.id, agency_id=shelter.agency_id)
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="occupancy-{shelter.id}-{days}d.csv"'
    return response


@bp.route("/<id:shelter_id>/history")
@roles_required(*service.STAFF_ROLES)
def history(shelter_id: int) -> str:
    shelter = service.own_shelter(current_actor(), shelter_id, *service.STAFF_ROLES)
    page = service.history(shelter, before=request.args.get("before", type=int))
    return render_template(
        "shelters/manage/history.html",
        shelter=shelter,
        page=page,
        paged="before" in request.args,
        action_label=service.action_label,
    )
