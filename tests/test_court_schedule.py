"""When a court event's reminders go out: the pure planning function and times on the court's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from advocacy.court import schedule as sched
from advocacy.court.zones import NonexistentTime, is_zone, local, to_utc

CHICAGO = ZoneInfo("America/Chicago")
STANDARD = sched.parse_schedule(sched.DEFAULT_SCHEDULE)
DENSER = sched.parse_schedule(sched.DEFAULT_DENSER)


def chicago(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CHICAGO).astimezone(UTC)  # type: ignore[misc]


def times(planned: list[sched.Planned]) -> list[tuple[str, datetime]]:
    return [(p.kind, p.send_after.astimezone(CHICAGO).replace(tzinfo=None)) for p in planned]


def test_the_default_schedule_is_seven_days_one_day_and_the_morning_of() -> None:
    hearing = chicago(2026, 12, 15, 9, 30)
    planned = sched.plan(hearing, CHICAGO, STANDARD, now=chicago(2026, 12, 1, 12, 0))
    assert times(planned) == [
        ("reminder_7d", datetime(2026, 12, 8, 9, 30)),
        ("reminder_1d", datetime(2026, 12, 14, 9, 30)),
        ("reminder_morning", datetime(2026, 12, 15, 8, 0)),
    ]
    # Each may still arrive until half an hour before the hearing, never after.
    assert {p.valid_until for p in planned} == {hearing - sched.ARRIVE_BY}


def test_a_high_danger_case_adds_three_days_and_two_hours_before() -> None:
    hearing = chicago(2026, 12, 15, 13, 0)
    offsets = sched.schedule_for(STANDARD, DENSER, dense=True)
    planned = sched.plan(hearing, CHICAGO, offsets, now=chicago(2026, 12, 1, 12, 0))
    assert [kind for kind, _at in times(planned)] == [
        "reminder_7d",
        "reminder_3d",
        "reminder_1d",
        "reminder_morning",
        "reminder_2h",
    ]
    assert times(planned)[-1] == ("reminder_2h", datetime(2026, 12, 15, 11, 0))
    assert sched.schedule_for(STANDARD, DENSER, dense=False) == STANDARD


def test_a_reminder_whose_time_has_passed_when_planned_is_not_sent_late() -> None:
    hearing = chicago(2026, 12, 15, 9, 30)
    # Entered five days ahead: the "7 days before" is already in the past.
    planned = sched.plan(hearing, CHICAGO, STANDARD, now=chicago(2026, 12, 10, 16, 0))
    assert [p.kind for p in planned] == ["reminder_1d", "reminder_morning"]
    # A minute after the "1 day before" moment, it is gone as well.
    planned = sched.plan(hearing, CHICAGO, STANDARD, now=chicago(2026, 12, 14, 9, 31))
    assert [p.kind for p in planned] == ["reminder_morning"]


def test_a_morning_reminder_for_an_early_hearing_is_left_out() -> None:
    """At 8:15 the "morning of" at 8:00 would arrive with no time to get there."""
    hearing = chicago(2026, 12, 15, 8, 15)
    planned = sched.plan(hearing, CHICAGO, STANDARD, now=chicago(2026, 12, 1, 12, 0))
    assert [p.kind for p in planned] == ["reminder_7d", "reminder_1d"]


def test_days_before_keep_the_hearing_time_across_a_change_of_daylight_saving_time() -> None:
    """Clocks fall back on 1 November 2026: seven days before a 9:00 hearing is still 9:00."""
    hearing = chicago(2026, 11, 5, 9, 0)
    planned = sched.plan(hearing, CHICAGO, STANDARD, now=chicago(2026, 10, 1, 12, 0))
    assert times(planned)[0] == ("reminder_7d", datetime(2026, 10, 29, 9, 0))
    assert hearing - planned[0].send_after == timedelta(days=7, hours=1)


def test_hours_before_count_real_time_across_the_spring_night() -> None:
    """Clocks jump from 2:00 to 3:00 on 8 March 2026: two hours before 3:30 is 0:30."""
    hearing = chicago(2026, 3, 8, 3, 30)
    planned = sched.plan(hearing, CHICAGO, sched.parse_schedule("2h"), now=chicago(2026, 3, 1, 12, 0))
    assert times(planned) == [("reminder_2h", datetime(2026, 3, 8, 0, 30))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d 1d 08:00", "7d 1d 08:00"),
        ("3d, 2h", "3d 2h"),
        ("1D 1d  7:30", "1d 07:30"),
        ("", ""),
    ],
)
def test_a_schedule_reads_as_the_admin_types_it(text: str, expected: str) -> None:
    assert sched.schedule_text(sched.parse_schedule(text)) == expected


@pytest.mark.parametrize("bad", ["7", "0d", "31d", "99h", "25:00", "8:61", "tomorrow", "-1d"])
def test_a_schedule_that_cannot_be_read_names_the_part_at_fault(bad: str) -> None:
    with pytest.raises(sched.ScheduleError) as caught:
        sched.parse_schedule(f"1d {bad}")
    assert caught.value.token == bad


def test_planning_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        sched.plan(datetime(2026, 12, 15, 9, 0), CHICAGO, STANDARD, now=chicago(2026, 12, 1, 12, 0))


# --- times on the court's clock ----------------------------------------------------------------


def test_a_time_entered_on_the_courts_clock_is_stored_as_utc() -> None:
    assert to_utc(date(2026, 12, 15), time(9, 0), "America/Chicago") == datetime(
        2026, 12, 15, 15, 0, tzinfo=UTC
    )
    assert to_utc(date(2026, 7, 15), time(9, 0), "America/Chicago") == datetime(
        2026, 7, 15, 14, 0, tzinfo=UTC
    )
    assert local(datetime(2026, 7, 15, 14, 0, tzinfo=UTC), "America/Chicago").hour == 9


def test_a_time_skipped_when_clocks_move_forward_is_refused() -> None:
    with pytest.raises(NonexistentTime):
        to_utc(date(2026, 3, 8), time(2, 30), "America/Chicago")
    # The minutes either side exist.
    assert to_utc(date(2026, 3, 8), time(1, 59), "America/Chicago") == datetime(2026, 3, 8, 7, 59, tzinfo=UTC)
    assert to_utc(date(2026, 3, 8), time(3, 0), "America/Chicago") == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)


def test_a_time_that_happens_twice_when_clocks_fall_back_is_its_first_occurrence() -> None:
    assert to_utc(date(2026, 11, 1), time(1, 30), "America/Chicago") == datetime(
        2026, 11, 1, 6, 30, tzinfo=UTC
    )


def test_only_iana_zone_names_are_zones() -> None:
    assert is_zone("America/Chicago") and is_zone("America/Puerto_Rico")
    assert not is_zone("CST") and not is_zone("Central") and not is_zone("") and not is_zone("../etc")
