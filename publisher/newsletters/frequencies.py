"""One entry per newsletter frequency: what people see it called, when its editions close,
and how its window is described. Everything that differs between frequencies is here;
``frequency_rule`` matches the enum exhaustively (``assert_never``), so a frequency
without an entry fails the type check instead of quietly behaving like another.

Closes are computed in Europe/London and returned in UTC: an edition that closes at the
send time closes at that local time on both sides of a clock change, so the UTC gap
between two daily editions is 23 or 25 hours on those days, and between two weekly ones
167 or 169 hours, never a fixed 24 or 168.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import assert_never

from publisher.config import WEEKDAYS, EditionSettings
from publisher.models.subscribers import Frequency
from publisher.uk_time import LONDON


@dataclass(frozen=True)
class FrequencyRule:
    frequency: Frequency
    # The archive's name for an edition: "Weekly news".
    label: str
    # The sign-up and manage pages' choice: "Once a week, on Friday".
    choice: Callable[[EditionSettings], str]
    # The most recent scheduled close at or before ``now`` (UTC in, UTC out).
    latest_close: Callable[[dt.datetime, EditionSettings], dt.datetime]
    # The scheduled close one period before ``close`` (for a frequency's first edition).
    previous_close: Callable[[dt.datetime, EditionSettings], dt.datetime]
    # An edition is made only when there is news (the next one starts where the last
    # made one ended); otherwise every window gets an edition, even an empty one.
    only_with_news: bool = False
    # A window in words, local time.
    describe: Callable[[dt.datetime, dt.datetime], str] = lambda s, e: date_range(s, e)


def _local(day: dt.date, at: dt.time) -> dt.datetime:
    # 07:00 is never in the 01:00-02:00 gap or fold; fold=0 picks the first if someone
    # configures a time that is.
    return dt.datetime.combine(day, at, tzinfo=LONDON).astimezone(dt.UTC)


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(LONDON).date()


def _same_time(close: dt.datetime, days: int) -> dt.datetime:
    """The same local time ``days`` days before ``close``."""
    local = close.astimezone(LONDON)
    return _local(local.date() - dt.timedelta(days=days), local.time())


def _month_before(day: dt.date) -> dt.date:
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return day.replace(year=year, month=month)


def date_range(start: dt.datetime, end: dt.datetime) -> str:
    """A window in words, local time: "7 to 14 November 2026"; a window within one day is
    that day: "2 December 2026"."""
    first = start.astimezone(LONDON)
    last = (end - dt.timedelta(seconds=1)).astimezone(LONDON)
    if first.date() >= last.date():
        return f"{last.day} {last:%B %Y}"
    if first.year != last.year:
        return f"{first.day} {first:%B %Y} to {last.day} {last:%B %Y}"
    if first.month != last.month:
        return f"{first.day} {first:%B} to {last.day} {last:%B %Y}"
    return f"{first.day} to {last.day} {last:%B %Y}"


def _clock(at: dt.time) -> str:
    """7am, 6:30pm."""
    hour = at.hour % 12 or 12
    minutes = f":{at.minute:02d}" if at.minute else ""
    return f"{hour}{minutes}{'am' if at.hour < 12 else 'pm'}"


# --- immediate: every few minutes, only when there is news -----------------------------


def _immediate_latest(now: dt.datetime, s: EditionSettings) -> dt.datetime:
    step = s.immediate_minutes * 60
    return dt.datetime.fromtimestamp(int(now.timestamp()) // step * step, dt.UTC)


def _immediate_describe(start: dt.datetime, end: dt.datetime) -> str:
    last = (end - dt.timedelta(seconds=1)).astimezone(LONDON)
    return f"{last.day} {last:%B %Y}, up to {end.astimezone(LONDON):%H:%M}"


IMMEDIATE = FrequencyRule(
    Frequency.IMMEDIATE,
    label="Latest news",
    choice=lambda s: "As soon as something changes",
    latest_close=_immediate_latest,
    previous_close=lambda close, s: close - dt.timedelta(minutes=s.immediate_minutes),
    only_with_news=True,
    describe=_immediate_describe,
)


# --- daily: at the send time every day -----------------------------------------------


def _daily_latest(now: dt.datetime, s: EditionSettings) -> dt.datetime:
    close = _local(_today(now), s.send_time)
    return close if close <= now else _local(_today(now) - dt.timedelta(days=1), s.send_time)


DAILY = FrequencyRule(
    Frequency.DAILY,
    label="Daily news",
    choice=lambda s: f"Once a day, at {_clock(s.send_time)}",
    latest_close=_daily_latest,
    previous_close=lambda close, s: _same_time(close, 1),
)


# --- weekly: at the send time on the send day ------------------------------------------


def _weekly_latest(now: dt.datetime, s: EditionSettings) -> dt.datetime:
    today = _today(now)
    day = today - dt.timedelta(days=(today.weekday() - s.weekly_day) % 7)
    close = _local(day, s.send_time)
    return close if close <= now else _local(day - dt.timedelta(days=7), s.send_time)


WEEKLY = FrequencyRule(
    Frequency.WEEKLY,
    label="Weekly news",
    choice=lambda s: f"Once a week, on {WEEKDAYS[s.weekly_day].capitalize()}",
    latest_close=_weekly_latest,
    previous_close=lambda close, s: _same_time(close, 7),
)


# --- monthly: at the send time on the send day of the month ----------------------------


def _monthly_latest(now: dt.datetime, s: EditionSettings) -> dt.datetime:
    day = _today(now).replace(day=s.monthly_day)
    close = _local(day, s.send_time)
    return close if close <= now else _local(_month_before(day), s.send_time)


def _monthly_previous(close: dt.datetime, s: EditionSettings) -> dt.datetime:
    local = close.astimezone(LONDON)
    return _local(_month_before(local.date()), local.time())


MONTHLY = FrequencyRule(
    Frequency.MONTHLY,
    label="Monthly news",
    choice=lambda s: "Once a month",
    latest_close=_monthly_latest,
    previous_close=_monthly_previous,
)


def frequency_rule(frequency: Frequency) -> FrequencyRule:
    match frequency:
        case Frequency.IMMEDIATE:
            return IMMEDIATE
        case Frequency.DAILY:
            return DAILY
        case Frequency.WEEKLY:
            return WEEKLY
        case Frequency.MONTHLY:
            return MONTHLY
        case _:
            assert_never(frequency)


def rules_in_order() -> list[FrequencyRule]:
    """Every frequency, most frequent first (the order people are offered them)."""
    return [frequency_rule(f) for f in Frequency]
