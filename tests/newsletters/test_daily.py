"""The daily frequency: closes at EDITION_SEND_TIME every day, UK time, on both sides of
each clock change; built by the edition CLI and by beat's every-minute job; and the
frequency table that every frequency goes through."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from publisher.cli import main
from publisher.config import get_settings, reset_settings
from publisher.db import session_scope
from publisher.models import Edition, Frequency
from publisher.newsletters import editions
from publisher.newsletters.frequencies import date_range, frequency_rule, rules_in_order
from publisher.newsletters.windows import describe, latest_close, previous_close
from publisher.uk_time import LONDON
from tests.clock import Clock
from tests.mailsink import MailSink
from tests.newsletters.helpers import change, parse, source, subscriber

pytestmark = pytest.mark.date_sensitive

UTC = dt.UTC


def _local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def test_daily_closes_at_seven_uk_time_across_both_clock_changes() -> None:
    s = get_settings().editions
    # Spring forward: Sunday 29 March 2026 (07:00 is 07:00 UTC before, 06:00 UTC after).
    assert latest_close(Frequency.DAILY, _local(2026, 3, 28, 12, 0), s) == dt.datetime(
        2026, 3, 28, 7, tzinfo=UTC
    )
    assert latest_close(Frequency.DAILY, _local(2026, 3, 29, 6, 59), s) == dt.datetime(
        2026, 3, 28, 7, tzinfo=UTC
    )
    sunday = latest_close(Frequency.DAILY, _local(2026, 3, 29, 7, 0), s)
    assert sunday == dt.datetime(2026, 3, 29, 6, tzinfo=UTC)
    assert sunday - previous_close(Frequency.DAILY, sunday, s) == dt.timedelta(hours=23)
    # Fall back: Sunday 25 October 2026.
    autumn = latest_close(Frequency.DAILY, _local(2026, 10, 25, 9, 0), s)
    assert autumn == dt.datetime(2026, 10, 25, 7, tzinfo=UTC)
    assert autumn - previous_close(Frequency.DAILY, autumn, s) == dt.timedelta(hours=25)
    # An ordinary day is 24 hours.
    plain = latest_close(Frequency.DAILY, _local(2026, 12, 2, 8, 0), s)
    assert plain - previous_close(Frequency.DAILY, plain, s) == dt.timedelta(hours=24)


def test_daily_uses_the_configured_send_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITION_SEND_TIME", "18:30")
    reset_settings()  # settings are read once (tests/settings_env.py)
    s = get_settings().editions
    assert latest_close(Frequency.DAILY, _local(2026, 7, 1, 18, 29), s) == _local(
        2026, 6, 30, 18, 30
    )
    assert latest_close(Frequency.DAILY, _local(2026, 7, 1, 18, 30), s) == _local(
        2026, 7, 1, 18, 30
    )
    assert frequency_rule(Frequency.DAILY).choice(s) == "Once a day, at 6:30pm"


def test_every_frequency_has_an_entry_and_closes_within_its_period() -> None:
    s = get_settings().editions
    now = _local(2026, 11, 18, 12, 0)
    longest = {
        Frequency.IMMEDIATE: dt.timedelta(minutes=s.immediate_minutes),
        Frequency.DAILY: dt.timedelta(hours=25),
        Frequency.WEEKLY: dt.timedelta(days=7, hours=1),
        Frequency.MONTHLY: dt.timedelta(days=31, hours=1),
    }
    rules = rules_in_order()
    assert [r.frequency for r in rules] == list(Frequency)
    assert len({r.label for r in rules}) == len(rules)  # labels tell them apart
    for rule in rules:
        close = rule.latest_close(now, s)
        assert close <= now < close + longest[rule.frequency], rule.frequency
        assert rule.previous_close(close, s) < close
    assert [r.frequency for r in rules if r.only_with_news] == [Frequency.IMMEDIATE]


def test_window_words_and_a_one_day_window() -> None:
    one_day = date_range(_local(2026, 12, 2, 0, 0), _local(2026, 12, 2, 18, 0))
    assert one_day == "2 December 2026"
    assert date_range(_local(2026, 11, 7, 7, 0), _local(2026, 11, 14, 7, 0)) == (
        "7 to 14 November 2026"
    )
    assert date_range(_local(2026, 11, 28, 7, 0), _local(2026, 12, 5, 7, 0)) == (
        "28 November to 5 December 2026"
    )
    daily = describe(Frequency.DAILY, _local(2026, 12, 1, 7, 0), _local(2026, 12, 2, 7, 0))
    assert daily == "1 to 2 December 2026"


def _daily_news(session: Any, at: dt.datetime) -> None:
    src = source(session)
    change(session, src, "a", "Riverside Sensory Room", at=at, minimum_age=0, maximum_age=11)
    subscriber(session, "daily.parent@example.org", frequency=Frequency.DAILY)
    subscriber(session, "weekly.parent@example.org", frequency=Frequency.WEEKLY)


def test_cli_runs_the_daily_edition_for_daily_subscribers_only(
    db: Any, mail_sink: MailSink, clock: Clock
) -> None:
    clock.set(_local(2026, 12, 2, 7, 5))
    with session_scope() as session:
        _daily_news(session, _local(2026, 12, 1, 15, 0))
    out = CliRunner().invoke(main, ["editions", "run", "daily", "--json"])
    assert out.exit_code == 0, out.output
    ran = json.loads(out.stdout)
    assert ran["result"] == "built" and ran["recipients"] == 1 and ran["sent"] == 1
    [message] = mail_sink.messages
    assert parse(message.data)["To"] == "daily.parent@example.org"
    again = CliRunner().invoke(main, ["editions", "run", "daily"])
    assert again.exit_code == 0 and "No edition is due yet" in again.output
    with session_scope() as session:
        edition = session.scalars(select(Edition)).one()
        assert edition.frequency is Frequency.DAILY
        assert (edition.window_start, edition.window_end) == (
            _local(2026, 12, 1, 7, 0),
            _local(2026, 12, 2, 7, 0),
        )


def test_beats_every_minute_job_builds_the_daily_edition_when_it_closes(
    db: Any, mail_sink: MailSink
) -> None:
    """What beat runs every minute (publisher.newsletters.run_due): nothing daily before
    07:00 UK time, the daily edition at 07:00, once."""
    with session_scope() as session:
        _daily_news(session, _local(2026, 12, 1, 15, 0))
        # The previous daily edition closed yesterday, so today's window is one day.
        session.add(
            Edition(
                frequency=Frequency.DAILY,
                window_start=_local(2026, 11, 30, 7, 0),
                window_end=_local(2026, 12, 1, 7, 0),
                items=[],
                recipients=0,
            )
        )
    queued: list[tuple[int, list[int]]] = []

    def send(edition_id: int, ids: list[int]) -> None:
        queued.append((edition_id, ids))

    before = editions.run_due(send, now=_local(2026, 12, 2, 6, 59))
    assert set(before) == {f.value for f in Frequency}
    assert before["daily"] == "not due" and queued == []
    at_seven = editions.run_due(send, now=_local(2026, 12, 2, 7, 0))
    assert at_seven["daily"] == "built"
    assert editions.run_due(send, now=_local(2026, 12, 2, 7, 1))["daily"] != "built"
    with session_scope() as session:
        daily = session.scalars(
            select(Edition)
            .where(Edition.frequency == Frequency.DAILY)
            .order_by(Edition.window_end.desc())
        ).first()
        assert daily is not None and daily.window_end == _local(2026, 12, 2, 7, 0)
        assert [e for e, _ in queued] == [daily.id]
