"""How the summaries name periods: UK dates, months "2026-11", ISO weeks "2026-W48"."""

from __future__ import annotations

import datetime as dt

from publisher.uk_time import LONDON


def uk_day(at: dt.datetime) -> dt.date:
    return at.astimezone(LONDON).date()


def month_of(at: dt.datetime) -> str:
    return uk_day(at).strftime("%Y-%m")


def week_of(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(label: str) -> dt.date:
    """Monday of an ISO week label."""
    return dt.date.fromisocalendar(int(label[:4]), int(label[6:]), 1)


def month_label(period: str) -> str:
    """ "2026-11" -> "Nov 2026"."""
    return dt.date(int(period[:4]), int(period[5:7]), 1).strftime("%b %Y")


def months_back(today: dt.date, count: int) -> list[str]:
    """The last ``count`` months up to and including this one, oldest first."""
    year, month = today.year, today.month
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return found[::-1]


def today_uk() -> dt.date:
    return dt.datetime.now(LONDON).date()
