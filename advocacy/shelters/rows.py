"""The boards' rows written in Python: the same markup their templates wrote, at a
fraction of Jinja's cost per output expression.

A network board of fifty shelters or a staff board of forty beds is some
thirty output expressions per row, and Jinja pays for each (an escape, an
attribute look-up, a ``Context.call`` per filter or function); that, not the
data, was most of a board's CPU.  Each helper here writes all rows of one
table at once from the rows the service read: every value escaped with
``markupsafe.escape`` (or put through a ``Markup`` ``%``, which escapes), every
string translated through the render's own catalog (``context["texts"]``,
:class:`advocacy.templating.RenderText`), labels through the render's
``Labels``.  The markup is the templates' own, whitespace included (the pages'
tests and ``bench/profile_page.py --save`` compare it).  Nothing is kept
beyond the render.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from advocacy import clock
from advocacy.shelters.service import NetworkRow
from advocacy.templating import (
    RenderText,
    bdi,
    date_format,
    language_name,
    number_format,
    phone,
    relative_time,
)


@pass_context
def network_rows(context: Context, rows: Sequence[NetworkRow], request_url: Callable[[int], str]) -> Markup:
    """The network board's ``<tr>``s (``shelters/_network.html``)."""
    texts: RenderText = context["texts"]
    _, ngettext = texts.gettext, texts.ngettext
    program_label: Callable[[Any], str] = context["program_label"]
    dial: Callable[[str], str] = context.environment.filters["dial"]
    now = clock.now()
    open_beds, fits, offers, updated = _("Open beds"), _("Fits the needs"), _("What it offers"), _("Updated")
    stale_tag = _("Stale")
    call_first = _("Call before sending them.")
    staff_speak = _("Staff speak:")
    intake_line = _("Intake line:")
    out: list[str] = []
    add = out.append
    # Every message is asked outside the f-strings (the extractor of Python 3.11 does not
    # look inside them), and Markup is only ever put into an f-string: "<li>" + Markup
    # would escape the "<li>".
    for row in rows:
        adult = ngettext("%(num)d adult bed", "%(num)d adult beds", row.open_adult)
        child = ngettext("%(num)d child bed", "%(num)d child beds", row.open_child)
        crib = ngettext("%(num)d crib", "%(num)d cribs", row.open_crib)
        add('  <tr class="app-row--stale">\n' if row.stale else "  <tr>\n")
        add(
            f'    <th scope="row">{bdi(row.public_label)}<br><span class="app-muted">{bdi(row.region)}</span></th>\n'
            f'    <td data-label="{open_beds}">\n'
            '      <ul class="usa-list usa-list--unstyled">\n'
            f"        <li>{adult}</li>\n"
            f"        <li>{child}</li>\n"
            f"        <li>{crib}</li>\n"
            "      </ul>\n"
            "    </td>\n"
            f'    <td data-label="{fits}">{escape(number_format(row.open_matching))}</td>\n'
            f'    <td data-label="{offers}">\n'
            '      <ul class="usa-list usa-list--unstyled">\n'
        )
        if row.open_accessible:
            accessible = ngettext("%(num)d accessible", "%(num)d accessible", row.open_accessible)
            add(f"<li>{accessible}</li>")
        if row.open_pets:
            pets = ngettext("%(num)d with pets allowed", "%(num)d with pets allowed", row.open_pets)
            add(f"<li>{pets}</li>")
        if row.open_family:
            family = ngettext("%(num)d in family rooms", "%(num)d in family rooms", row.open_family)
            add(f"<li>{family}</li>")
        spoken = ", ".join(
            f'<span lang="{escape(tag)}">{bdi(language_name(tag))}</span>' for tag in row.languages
        )
        add(f"        <li>{staff_speak} {spoken}</li>\n")
        if row.cultural_program:
            add(f"<li>{escape(program_label(row.cultural_program))}</li>")
        if row.boys_age_limit is not None:
            boys = ngettext("Boys up to %(num)d year old", "Boys up to %(num)d years old", row.boys_age_limit)
            add(f"<li>{boys}</li>")
        if row.max_stay_days:
            stays = ngettext("Stays up to %(num)d day", "Stays up to %(num)d days", row.max_stay_days)
            add(f"<li>{stays}</li>")
        add(
            f'      </ul>\n    </td>\n    <td data-label="{updated}">{escape(relative_time(row.updated_at, now))}'
        )
        if row.stale:
            add(f' <span class="usa-tag app-tag--stale">{stale_tag}</span> <strong>{call_first}</strong>')
        if row.intake_phone:
            add(
                f'<br>{intake_line} <a href="tel:{escape(row.intake_phone)}">{phone(dial(row.intake_phone))}</a>'
            )
        add('</td>\n    <td class="app-cell--action">')
        if row.open_matching:
            ask = _("Ask %(label)s to hold beds", label=bdi(row.public_label))
            add(f'<a class="usa-button" href="{escape(request_url(row.shelter_id))}">{ask}</a>')
        add("</td>\n  </tr>\n")
    # The template's line ends the last row.
    return Markup("".join(out)[:-1])  # noqa: S704 - every value above is escaped


