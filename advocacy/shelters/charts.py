"""Occupancy over time as an SVG line chart drawn on the server.

No chart library and no script: the CSP allows none, and a chart that is
plain markup prints, works without JavaScript and costs nothing to load.
This module does the geometry (where each point, tick and label goes) and
writes the words a screen reader hears; ``templates/shelters/manage/_chart.html``
draws it.  The page always has the same numbers in a table below the chart,
which is the text alternative.

The chart is drawn left to right (oldest day on the left) in every language:
the template fixes ``direction="ltr"`` on the SVG so labels are placed the
same way on right-to-left pages, while each label's own text (an Arabic
month name) is still shaped right to left by the browser.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from babel.dates import format_skeleton
from flask_babel import format_date, format_decimal, get_locale, ngettext
from flask_babel import gettext as _

from advocacy.shelters.service import OccupancyPoint

WIDTH = 720
HEIGHT = 320
MARGIN_START = 56  # room for the numbers of the vertical axis
MARGIN_END = 20
MARGIN_TOP = 16
MARGIN_BOTTOM = 44  # room for the dates
#: At most this many date labels, so they never overlap (90 days: every 15th).
MAX_X_LABELS = 7
MAX_Y_TICKS = 6


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    #: Shown on hover ("5 Apr: 7 of 10 beds occupied").
    label: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    #: SVG ``points`` of each line, one "x,y" pair per day.
    occupied_points: str
    in_service_points: str
    #: The area under the occupied line, closed along the bottom axis.
    occupied_area: str
    markers: list[Marker]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    title: str
    desc: str


def nice_step(top: int, max_ticks: int = MAX_Y_TICKS) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50... that keeps the axis to ``max_ticks`` steps."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if math.ceil(top / step) <= max_ticks:
                return step
        magnitude *= 10


def short_day(day: date) -> str:
    """A date short enough for an axis ("Apr 5", "5 abr"), in the page's locale.

    Flask-Babel has no skeleton formatting, so Babel's is called with the
    locale Flask-Babel chose (the registry's fallback for hmn, ksw and oj).
    """
    return format_skeleton("MMMd", day, locale=get_locale())


def _number(value: int) -> str:
    return format_decimal(value)


def occupancy_chart(points: Sequence[OccupancyPoint]) -> LineChart:
    """The chart of occupied beds against beds in service, one point per day."""
    if not points:
        raise ValueError("an occupancy chart needs at least one day")
    left, right = float(MARGIN_START), float(WIDTH - MARGIN_END)
    top, bottom = float(MARGIN_TOP), float(HEIGHT - MARGIN_BOTTOM)
    highest = max(max(p.in_service for p in points), max(p.occupied for p in points), 1)
    step = nice_step(highest)
    axis_top = step * math.ceil(highest / step)

    def x(index: int) -> float:
        if len(points) == 1:
            return (left + right) / 2
        return round(left + (right - left) * index / (len(points) - 1), 1)

    def y(value: int) -> float:
        return round(bottom - (bottom - top) * value / axis_top, 1)

    def line(values: Sequence[int]) -> str:
        return " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values))

    occupied = [p.occupied for p in points]
    every = math.ceil(len(points) / MAX_X_LABELS)
    last = len(points) - 1
    # Counted back from the last day, so today always has its label.
    x_ticks = [Tick(x(i), short_day(points[i].day)) for i in range(len(points)) if (last - i) % every == 0]
    y_ticks = [Tick(y(v), _number(v)) for v in range(0, axis_top + 1, step)]
    markers = [
        Marker(
            x(i),
            y(p.occupied),
            ngettext(
                "%(date)s: %(occupied)s of %(in_service)s bed occupied",
                "%(date)s: %(occupied)s of %(in_service)s beds occupied",
                p.in_service,
                date=format_date(p.day, "medium"),
                occupied=_number(p.occupied),
                in_service=_number(p.in_service),
            ),
        )
        for i, p in enumerate(points)
    ]
    return LineChart(
        width=WIDTH,
        height=HEIGHT,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        occupied_points=line(occupied),
        in_service_points=line([p.in_service for p in points]),
        occupied_area=f"{x(0)},{bottom} {line(occupied)} {x(last)},{bottom}",
        markers=markers,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        title=_("Occupied beds and beds in service, per day"),
        desc=describe(points),
    )


def describe(points: Sequence[OccupancyPoint]) -> str:
    """What the chart shows, in one or two sentences: the range, the busiest
    day and today, so a screen reader user hears the point of it first."""
    first, last = points[0], points[-1]
    busiest = max(points, key=lambda p: (p.rate, p.occupied, p.day))
    summary = ngettext(
        "From %(first)s to %(last)s. On %(last)s, %(occupied)s of %(in_service)s bed in service was occupied.",
        "From %(first)s to %(last)s. On %(last)s, %(occupied)s of %(in_service)s beds in service were occupied.",
        last.in_service,
        first=format_date(first.day, "medium"),
        last=format_date(last.day, "medium"),
        occupied=_number(last.occupied),
        in_service=_number(last.in_service),
    )
    if busiest.occupied == 0:
        return summary + " " + _("No bed was occupied in this period.")
    return (
        summary
        + " "
        + ngettext(
            "The fullest day was %(date)s: %(occupied)s of %(in_service)s bed.",
            "The fullest day was %(date)s: %(occupied)s of %(in_service)s beds.",
            busiest.in_service,
            date=format_date(busiest.day, "medium"),
            occupied=_number(busiest.occupied),
            in_service=_number(busiest.in_service),
        )
    )
