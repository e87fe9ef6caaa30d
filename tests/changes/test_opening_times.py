"""Opening times as one short line in plain words, from either ORUK shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.sources.opening_times import LINE_MAX, clock, opening_times

DATA = Path(__file__).resolve().parents[1] / "data" / "oruk"


def weekly(byday: str, opens: Any, closes: Any, **more: Any) -> dict[str, Any]:
    return {"freq": "WEEKLY", "byday": byday, "opens_at": opens, "closes_at": closes, **more}


def regular(day: Any, opens: Any, closes: Any) -> dict[str, Any]:
    return {"weekday": day, "opens_at": opens, "closes_at": closes}


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (9 * 60, "9am"),
        (9 * 60 + 30, "9:30am"),
        (12 * 60, "midday"),
        (12 * 60 + 15, "12:15pm"),
        (17 * 60 + 5, "5:05pm"),
        (0, "midnight"),
        (24 * 60, "midnight"),
        (45, "12:45am"),
    ],
)
def test_times_are_said_the_gov_uk_way(minutes: int, words: str) -> None:
    assert clock(minutes) == words


def test_consecutive_days_with_the_same_hours_become_a_range() -> None:
    raw = {
        "schedules": [
            weekly("MO,TU,WE,TH,FR", "09:00:00", "17:00:00"),
            weekly("SA", "10:00:00", "13:00:00"),
        ]
    }
    assert opening_times(raw) == "Monday to Friday, 9am to 5pm; Saturday, 10am to 1pm"


def test_days_are_told_monday_first_however_they_are_given() -> None:
    raw = {
        "schedules": [
            weekly("SU", "10:00", "12:00"),
            weekly("FR,TH,WE", "09:30:00", "12:00:00"),
            weekly("MO", "09:30:00", "12:00:00"),
        ]
    }
    assert opening_times(raw) == (
        "Monday and Wednesday to Friday, 9:30am to midday; Sunday, 10am to midday"
    )


def test_two_sessions_a_day_and_every_day() -> None:
    days = "MO,TU,WE,TH,FR,SA,SU"
    raw = {"schedules": [weekly(days, "09:00", "12:00"), weekly(days, "13:30", "16:00")]}
    assert opening_times(raw) == "Every day, 9am to midday and 1:30pm to 4pm"
    assert opening_times({"schedules": [weekly("SA,SU", "00:00", "24:00")]}) == (
        "Saturday and Sunday, all day"
    )


def test_the_official_v3_example() -> None:
    raw = json.loads((DATA / "v3-examples" / "service_full.json").read_text("utf-8"))
    assert opening_times(raw) == "Thursday and Friday, 10am to 6pm"


def test_v1_regular_schedules_by_name_or_number_and_on_locations() -> None:
    raw = {
        "regular_schedules": [
            regular("Monday", "09:00", "17:00"),
            regular("tue", "09:00", "17:00"),
            regular(3, "09:00", "17:00"),
            regular("4", "09:00", "17:00"),
            regular(7, "11:00", "15:00"),
        ]
    }
    assert opening_times(raw) == "Monday to Thursday, 9am to 5pm; Sunday, 11am to 3pm"
    on_location = {
        "service_at_locations": [
            {"location": {"regular_schedules": [regular("Saturday", "08:15", "12:45")]}}
        ]
    }
    assert opening_times(on_location) == "Saturday, 8:15am to 12:45pm"
    on_sal = {"locations": [{"schedules": [weekly("WE", "18:00", "20:00")]}]}
    assert opening_times(on_sal) == "Wednesday, 6pm to 8pm"


def test_the_service_s_own_schedules_win_over_its_locations() -> None:
    raw = {
        "schedules": [weekly("MO", "09:00", "17:00")],
        "service_at_locations": [{"schedules": [weekly("TU", "09:00", "17:00")]}],
    }
    assert opening_times(raw) == "Monday, 9am to 5pm"


def test_holiday_closures_are_added_when_simple() -> None:
    raw = {
        "regular_schedules": [regular("Friday", "10:00", "14:00")],
        "holiday_schedules": [
            {"closed": True, "start_date": "2026-12-24", "end_date": "2027-01-02"},
            {"closed": False, "start_date": "2026-08-01", "opens_at": "10:00"},
            {"closed": True, "start_date": "not a date"},
        ],
    }
    assert opening_times(raw) == ("Friday, 10am to 2pm; closed 24 December 2026 to 2 January 2027")
    only = {"holiday_schedules": [{"closed": True, "start_date": "2026-12-25"}]}
    assert opening_times(only) == "Closed 25 December 2026"


def test_the_schedule_s_own_words_when_there_are_no_times() -> None:
    raw = {
        "schedules": [
            {"description": "  <p>Term time only,&nbsp;by appointment.</p>  ", "notes": "x"}
        ]
    }
    assert opening_times(raw) == "Term time only, by appointment"
    monthly = {"schedules": [{"freq": "MONTHLY", "byday": "1MO", "notes": "First Monday"}]}
    assert opening_times(monthly) == "First Monday"
    long = {"schedules": [{"description": "Open " + "very " * 500 + "often"}]}
    told = opening_times(long)
    assert told is not None and len(told) <= LINE_MAX and told.endswith("…")


def test_malformed_times_are_ignored() -> None:
    raw = {
        "schedules": [
            weekly("MO", "9am", "5pm"),
            weekly("TU", "25:00", "26:00"),
            weekly("WE", "09:61", "10:00"),
            weekly("TH", 9, 17),
            weekly("FR", "10:00", "10:00"),
            weekly("XX", "10:00", "11:00"),
            weekly("SA", "10:00", None),
            {"weekday": True, "opens_at": "09:00", "closes_at": "10:00"},
            {"weekday": "Funday", "opens_at": "09:00", "closes_at": "10:00"},
            weekly("SU", "14:00:00Z", "16:30:00+01:00"),
        ]
    }
    assert opening_times(raw) == "Sunday, 2pm to 4:30pm"


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        "text",
        {},
        {"schedules": None},
        {"schedules": ""},
        {"schedules": "MO 9-5"},
        {"schedules": [None, 1, "x", []]},
        {"service_at_locations": "x", "locations": [1, None]},
        {"schedules": [{"description": "   "}]},
    ],
)
def test_nothing_readable_is_none(raw: Any) -> None:
    assert opening_times(raw) is None


def test_huge_input_is_capped() -> None:
    days = ",".join(["MO", "TU", "WE", "TH", "FR", "SA", "SU"] * 2000)
    many = [
        weekly("MO", f"{h:02d}:{m:02d}", f"{h:02d}:{m + 1:02d}") for h in range(24) for m in (0, 30)
    ]
    raw = {
        "schedules": [weekly(days, "09:00", "17:00"), *many * 100],
        "service_at_locations": [{"schedules": many}] * 10_000,
    }
    told = opening_times(raw)
    assert told is not None and len(told) <= LINE_MAX
    assert told.startswith("Monday, midnight to 12:01am and")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)
schedule_like = st.fixed_dictionaries(
    {},
    optional={
        "freq": st.sampled_from(["WEEKLY", "weekly", "MONTHLY", "", None]) | json_values,
        "byday": st.sampled_from(["MO", "MO,TU", "1MO", "", "SU,SA"]) | json_values,
        "weekday": st.sampled_from(["Monday", "7", 0, 8, -1, "tues"]) | json_values,
        "opens_at": st.sampled_from(["09:00", "24:00", "9", "12:00:00"]) | json_values,
        "closes_at": st.sampled_from(["17:00", "00:00", "12:30"]) | json_values,
        "description": json_values,
        "notes": json_values,
        "closed": json_values,
        "start_date": st.sampled_from(["2026-12-24", "2026-02-30"]) | json_values,
    },
)


@settings(max_examples=100, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "schedules": st.lists(schedule_like, max_size=6) | json_values,
            "regular_schedules": st.lists(schedule_like, max_size=6) | json_values,
            "holiday_schedules": st.lists(schedule_like, max_size=3) | json_values,
            "service_at_locations": st.lists(
                st.fixed_dictionaries({"schedules": st.lists(schedule_like, max_size=3)}),
                max_size=3,
            )
            | json_values,
        },
    )
)
def test_any_input_gives_a_short_line_or_none(raw: dict[str, Any]) -> None:
    told = opening_times(raw)
    assert told is None or (0 < len(told) <= LINE_MAX and "\n" not in told)