@pass_context
def bed_rows(context: Context, board: Any, urls: Any, checked: Collection[int]) -> Markup:
    """The staff board's beds (``shelters/_board.html``): one ``<tr>`` per bed, ``checked``
    the ids ticked in the form being shown again."""
    texts: RenderText = context["texts"]
    _ = texts.gettext
    state_label: Callable[[Any], str] = context["state_label"]
    bed_type_label: Callable[[Any], str] = context["bed_type_label"]
    room_label: Callable[[Any], str] = context["room_label"]
    reason_label: Callable[[Any], str] = context["reason_label"]
    now = clock.now()
    holds, stays = board.holds, board.stays
    room, type_, state, details = _("Room"), _("Type"), _("State"), _("Details")
    accessible, pets = _("accessible"), _("pets")
    out: list[str] = []
    add = out.append
    for bed in board.beds:
        bed_id = int(bed.id)
        bed_state = escape(bed.state)
        add(
            f'      <tr class="app-bed app-bed--{bed_state}">\n'
            '        <th scope="row">\n'
            '          <div class="usa-checkbox">\n'
            f'            <input class="usa-checkbox__input" type="checkbox" id="bed-{bed_id}" name="bed_ids"'
            f' value="{bed_id}"{" checked" if bed.id in checked else ""}>\n'
            f'            <label class="usa-checkbox__label" for="bed-{bed_id}">{bdi(bed.label)}</label>\n'
            "          </div>\n"
            "        </th>\n"
            f'        <td data-label="{room}">{bdi(bed.room_label)} <span class="app-muted">'
            f"{escape(room_label(bed.room_type))}"
            f"{f' · {accessible}' if bed.accessible else ''}{f' · {pets}' if bed.pets_allowed else ''}</span></td>\n"
            f'        <td data-label="{type_}">{escape(bed_type_label(bed.bed_type))}</td>\n'
            f'        <td data-label="{state}"><span class="usa-tag app-state app-state--{bed_state}">'
            f"{escape(state_label(bed.state))}</span></td>\n"
            f'        <td data-label="{details}">\n'
        )
        if bed.state == "held" and bed.hold_id in holds:
            ends = _(
                "Hold ends %(when)s.", when=relative_time(holds[bed.hold_id].expires_at, now, threshold=2)
            )
            add(f"{ends}\n")
        elif bed.state == "occupied" and bed.stay_id in stays:
            since = _("Since %(date)s.", date=date_format(stays[bed.stay_id].checked_in_at))
            check_out = _("Check out the household in bed %(bed)s", bed=bed.label)
            add(
                f"            {since}\n"
                '            <button type="submit" class="usa-button usa-button--unstyled"'
                f' formaction="{escape(urls.bed_check_out(bed.id))}" formnovalidate>{check_out}</button>\n'
            )
        elif bed.state == "out_of_service" and bed.out_of_service_reason:
            add(f"{escape(reason_label(bed.out_of_service_reason))}\n")
        add("        </td>\n      </tr>\n")
    # The template's line ends the last row.
    return Markup("".join(out)[:-1])  # noqa: S704 - every value above is escaped
