"""A service's opening times as one short line in plain words.

"Monday to Friday, 9am to 5pm; Saturday, 10am to 1pm", from either shape a directory
publishes:

- ORUK 3 ``schedules``: ``freq`` WEEKLY (or none), ``byday`` such as "MO,TU,WE",
  ``opens_at``/``closes_at`` such as "09:00:00", and a free-text ``description``;
- ORUK v1 ``regular_schedules``: one item per day, ``weekday`` as a name ("Monday",
  "mon") or a number (1 is Monday, 7 or 0 is Sunday), ``opens_at``, ``closes_at``; and
  ``holiday_schedules`` that close the service on given dates.

Schedules given on the service win; otherwise those on its locations
(``service_at_locations[].location``, ``locations[]``) are read. Days with the same
hours are told together, Monday first, in GOV.UK style ("9:30am", "midday", "to", not a
dash). With no times we can read, the schedule's own words (``description``, else
``notes``) are used, cleaned and capped. Valid-from and valid-to dates are not used to
drop a schedule: that would make the line change with the day of the crawl, not with
the directory, and announce changes nobody made.

Directory data is hostile: how many schedules are read and how long the line is are
capped, unreadable items are skipped, and nothing here raises on any JSON value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from publisher.sources.text import cap, html_to_text, single_line

# Schedule items read from each list, lists read in all, and the line's length.
SCHEDULES_READ = 50
LISTS_READ = 20
LINE_MAX = 200
# Day tokens read from one ``byday``; raw text read before cleaning a description.
DAY_TOKENS_READ = 14
TEXT_READ = 2000
HOLIDAYS_SHOWN = 2

DAYS: tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
_BYDAY = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
_DAY_WORDS = {name.lower(): n for n, name in enumerate(DAYS)} | {
    name[:3].lower(): n for n, name in enumerate(DAYS)
}
_DAY_WORDS |= {"tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3}
_TIME = re.compile(
    r"^\s*(\d{1,2})[:.](\d{2})(?::\d{2}(?:\.\d{1,9})?)?\s*(?:Z|[+-]\d{2}:?\d{2})?\s*$",
    re.IGNORECASE,
)
REGULAR_KEYS = ("schedules", "regular_schedules", "regular_schedule")
HOLIDAY_KEYS = ("holiday_schedules", "holiday_schedule")

ALL_DAY = frozenset({(0, 24 * 60), (0, 24 * 60 - 1)})
Hours = tuple[tuple[int, int], ...]  # (opens, closes) in minutes after midnight


def clock(minutes: int) -> str:
    """9am, 9:30am, midday, 5:30pm, midnight (GOV.UK style)."""
    minutes %= 24 * 60
    if minutes == 0:
        return "midnight"
    if minutes == 12 * 60:
        return "midday"
    hour, minute = divmod(minutes, 60)
    suffix = "am" if hour < 12 else "pm"
    hour = hour % 12 or 12
    return f"{hour}{suffix}" if minute == 0 else f"{hour}:{minute:02d}{suffix}"


def _minutes(value: Any) -> int | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    found = _TIME.match(value)
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2))
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    return hour * 60 + minute


def _items(holder: Any, keys: Iterable[str]) -> list[dict[str, Any]]:
    if not isinstance(holder, Mapping):
        return []
    found: list[dict[str, Any]] = []
    for key in keys:
        value = holder.get(key)
        if isinstance(value, Mapping):  # one schedule given as an object, not a list
            value = [value]
        if isinstance(value, list):
            found.extend(v for v in value[:SCHEDULES_READ] if isinstance(v, dict))
    return found


def _places(raw: Mapping[str, Any]) -> list[Any]:
    """The service's locations and service-at-locations, where schedules also sit."""
    places: list[Any] = []
    sals = raw.get("service_at_locations")
    for sal in sals[:LISTS_READ] if isinstance(sals, list) else []:
        if isinstance(sal, Mapping):
            places.extend([sal, sal.get("location")])
    locations = raw.get("locations")
    places.extend(locations[:LISTS_READ] if isinstance(locations, list) else [])
    return places


