"""The summaries follow the change log incrementally, and a rebuild gives the same."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.db import utcnow
from publisher.insight import upkeep
from publisher.insight.periods import month_of, today_uk
from publisher.models import InsightChange, InsightChangeTopic, InsightCount, InsightSnapshot
from tests.insight.conftest import Log

# Dates worked out from now: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def _counts(session: Session, metric: str) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(InsightCount.period, InsightCount.key, InsightCount.count).where(
            InsightCount.metric == metric
        )
    )
    return {(p, k): n for p, k, n in rows}


def _snapshot(session: Session, metric: str, day: dt.date) -> dict[str, int]:
    rows = session.execute(
        select(InsightSnapshot.key, InsightSnapshot.count).where(
            InsightSnapshot.metric == metric, InsightSnapshot.day == day
        )
    )
    return dict(rows.tuples().all())


def test_published_changes_only_and_counts_by_kind(log: Log, session: Session) -> None:
    now = utcnow()
    a = log.entry(
        "Chatterbox group", minimum_age=2, maximum_age=4, needs=["communication-interaction"]
    )
    b = log.entry("Old club", stale=True, assured_date=dt.date.today() - dt.timedelta(days=800))
    log.change(a, "added", at=now - dt.timedelta(hours=3))
    log.change(
        a, "updated", at=now - dt.timedelta(hours=2), changed_fields=["assured_date"], notable=False
    )
    log.change(b, "updated", at=now - dt.timedelta(hours=1), changed_fields=["name"])
    log.change(b, "became_stale", at=now)
    result = log.refresh()
    assert result.changes_seen == 4
    assert result.changes_published == 1
    shown = session.scalars(select(InsightChange)).all()
    assert [c.title for c in shown] == ["New: Chatterbox group"]
    assert shown[0].link == "https://localoffer.example.gov.uk/services/svc-1"
    tags = set(session.scalars(select(InsightChangeTopic.topic)))
    assert tags == {"kind:added", "age:0-5", "need:communication-interaction"}
    kinds = {key: n for (_, key), n in _counts(session, "changes").items()}
    assert kinds == {"added": 1, "rechecked": 1, "updated": 1, "became_stale": 1}
    # A second refresh with nothing new adds nothing.
    again = log.refresh()
    assert again.changes_seen == 0
    assert session.scalar(select(func.count()).select_from(InsightChange)) == 1
    assert sum(_counts(session, "changes").values()) == 4


def test_freshness_and_coverage_snapshot(log: Log, session: Session) -> None:
    today = today_uk()
    log.entry("A", minimum_age=5, maximum_age=10, needs=["sensory-physical"], localities=["north"])
    log.entry("B", minimum_age=5, maximum_age=10, needs=["sensory-physical", "cognition-learning"])
    log.entry(
        "C", assured_date=today - dt.timedelta(days=400), stale=True, needs=["sensory-physical"]
    )
    log.entry("Gone", present=False)
    log.refresh(today)
    assert _snapshot(session, "freshness", today) == {"active": 3, "checked": 2, "stale": 1}
    cells = _snapshot(session, "coverage_need_age", today)
    assert cells == {"sensory-physical|5-11": 2, "cognition-learning|5-11": 1}
    assert _snapshot(session, "coverage_locality", today) == {"north": 1, "none": 1}
    assert _snapshot(session, "supply_topic", today)["need:sensory-physical"] == 2


def test_rebuild_matches_incremental(log: Log, session: Session) -> None:
    now = utcnow()
    entries = [log.entry(f"Service {i}", needs=["cognition-learning"]) for i in range(5)]
    for i, entry in enumerate(entries):
        log.change(entry, "added", at=now - dt.timedelta(days=40 - i))
    log.refresh()
    log.change(entries[0], "removed", at=now)
    log.refresh()
    before = (
        _counts(session, "changes"),
        _counts(session, "topic"),
        sorted(session.scalars(select(InsightChange.change_id))),
    )
    upkeep.rebuild(session)
    session.commit()
    after = (
        _counts(session, "changes"),
        _counts(session, "topic"),
        sorted(session.scalars(select(InsightChange.change_id))),
    )
    assert before == after
    assert after[0][(month_of(now), "removed")] == 1


def test_coverage_moves_by_difference_and_ages_out(log: Log, session: Session) -> None:
    today = today_uk()
    old = log.entry(
        "Nearly due",
        needs=["sensory-physical"],
        minimum_age=1,
        maximum_age=3,
        assured_date=today - dt.timedelta(days=360),
    )
    moving = log.entry("Moving", needs=["cognition-learning"], minimum_age=1, maximum_age=3)
    log.refresh(today)
    assert _snapshot(session, "coverage_need_age", today) == {
        "sensory-physical|0-5": 1,
        "cognition-learning|0-5": 1,
    }
    # A crawl changes one entry's needs and logs it: only that entry is counted again.
    moving.needs = ["sensory-physical"]
    log.change(moving, "updated", changed_fields=["taxonomy_terms"])
    log.refresh(today)
    assert _snapshot(session, "coverage_need_age", today) == {"sensory-physical|0-5": 2}
    # Ten days on, the first entry's last check is over 12 months old.
    later = today + dt.timedelta(days=10)
    upkeep.refresh_entries(session, later)
    session.commit()
    assert _snapshot(session, "coverage_need_age", later) == {"sensory-physical|0-5": 1}
    assert _snapshot(session, "freshness", later) == {"active": 2, "checked": 1, "stale": 0}
    # A rebuild counts from scratch and agrees.
    upkeep.rebuild(session, later)
    session.commit()
    assert _snapshot(session, "coverage_need_age", later) == {"sensory-physical|0-5": 1}
    assert old.id and _snapshot(session, "freshness", later)["checked"] == 1


def test_cli_refresh_and_rebuild(log: Log, session: Session) -> None:
    import json

    from click.testing import CliRunner

    from publisher.cli import main

    entry = log.entry("Swim club", needs=["sensory-physical"])
    log.change(entry, "added")
    session.commit()
    runner = CliRunner()
    refreshed = runner.invoke(main, ["insight", "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert json.loads(refreshed.output)["changes_published"] == 1
    rebuilt = runner.invoke(main, ["insight", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert json.loads(rebuilt.output)["changes_seen"] == 1
    assert session.scalar(select(func.count()).select_from(InsightChange)) == 1
