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
``Labels``.  A message said once per row with a value of its own ("Accept
referral %(token)s") is translated once per render (``texts.ugettext``) and
each row's escaped value put in with ``%``: the text ``Markup %`` gives, without
its cost per row.  The markup is the templates' own, whitespace included (the pages'
tests and ``bench/profile_page.py --save`` compare it).  Nothing is kept
beyond the render.

The staff board's counts, referrals, holds, beds, stays and form fields are
written here; its headings and static text stay in ``shelters/_board.html``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from operator import attrgetter
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from advocacy import clock
from advocacy.shelters.models import DeclineReason
from advocacy.shelters.service import NetworkRow
from advocacy.templating import (
    RenderText,
    bdi,
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
def bed_rows(
    context: Context, board: Any, urls: Any, checked: Collection[int], days: Callable[[Any], str]
) -> Markup:
    """The staff board's beds (``shelters/_board.html``): one ``<tr>`` per bed, ``checked``
    the ids ticked in the form being shown again, ``days`` the render's dates (:func:`advocacy.templating.day_formatter`).

    A message with a value of its own is translated once and each row's value
    put in with ``%`` (what ``Markup %`` does after escaping the value): the
    occupied beds of a household share its "Since …" text.
    """
    texts: RenderText = context["texts"]
    _, ugettext = texts.gettext, texts.ugettext
    state_label: Callable[[Any], str] = context["state_label"]
    bed_type_label: Callable[[Any], str] = context["bed_type_label"]
    room_label: Callable[[Any], str] = context["room_label"]
    reason_label: Callable[[Any], str] = context["reason_label"]
    now = clock.now()
    holds, stays = board.holds, board.stays
    room, type_, state, details = _("Room"), _("Type"), _("State"), _("Details")
    accessible, pets = _("accessible"), _("pets")
    since_text, check_out_text = (
        ugettext("Since %(date)s."),
        ugettext("Check out the household in bed %(bed)s"),
    )
    hold_ends_text = ugettext("Hold ends %(when)s.")
    # What beds share, written once per render: a state's class and label, a room's
    # cell (the beds of a room say the same), a type's label, a hold's or a stay's details.
    state_parts: dict[str, tuple[Markup, Markup]] = {}
    room_cells: dict[tuple[Any, ...], str] = {}
    type_cells: dict[str, Markup] = {}
    ends_by_hold: dict[int, str] = {}
    since_by_stay: dict[int, str] = {}
    out: list[str] = []
    add = out.append
    for bed in board.beds:
        bed_id = int(bed.id)
        try:
            bed_state, shown_state = state_parts[bed.state]
        except KeyError:
            bed_state, shown_state = state_parts[bed.state] = (
                escape(bed.state),
                escape(state_label(bed.state)),
            )
        room_key = (bed.room_label, bed.room_type, bed.accessible, bed.pets_allowed)
        try:
            room_cell = room_cells[room_key]
        except KeyError:
            room_cell = room_cells[room_key] = (
                f'{bdi(bed.room_label)} <span class="app-muted">{escape(room_label(bed.room_type))}'
                f"{f' · {accessible}' if bed.accessible else ''}{f' · {pets}' if bed.pets_allowed else ''}</span>"
            )
        try:
            type_cell = type_cells[bed.bed_type]
        except KeyError:
            type_cell = type_cells[bed.bed_type] = escape(bed_type_label(bed.bed_type))
        label = escape(bed.label)
        add(
            f'      <tr class="app-bed app-bed--{bed_state}">\n'
            '        <th scope="row">\n'
            '          <div class="usa-checkbox">\n'
            f'            <input class="usa-checkbox__input" type="checkbox" id="bed-{bed_id}" name="bed_ids"'
            f' value="{bed_id}"{" checked" if bed.id in checked else ""}>\n'
            # bdi(bed.label), the label escaped once for both of its places
            f'            <label class="usa-checkbox__label" for="bed-{bed_id}"><bdi>{label}</bdi></label>\n'
            "          </div>\n"
            "        </th>\n"
            f'        <td data-label="{room}">{room_cell}</td>\n'
            f'        <td data-label="{type_}">{type_cell}</td>\n'
            f'        <td data-label="{state}"><span class="usa-tag app-state app-state--{bed_state}">'
            f"{shown_state}</span></td>\n"
            f'        <td data-label="{details}">\n'
        )
        if bed.state == "held" and bed.hold_id in holds:
            try:
                ends = ends_by_hold[bed.hold_id]
            except KeyError:
                when = escape(relative_time(holds[bed.hold_id].expires_at, now, threshold=2))
                ends = ends_by_hold[bed.hold_id] = hold_ends_text % {"when": when}
            add(f"{ends}\n")
        elif bed.state == "occupied" and bed.stay_id in stays:
            try:
                since = since_by_stay[bed.stay_id]
            except KeyError:
                day = escape(days(stays[bed.stay_id].checked_in_at))
                since = since_by_stay[bed.stay_id] = since_text % {"date": day}
            check_out = check_out_text % {"bed": label}
            add(
                f"            {since}\n"
                '            <button type="submit" class="usa-button usa-button--unstyled"'
                f' formaction="{escape(urls.bed_check_out(bed_id))}" formnovalidate>{check_out}</button>\n'
            )
        elif bed.state == "out_of_service" and bed.out_of_service_reason:
            add(f"{escape(reason_label(bed.out_of_service_reason))}\n")
        add("        </td>\n      </tr>\n")
    # The template's line ends the last row.
    return Markup("".join(out)[:-1])  # noqa: S704 - every value above is escaped


@pass_context
def count_items(context: Context, counts: dict[str, int]) -> Markup:
    """The staff board's summary: one ``<li>`` per state with its number of beds."""
    state_label: Callable[[Any], str] = context["state_label"]
    out = [
        f'    <li class="app-count app-count--{escape(state)}"><span class="app-count__number">'
        f'{escape(number_format(count))}</span> <span class="app-count__label">{escape(state_label(state))}</span></li>\n'
        for state, count in counts.items()
    ]
    # The template's line ends the last item.
    return Markup("".join(out)[:-1])  # noqa: S704 - every value above is escaped


@pass_context
def referral_rows(context: Context, board: Any, urls: Any, csrf: str) -> Markup:
    """The staff board's open referrals (``shelters/_board.html``): one ``<tr>`` each,
    a pending one with its answers, ``csrf`` the render's token for their forms."""
    texts: RenderText = context["texts"]
    _, ugettext = texts.gettext, texts.ugettext
    referral_label: Callable[[Any], str] = context["referral_label"]
    decline_label: Callable[[Any], str] = context["decline_label"]
    household_text: Callable[[Any], str] = context["household_text"]
    now = clock.now()
    holds, labels_by_hold = board.holds, board.bed_labels_by_hold
    priority = _("Priority")
    priority_tag = f' <span class="usa-tag app-danger">{priority}</span>'
    household, beds_held, hold_ends, status, answer = (
        _("Household"),
        _("Beds held"),
        _("Hold ends"),
        _("Status"),
        _("Answer"),
    )
    reason = _("Reason for declining")
    expected = _("The household is expected. Check it in under Holds, or release the hold if it cannot come.")
    accept_text = ugettext("Accept referral %(token)s")
    decline_text = ugettext("Decline referral %(token)s")
    token_field = f'<input type="hidden" name="csrf_token" value="{escape(csrf)}">'
    options = "".join(
        f'<option value="{escape(reason.value)}">{escape(decline_label(reason.value))}</option>'
        for reason in DeclineReason
    )
    out: list[str] = []
    add = out.append
    for referral in board.referrals:
        hold = holds.get(referral.hold_id)
        token = escape(referral.token)
        referral_id = int(referral.id)
        add(
            "    <tr>\n"
            f'      <th scope="row"><span class="app-token">{token}</span>'
            f"{priority_tag if referral.priority else ''}</th>\n"
            f'      <td data-label="{household}">{escape(household_text(referral))}</td>\n'
            f'      <td data-label="{beds_held}">{escape(", ".join(labels_by_hold.get(referral.hold_id, [])))}</td>\n'
            f'      <td data-label="{hold_ends}">'
            f"{escape(relative_time(hold.expires_at, now, threshold=2)) if hold else ''}</td>\n"
            f'      <td data-label="{status}">{escape(referral_label(referral.status))}</td>\n'
            f'      <td data-label="{answer}">\n'
        )
        if referral.status == "pending":
            add(
                f'        <form method="post" action="{escape(urls.referral_accept(referral_id))}" class="app-inline-form">\n'
                f"          {token_field}\n"
                f'          <button type="submit" class="usa-button">{accept_text % {"token": token}}</button>\n'
                "        </form>\n"
                f'        <form method="post" action="{escape(urls.referral_decline(referral_id))}" class="app-inline-form">\n'
                f"          {token_field}\n"
                f'          <label class="usa-label" for="decline-reason-{referral_id}">{reason}</label>\n'
                f'          <select class="usa-select" id="decline-reason-{referral_id}" name="reason">\n'
                f"{options}          </select>\n"
                f'          <button type="submit" class="usa-button usa-button--secondary">{decline_text % {"token": token}}</button>\n'
                "        </form>\n"
            )
        else:
            # Accepted: the household is expected; declining would break the promise made.
            add(f"        <p>{expected}</p>\n")
        add("      </td>\n    </tr>\n")
    # The template's line ends the last row.
    return Markup("".join(out)[:-1])  # noqa: S704 - every value above is escaped


@pass_context
def hold_cards(context: Context, board: Any, urls: Any, csrf: str) -> Markup:
    """The staff board's active holds, the one ending first first: one card each with its
    check-in (started from the referral's household when a referral holds the beds),
    extension and release, ``csrf`` the render's token for their forms."""
    texts: RenderText = context["texts"]
    _, ugettext = texts.gettext, texts.ugettext
    timeformat: Callable[..., str] = context.environment.filters["timeformat"]
    now = clock.now()
    labels_by_hold = board.bed_labels_by_hold
    # A referred household's numbers are known: start the check-in from them.
    referred: dict[int, Any] = {}
    for referral in board.referrals:
        referred.setdefault(referral.hold_id, referral)
    hold_on, ends_text = ugettext("Hold on %(beds)s"), ugettext("Ends %(when)s (at %(time)s).")
    not_shown = _("beds not shown by the filter")
    referral_word, adults, children = _("Referral"), _("Adults"), _("Children")
    check_in_referral = ugettext("Check in the household of referral %(token)s")
    check_in_hold = _("Check in the household of this hold")
    extend, release = _("Extend this hold"), _("Release this hold")
    token_field = f'<input type="hidden" name="csrf_token" value="{escape(csrf)}">'
    out: list[str] = []
    add = out.append
    for hold in sorted(board.holds.values(), key=attrgetter("expires_at")):
        hold_id = int(hold.id)
        beds = labels_by_hold.get(hold_id)
        heading = hold_on % {"beds": escape(", ".join(beds)) if beds else not_shown}
        referral = referred.get(hold_id)
        if referral is not None:
            token = escape(referral.token)
            # The token is how staff match an arriving household to its referral.
            reference = (
                f'<p class="app-hold__reference">{referral_word} <span class="app-token">{token}</span></p>'
            )
            people, kids = referral.adults, len(referral.ages)
            check_in = check_in_referral % {"token": token}
        else:
            reference, people, kids, check_in = "", 1, 0, check_in_hold
        ends = ends_text % {
            "when": escape(relative_time(hold.expires_at, now, threshold=2)),
            "time": escape(timeformat(hold.expires_at, "short")),
        }
        note = f"<p>{bdi(hold.note)}</p>" if hold.note else ""
        add(
            '    <li class="usa-card app-hold">\n'
            '      <div class="usa-card__container">\n'
            f'        <div class="usa-card__header"><h3 class="usa-card__heading">{heading}</h3>\n'
            f"{reference}</div>\n"
            '        <div class="usa-card__body">\n'
            f"          <p>{ends}</p>\n"
            f"{note}        </div>\n"
            '        <div class="usa-card__footer">\n'
            f'          <form method="post" action="{escape(urls.hold_check_in(hold_id))}" class="app-inline-form app-checkin">\n'
            f"            {token_field}\n"
            f'            <label class="usa-label" for="hold-{hold_id}-adults">{adults}</label>\n'
            '            <input class="usa-input usa-input--small" type="number" min="1" max="12"'
            f' id="hold-{hold_id}-adults" name="adults" value="{escape(people)}" required>\n'
            f'            <label class="usa-label" for="hold-{hold_id}-children">{children}</label>\n'
            '            <input class="usa-input usa-input--small" type="number" min="0" max="12"'
            f' id="hold-{hold_id}-children" name="children" value="{escape(kids)}" required>\n'
            f'            <button type="submit" class="usa-button">{check_in}</button>\n'
            "          </form>\n"
            f'          <form method="post" action="{escape(urls.hold_extend(hold_id))}" class="app-inline-form">\n'
            f"            {token_field}\n"
            f'            <button type="submit" class="usa-button usa-button--outline">{extend}</button>\n'
            "          </form>\n"
            f'          <form method="post" action="{escape(urls.hold_release(hold_id))}" class="app-inline-form">\n'
            f"            {token_field}\n"
            f'            <button type="submit" class="usa-button usa-button--unstyled">{release}</button>\n'
            "          </form>\n"
            "        </div>\n"
            "      </div>\n"
            "    </li>\n"
        )
    # The template's line ends the last card.
    return Markup("".join(out)[:-1])  # noqa: S704 - every value above is escaped


@pass_context
def stay_items(context: Context, board: Any, urls: Any, csrf: str, days: Callable[[Any], str]) -> Markup:
    """The households staying now, the first to arrive first: one ``<li>`` each with its
    check-out, ``csrf`` the render's token for the forms, ``days`` the render's dates."""
    texts: RenderText = context["texts"]
    _, ngettext, ugettext = texts.gettext, texts.ngettext, texts.ugettext
    since = ugettext("since %(date)s")
    check_out = _("Check out this household")
    token_field = f'<input type="hidden" name="csrf_token" value="{escape(csrf)}">'
    out: list[str] = []
    add = out.append
    for stay in sorted(board.stays.values(), key=attrgetter("checked_in_at")):
        adults = ngettext("%(num)d adult", "%(num)d adults", stay.adults)
        children = ngettext("%(num)d child", "%(num)d children", stay.children)
        arrived = since % {"date": escape(days(stay.checked_in_at))}
        note = f" · {bdi(stay.note)}" if stay.note else ""
        add(
            "    <li>\n"
            f'      <form method="post" action="{escape(urls.stay_check_out(stay.id))}" class="app-inline-form">\n'
            f"        {token_field}\n"
            f"        {adults}, {children}, {arrived}{note}"
            f'        <button type="submit" class="usa-button usa-button--outline">{check_out}</button>\n'
            "      </form>\n"
            "    </li>\n"
        )
    # The template's line ends the last item.
    return Markup("".join(out)[:-1])  # noqa: S704 - every value above is escaped
