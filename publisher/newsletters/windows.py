"""When editions close, computed in Europe/London and stored in UTC.

A weekly edition closes at the send time on the send day, local time, so across a clock
change the UTC gap between two editions is 167 or 169 hours, never a "week" of 168.
Windows are contiguous: each edition starts where the previous one of its frequency
ended (see building.py); these functions only say where a window ends.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from publisher.models import Frequency
from publisher.newsletters.settings import EditionSettings

LONDON = ZoneInfo("Europe/London")


def _local(day: dt.date, at: dt.time) -> dt.datetime:
    # 07:00 is never in the 01:00-02:00 gap or fold; fold=0 picks the first if someone
    # configures a time that is.
    return dt.datetime.combine(day, at, tzinfo=LONDON).astimezone(dt.UTC)


def latest_close(frequency: Frequency, now: dt.datetime, settings: EditionSettings) -> dt.datetime:
    """The most recent scheduled close at or before ``now`` (UTC in, UTC out)."""
    if frequency is Frequency.IMMEDIATE:
        step = settings.immediate_minutes * 60
        stamp = int(now.timestamp()) // step * step
        return dt.datetime.fromtimestamp(stamp, dt.UTC)
    today = now.astimezone(LONDON).date()
    if frequency is Frequency.WEEKLY:
        day = today - dt.timedelta(days=(today.weekday() - settings.weekly_day) % 7)
        close = _local(day, settings.send_time)
        if close > now:
            close = _local(day - dt.timedelta(days=7), settings.send_time)
        return close
    day = today.replace(day=settings.monthly_day)
    close = _local(day, settings.send_time)
    if close > now:
        close = _local(_month_before(day), settings.send_time)
    return close


def previous_close(
    frequency: Frequency, close: dt.datetime, settings: EditionSettings
) -> dt.datetime:
    """The scheduled close one period before ``close`` (for a frequency's first edition)."""
    if frequency is Frequency.IMMEDIATE:
        return close - dt.timedelta(minutes=settings.immediate_minutes)
    local = close.astimezone(LONDON)
    if frequency is Frequency.WEEKLY:
        return _local(local.date() - dt.timedelta(days=7), local.time())
    return _local(_month_before(local.date()), local.time())


def _month_before(day: dt.date) -> dt.date:
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return day.replace(year=year, month=month)


def describe(frequency: Frequency, start: dt.datetime, end: dt.datetime) -> str:
    """A window in words, local time: "7 to 14 November 2026"."""
    first = start.astimezone(LONDON)
    last = (end - dt.timedelta(seconds=1)).astimezone(LONDON)
    if frequency is Frequency.IMMEDIATE:
        return f"{last.day} {last:%B %Y}, up to {end.astimezone(LONDON):%H:%M}"
    if first.year != last.year:
        return f"{first.day} {first:%B %Y} to {last.day} {last:%B %Y}"
    if first.month != last.month:
        return f"{first.day} {first:%B} to {last.day} {last:%B %Y}"
    return f"{first.day} to {last.day} {last:%B %Y}"
