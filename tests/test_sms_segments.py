"""Segment counting: what a reminder costs, and when one character doubles it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from advocacy.notify.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SegmentInfo,
    encoding,
    measure,
    segments,
)


def test_the_gsm_tables_have_the_size_of_the_standard():
    # 128 basic positions less the escape; ten extension characters usable in text.
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert "\x1b" not in GSM7_BASIC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reminder: your appointment is Tue 3 Dec at 9:00 AM. Reply C to confirm.", "GSM-7"),
        ("Precio: 5€ {no} [sí]", "UCS-2"),  # í is not in GSM-7 (Spanish shift tables are not used)
        ("Costs 5€ [approx] {est} ~ ^ | \\", "GSM-7"),
        ("Su cita es el miércoles", "GSM-7"),  # é is in the basic set
        ("Su cita es el sábado", "UCS-2"),  # á is not
        ("11:30\u202fAM", "UCS-2"),  # the narrow no-break space Babel puts before AM
        ("موعدك غدا", "UCS-2"),
        ("ကညီကျိာ်", "UCS-2"),
        ("See you 👋", "UCS-2"),
        ("", "GSM-7"),
        ("\x1b", "UCS-2"),  # a bare escape is not a character GSM-7 can carry
    ],
)
def test_encoding_is_decided_by_every_character(text, expected):
    assert encoding(text) == expected


@pytest.mark.parametrize(
    ("length", "expected"),
    [(1, 1), (159, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_segments_are_160_single_and_153_per_part(length, expected):
    assert segments("a" * length) == expected


@pytest.mark.parametrize(
    ("length", "expected"),
    [(1, 1), (69, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_segments_are_70_single_and_67_per_part(length, expected):
    assert segments("ب" * length) == expected


def test_an_extension_character_costs_two_septets():
    assert measure("€").units == 2
    assert measure("a" * 158 + "€") == SegmentInfo("GSM-7", 160, 1)
    assert measure("a" * 159 + "€") == SegmentInfo("GSM-7", 161, 2)


def test_an_escape_pair_is_never_split_across_parts():
    # 152 septets, then "€" (2) would straddle the 153rd septet: it moves to part two.
    text = "a" * 152 + "€" + "a" * 152
    info = measure(text)
    assert info.units == 306  # would fit two parts of 153 if the pair could be split
    assert info.segments == 3
    # Without the straddle the same number of septets fits two parts.
    assert segments("a" * 151 + "€" + "a" * 153) == 2


def test_one_character_outside_gsm7_turns_160_characters_into_three_segments():
    assert segments("a" * 160) == 1
    assert measure("a" * 159 + "á") == SegmentInfo("UCS-2", 160, 3)


def test_an_emoji_counts_two_utf16_units():
    assert measure("👋") == SegmentInfo("UCS-2", 2, 1)
    assert measure("a" * 68 + "👋") == SegmentInfo("UCS-2", 70, 1)
    assert measure("a" * 69 + "👋") == SegmentInfo("UCS-2", 71, 2)


def test_a_surrogate_pair_is_never_split_across_parts():
    # 66 units, then an emoji (2) would straddle the 67th unit: it moves to part two.
    text = "a" * 66 + "👋" + "a" * 66
    assert measure(text).units == 134
    assert segments(text) == 3
    assert segments("a" * 65 + "👋" + "a" * 67) == 2


def test_combining_marks_count_as_their_own_code_points():
    # Karen and Arabic vowel signs are separate code points: each is a unit.
    word = "ကညီကျိာ်"
    assert measure(word).units == len(word) == 8


def test_empty_text_is_one_segment():
    assert measure("") == SegmentInfo("GSM-7", 0, 1)


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=700))
def test_gsm7_parts_never_hold_more_than_153_septets(text):
    info = measure(text)
    assert info.encoding == "GSM-7"
    assert info.units == len(text) + sum(ch in GSM7_EXTENSION for ch in text)
    if info.units <= 160:
        assert info.segments == 1
    else:
        # At least enough parts for the septets, at most one more per straddled pair.
        assert -(-info.units // 153) <= info.segments <= -(-info.units // 152)


@given(st.text(min_size=1, max_size=400))
def test_ucs2_parts_never_hold_more_than_67_units(text):
    info = measure(text)
    if info.encoding == "UCS-2":
        assert info.units == len(text.encode("utf-16-le")) // 2
        if info.units > 70:
            assert -(-info.units // 67) <= info.segments <= -(-info.units // 66)
