"""The case list's rows written in Python: the markup ``intake/index.html`` wrote,
without Jinja's cost per output expression (see :mod:`advocacy.shelters.rows`).

Every value is escaped with ``markupsafe.escape`` or goes through a ``Markup``
``%``; every string is translated through the render's own catalog
(``context["texts"]``) and every label through the render's ``Labels``.
Nothing is kept beyond the render: the rows are people's cases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from advocacy.templating import RenderText, bdi, day_formatter, language_name


@pass_context
def case_rows(
    context: Context, cases: Sequence[Any], case_url: Callable[[int], str], open_steps: Mapping[int, int]
) -> Markup:
    """One ``<tr>`` per case of the page (``intake/index.html``)."""
    texts: RenderText = context["texts"]
    _, ngettext = texts.gettext, texts.ngettext
    danger_label: Callable[[Any], str] = context["danger_label"]
    case_status_label: Callable[[Any], str] = context["case_status_label"]
    number, danger, status = _("Case number"), _("Danger"), _("Status")
    advocate, language, opened = _("Advocate"), _("Language"), _("Opened")
    high_tag = _("High danger")
    unscreened_tag = _("Not screened yet")
    day = day_formatter()
    out: list[str] = []
    add = out.append
    for case in cases:
        add(
            "  <tr>\n"
            f'    <td data-label="{number}"><span class="app-token">{escape(case.number)}</span></td>\n'
            f'    <th scope="row"><a href="{escape(case_url(case.id))}">{bdi(case.alias)}</a></th>\n'
            f'    <td data-label="{danger}">\n'
        )
        if case.danger == "high":
            add(f'<span class="usa-tag app-danger">{high_tag}</span>\n')
        elif case.danger == "unscreened":
            add(f'<span class="usa-tag app-danger--none">{unscreened_tag}</span>\n')
        elif case.danger == "standard":
            add(escape(danger_label(case.danger)))
        if case.high_danger and open_steps.get(case.id):
            steps = ngettext("%(num)d protocol step open", "%(num)d protocol steps open", open_steps[case.id])
            add(f'<br><span class="app-muted">{steps}</span>')
        add(
            "    </td>\n"
            f'    <td data-label="{status}">{escape(case_status_label(case.status))}</td>\n'
            f'    <td data-label="{advocate}">{bdi(case.owner_name or "")}</td>\n'
            f'    <td data-label="{language}"><span lang="{escape(case.language)}">'
            f"{bdi(language_name(case.language))}</span></td>\n"
            f'    <td data-label="{opened}">{escape(day(case.opened_at))}</td>\n'
            "  </tr>\n"
        )
    # The template's line ends the last row.
    return Markup("".join(out)[:-1])  # noqa: S704 - every value above is escaped
