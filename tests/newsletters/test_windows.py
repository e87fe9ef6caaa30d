"""Edition windows in Europe/London across both clock changes: contiguous windows, each
closing at 07:00 local time, and every change in exactly one edition per frequency."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy import select

from publisher.config import get_settings, reset_settings
from publisher.db import session_scope
from publisher.models import Edition, EditionChange, Frequency
from publisher.newsletters.building import build_edition
from publisher.newsletters.windows import latest_close, previous_close
from publisher.uk_time import LONDON
from tests.newsletters.helpers import change, source

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive

UTC = dt.UTC


def _local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def test_weekly_close_is_friday_seven_local_on_both_sides_of_each_change() -> None:
    s = get_settings().editions
    # Spring forward: Sunday 29 March 2026. Fall back: Sunday 25 October 2026.
    assert latest_close(Frequency.WEEKLY, _local(2026, 3, 27, 7, 0), s) == dt.datetime(
        2026, 3, 27, 7, tzinfo=UTC
    )
    assert latest_close(Frequency.WEEKLY, _local(2026, 4, 3, 9, 0), s) == dt.datetime(
        2026, 4, 3, 6, tzinfo=UTC
    )
    assert latest_close(Frequency.WEEKLY, _local(2026, 4, 3, 6, 59), s) == dt.datetime(
        2026, 3, 27, 7, tzinfo=UTC
    )
    assert latest_close(Frequency.WEEKLY, _local(2026, 10, 30, 8, 0), s) == dt.datetime(
        2026, 10, 30, 7, tzinfo=UTC
    )
    spring = previous_close(Frequency.WEEKLY, dt.datetime(2026, 4, 3, 6, tzinfo=UTC), s)
    autumn = previous_close(Frequency.WEEKLY, dt.datetime(2026, 10, 30, 7, tzinfo=UTC), s)
    assert dt.datetime(2026, 4, 3, 6, tzinfo=UTC) - spring == dt.timedelta(hours=167)
    assert dt.datetime(2026, 10, 30, 7, tzinfo=UTC) - autumn == dt.timedelta(hours=169)
    monthly = latest_close(Frequency.MONTHLY, _local(2026, 11, 15, 12, 0), s)
    assert monthly == dt.datetime(2026, 11, 1, 7, tzinfo=UTC)
    assert previous_close(Frequency.MONTHLY, monthly, s) == dt.datetime(2026, 10, 1, 6, tzinfo=UTC)


def test_configured_day_and_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEEKLY_EDITION_DAY", "monday")
    monkeypatch.setenv("EDITION_SEND_TIME", "18:30")
    reset_settings()  # settings are read once (tests/settings_env.py)
    s = get_settings().editions
    assert latest_close(Frequency.WEEKLY, _local(2026, 7, 1, 12, 0), s) == _local(
        2026, 6, 29, 18, 30
    )
    monkeypatch.setenv("WEEKLY_EDITION_DAY", "caturday")
    reset_settings()  # settings are read once (tests/settings_env.py)
    with pytest.raises(ValueError, match="WEEKLY_EDITION_DAY"):
        get_settings()
    monkeypatch.setenv("WEEKLY_EDITION_DAY", "friday")
    monkeypatch.setenv("EDITION_SEND_TIME", "25:99")
    reset_settings()  # settings are read once (tests/settings_env.py)
    with pytest.raises(ValueError, match="EDITION_SEND_TIME"):
        get_settings()


@pytest.mark.parametrize(
    ("frequency", "first", "last", "step"),
    [
        (
            Frequency.WEEKLY,
            _local(2026, 3, 6, 9, 0),
            _local(2026, 4, 24, 9, 0),
            dt.timedelta(days=7),
        ),
        (
            Frequency.WEEKLY,
            _local(2026, 10, 2, 9, 0),
            _local(2026, 11, 20, 9, 0),
            dt.timedelta(days=7),
        ),
        (
            Frequency.DAILY,
            _local(2026, 3, 26, 9, 0),
            _local(2026, 4, 1, 9, 0),
            dt.timedelta(days=1),
        ),
        (
            Frequency.DAILY,
            _local(2026, 10, 22, 9, 0),
            _local(2026, 10, 28, 9, 0),
            dt.timedelta(days=1),
        ),
        (
            Frequency.MONTHLY,
            _local(2026, 2, 1, 9, 0),
            _local(2026, 12, 1, 9, 0),
            dt.timedelta(days=30),
        ),
    ],
)
def test_every_change_in_exactly_one_edition_across_clock_changes(
    db: Any, frequency: Frequency, first: dt.datetime, last: dt.datetime, step: dt.timedelta
) -> None:
    s = get_settings().editions
    start = previous_close(frequency, latest_close(frequency, first, s), s)
    # Changes every 5 hours, plus ones right at the edges of closes and at both clock changes.
    times = []
    t = start
    while t < last:
        times.append(t)
        t += dt.timedelta(hours=5)
    for edge in (
        dt.datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),
        dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST, the first of two 01:30s
        dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 01:30 GMT, the second
        dt.datetime(2026, 4, 3, 5, 59, 59, tzinfo=UTC),
        dt.datetime(2026, 4, 3, 6, 0, tzinfo=UTC),
        dt.datetime(2026, 10, 30, 6, 59, 59, tzinfo=UTC),
        dt.datetime(2026, 10, 30, 7, 0, tzinfo=UTC),
    ):
        if start <= edge < last:
            times.append(edge)
    with session_scope() as session:
        src = source(session)
        ids = {
            change(
                session, src, f"e{i}", f"Service {i}", at=when, minimum_age=0, maximum_age=25
            ).id: when
            for i, when in enumerate(sorted(times))
        }
    now = first
    while now <= last:
        with session_scope() as session:
            build_edition(session, frequency, now=now, settings=s)
        now += step
    # A change that happened before the last edition closed but was committed only after
    # it was built goes in the next edition, not nowhere.
    with session_scope() as session:
        late_at = latest_close(frequency, now - step, s) - dt.timedelta(minutes=1)
        late = change(session, source_named(session), "late", "Late Arrival", at=late_at).id
        build_edition(session, frequency, now=last + step, settings=s)
    with session_scope() as session:
        editions = session.scalars(
            select(Edition).where(Edition.frequency == frequency).order_by(Edition.window_end)
        ).all()
        assert len(editions) >= 3
        for before, after in itertools.pairwise(editions):
            assert after.window_start == before.window_end  # contiguous
        for e in editions:
            local = e.window_end.astimezone(LONDON)
            assert (local.hour, local.minute) == (7, 0)
        taken = session.execute(select(EditionChange.change_id, EditionChange.edition_id)).all()
        per_change: dict[int, list[int]] = {}
        for change_id, edition_id in taken:
            per_change.setdefault(change_id, []).append(edition_id)
        by_id = {e.id: e for e in editions}
        covered_until = editions[-2].window_end
        for change_id, when in ids.items():
            if when >= covered_until:
                continue
            assert len(per_change.get(change_id, [])) == 1, when
            edition = by_id[per_change[change_id][0]]
            assert edition.window_start <= when < edition.window_end
        assert per_change[late] == [editions[-1].id]


def source_named(session: Any) -> Any:
    from publisher.models import Source

    return session.scalars(select(Source)).first()