def _gathered(raw: Mapping[str, Any], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Schedules on the service, else on its places; capped, duplicates once."""
    items = _items(raw, keys)
    if not items:
        for place in _places(raw):
            items.extend(_items(place, keys))
            if len(items) >= SCHEDULES_READ:
                break
    unique: list[dict[str, Any]] = []
    for item in items[:SCHEDULES_READ]:
        if item not in unique:
            unique.append(item)
    return unique


def _days(item: Mapping[str, Any]) -> list[int] | None:
    """The days an item is for (Monday is 0), or None when they cannot be read simply."""
    weekday = item.get("weekday")
    if isinstance(weekday, bool):
        return None
    if isinstance(weekday, int):
        return [(weekday - 1) % 7] if 0 <= weekday <= 7 else None
    if isinstance(weekday, str) and weekday.strip():
        word = weekday.strip().lower()
        if word.isdigit():
            return _days({"weekday": int(word[:2])})
        return [_DAY_WORDS[word]] if word in _DAY_WORDS else None
    freq, byday = item.get("freq"), item.get("byday")
    if freq not in (None, "") and not (isinstance(freq, str) and freq.upper() == "WEEKLY"):
        return None  # monthly and the like: told in the schedule's own words
    if not isinstance(byday, str) or not byday.strip():
        return None
    days: list[int] = []
    for token in byday.upper().split(",", DAY_TOKENS_READ)[:DAY_TOKENS_READ]:
        token = token.strip()
        if token not in _BYDAY:
            return None  # "1MO" (the first Monday) and unknown tokens
        days.append(_BYDAY[token])
    return days


def _week(items: Iterable[Mapping[str, Any]]) -> dict[int, Hours]:
    """Day -> its opening hours, from the items that can be read."""
    week: dict[int, set[tuple[int, int]]] = {}
    for item in items:
        opens, closes = _minutes(item.get("opens_at")), _minutes(item.get("closes_at"))
        days = _days(item)
        if opens is None or closes is None or opens == closes or not days:
            continue
        for day in days:
            week.setdefault(day, set()).add((opens, closes))
    return {day: tuple(sorted(hours)) for day, hours in week.items()}


def _day_words(days: list[int]) -> str:
    """[0,1,2,3,4] -> "Monday to Friday"; [0,2] -> "Monday and Wednesday"."""
    if days == list(range(7)):
        return "Every day"
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAYS[run[0]]} to {DAYS[run[-1]]}")
        else:
            parts.extend(DAYS[d] for d in run)
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _hours_words(hours: Hours) -> str:
    return " and ".join(
        "all day" if (o, c) in ALL_DAY else f"{clock(o)} to {clock(c)}" for o, c in hours
    )


def week_words(week: Mapping[int, Hours]) -> str:
    """Days with the same hours together, in the order of their first day."""
    by_hours: dict[Hours, list[int]] = {}
    for day in sorted(week):
        by_hours.setdefault(week[day], []).append(day)
    groups = sorted(by_hours.items(), key=lambda group: group[1][0])
    return "; ".join(f"{_day_words(days)}, {_hours_words(hours)}" for hours, days in groups)


def _date_words(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        day = dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
    return f"{day.day} {day:%B %Y}"


def _closures(items: Iterable[Mapping[str, Any]]) -> list[str]:
    """Closed on given dates ("closed 24 December 2026 to 2 January 2027"), the first few."""
    told: list[str] = []
    for item in items:
        if item.get("closed") is not True:
            continue
        start, end = _date_words(item.get("start_date")), _date_words(item.get("end_date"))
        if start is None:
            continue
        text = f"closed {start}" + (f" to {end}" if end and end != start else "")
        if text not in told:
            told.append(text)
    return told[:HOLIDAYS_SHOWN]


def _own_words(items: Iterable[Mapping[str, Any]]) -> str | None:
    """The first schedule description (else notes) that says anything, as one line."""
    for key in ("description", "notes"):
        for item in items:
            value = item.get(key)
            if isinstance(value, str) and value.strip():
                text = single_line(html_to_text(value[:TEXT_READ]), LINE_MAX).rstrip(" .")
                if text:
                    return text
    return None


def opening_times(raw: Any) -> str | None:
    """One line of opening times for a raw ORUK service record, or None."""
    if not isinstance(raw, Mapping):
        return None
    regular = _gathered(raw, REGULAR_KEYS)
    closed = _closures(_gathered(raw, HOLIDAY_KEYS))
    told = week_words(_week(regular)) or _own_words(regular)
    if closed:
        told = "; ".join([told, *closed]) if told else "C" + "; ".join(closed)[1:]
    return cap(told, LINE_MAX) if told else None
