"""An agency's risk instruments: the shipped ones and those added from a file.

Advocates and admins read the list and each instrument, its conditions
written out in plain words, so that what the app does with the answers can be
checked against the instrument's own documentation.  Only an admin adds a
file or turns an added instrument off and on.  A file is accepted whole or
refused with the place of its first problem next to the file field (400),
and nothing is stored then.  Another agency's instrument is a 404, as every
other object of another agency is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from advocacy.access import current_actor, get_scoped, roles_required
from advocacy.auth.models import Role, User
from advocacy.extensions import db
from advocacy.i18n import current_language, registry
from advocacy.intake import bp, instrument_format, service
from advocacy.intake import instruments as inst
from advocacy.intake.forms import InstrumentUploadForm
from advocacy.intake.models import RiskInstrument


@dataclass(frozen=True)
class AgencyEntry:
    """One of the agency's own instruments as the list shows it."""

    row: RiskInstrument
    instrument: inst.Instrument
    added_by: str | None


def _agency_id() -> int:
    """The agency whose instruments the page is about: the acting one."""
    return current_actor().agency_for(*service.CASE_ROLES)


def _can_manage(agency_id: int) -> bool:
    return Role.ADMIN in current_actor().roles_in(agency_id)


def _agency_entries(agency_id: int) -> list[AgencyEntry]:
    rows = service.agency_instruments(agency_id)
    ids = {row.added_by_id for row in rows if row.added_by_id is not None}
    names = (
        {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
        if ids
        else {}
    )
    return [
        AgencyEntry(row, service.instrument_of(row), names.get(row.added_by_id) if row.added_by_id else None)
        for row in rows
    ]


def _render_list(form: InstrumentUploadForm, status: int = 200) -> tuple[str, int]:
    agency_id = _agency_id()
    shipped = list(instrument_format.shipped().values())
    return render_template(
        "intake/instruments.html",
        shipped=shipped,
        own=_agency_entries(agency_id),
        form=form,
        can_manage=_can_manage(agency_id),
        example_ref=shipped[0].ref if shipped else None,
        max_kb=instrument_format.MAX_FILE_BYTES // 1024,
    ), status


def _title(instrument: inst.Instrument) -> str:
    return inst.pick(instrument.title, current_language().tag)[0]


@bp.route("/instruments/")
@roles_required(*service.CASE_ROLES)
def instruments() -> Any:
    return _render_list(InstrumentUploadForm())


@bp.route("/instruments/upload", methods=["POST"])
@roles_required(Role.ADMIN)
def instrument_upload() -> Any:
    form = InstrumentUploadForm()
    if form.validate_on_submit():
        # One byte more than allowed is enough for the parser to say "too large".
        raw = form.file.data.read(instrument_format.MAX_FILE_BYTES + 1)
        try:
            actor = current_actor()
            row = service.add_instrument(actor, actor.agency_for(Role.ADMIN), raw)
        except instrument_format.InstrumentError as error:
            form.file.errors = [*form.file.errors, str(error)]
        else:
            instrument = service.get_instrument(f"{row.key}@{row.version}", row.agency_id)
            flash(
                _(
                    "“%(title)s” is added. Advocates of your agency can screen with it now. "
                    "Check below that its questions and levels read as its documentation says.",
                    title=_title(instrument),
                ),
                "success",
            )
            return redirect(url_for("intake.instrument", ref=instrument.ref))
    return _render_list(form, 400)


@bp.route("/instruments/<ref>")
@roles_required(*service.CASE_ROLES)
def instrument(ref: str) -> str:
    agency_id = _agency_id()
    found = service.get_instrument(ref, agency_id)
    row = db.session.get(RiskInstrument, found.agency_instrument_id) if found.agency_instrument_id else None
    return render_template(
        "intake/instrument.html",
        instrument=found,
        row=row,
        can_manage=row is not None and _can_manage(agency_id),
        levels=[(level, inst.describe(found, level.when)) for level in found.levels],
        judgment=found.level(found.judgment_level),
        weighted=inst.weighted(found),
        app_languages=registry(),
        other_languages=[tag for tag in found.languages if tag not in registry()],
    )


@bp.route("/instruments/<ref>/file")
@roles_required(*service.CASE_ROLES)
def instrument_file(ref: str) -> Response:
    """The file itself: the shipped one is the example to start from, an added one its source."""
    found = service.get_instrument(ref, _agency_id())
    if found.shipped:
        body = instrument_format.shipped_file(found.ref)
        if body is None:  # pragma: no cover - shipped() and the files are read together
            abort(404)
    else:
        row = db.session.get(RiskInstrument, found.agency_instrument_id)
        if row is None:  # pragma: no cover - get_instrument just read it
            abort(404)
        body = row.definition.encode("utf-8")
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{found.key}-{found.version}.json"'
    return response


def _set_active(instrument_id: int, active: bool) -> Any:
    # Scoped to the agencies the user administers: another agency's id is a 404.
    actor = current_actor()
    row = get_scoped(actor, RiskInstrument, instrument_id, Role.ADMIN)
    service.set_instrument_active(actor, row.agency_id, row.id, active)
    title = _title(service.instrument_of(row))
    if active:
        flash(_("“%(title)s” is enabled. Advocates can screen with it again.", title=title), "success")
    else:
        flash(
            _(
                "“%(title)s” is disabled. Advocates no longer see it for new screenings; "
                "screenings already made with it still show it.",
                title=title,
            ),
            "success",
        )
    return redirect(url_for("intake.instruments"))


@bp.route("/instruments/<id:instrument_id>/enable", methods=["POST"])
@roles_required(Role.ADMIN)
def instrument_enable(instrument_id: int) -> Any:
    return _set_active(instrument_id, True)


@bp.route("/instruments/<id:instrument_id>/disable", methods=["POST"])
@roles_required(Role.ADMIN)
def instrument_disable(instrument_id: int) -> Any:
    return _set_active(instrument_id, False)
