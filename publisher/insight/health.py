"""The Local Offer's health, read from the summaries: freshness over time, changes per
month by kind, and coverage (checked, active services per age band and area of need, and
per locality) with thin and empty cells marked."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.feeds.filters import vocabulary
from publisher.insight.charts import Cell
from publisher.insight.periods import month_label, months_back
from publisher.insight.upkeep import RECHECKED
from publisher.models import InsightCount, InsightSnapshot
from publisher.topics import NEEDS

# A cell with fewer checked services than this is "thin": a gap worth a look.
THIN_BELOW = 3
KIND_LABELS: dict[str, str] = {
    "added": "New",
    "updated": "Updated",
    "reopened": "Back again",
    "removed": "Taken off",
    "became_stale": "Became out of date",
    RECHECKED: "Checked, no change",
}
AGE_COLUMNS = {"0-5": "0-5", "5-11": "5-11", "11-16": "11-16", "16-25": "16-25"}
NO_NEED = "No need given"


def level(count: int) -> str:
    return "empty" if count == 0 else ("thin" if count < THIN_BELOW else "ok")


@dataclass(frozen=True)
class FreshPoint:
    month: str  # "2026-11"
    label: str  # "Nov 2026"
    day: dt.date | None  # the day the figures are from (the month's last snapshot)
    active: int
    checked: int

    @property
    def share(self) -> float | None:
        return 100 * self.checked / self.active if self.day and self.active else None


def latest_day(session: Session, upto: dt.date) -> dt.date | None:
    found: dt.date | None = session.scalar(
        select(func.max(InsightSnapshot.day)).where(
            InsightSnapshot.metric == "freshness", InsightSnapshot.day <= upto
        )
    )
    return found


def freshness(session: Session, today: dt.date, months: int = 24) -> list[FreshPoint]:
    """One point a month (its last snapshot), from the first month with figures."""
    labels = months_back(today, months)
    start = dt.date(int(labels[0][:4]), int(labels[0][5:]), 1)
    by_day: dict[dt.date, dict[str, int]] = defaultdict(dict)
    for day, key, count in session.execute(
        select(InsightSnapshot.day, InsightSnapshot.key, InsightSnapshot.count).where(
            InsightSnapshot.metric == "freshness",
            InsightSnapshot.day >= start,
            InsightSnapshot.day <= today,
        )
    ):
        by_day[day][key] = count
    last_of_month: dict[str, dt.date] = {}
    for day in sorted(by_day):
        last_of_month[day.strftime("%Y-%m")] = day
    points = []
    for month in labels:
        day = last_of_month.get(month)
        figures = by_day.get(day, {}) if day else {}
        points.append(
            FreshPoint(
                month, month_label(month), day, figures.get("active", 0), figures.get("checked", 0)
            )
        )
    while points and points[0].day is None:
        points.pop(0)
    return points


@dataclass(frozen=True)
class MonthCounts:
    months: list[str]
    labels: list[str]
    kinds: dict[str, list[int]]  # kind -> count per month

    def total(self, kind: str) -> int:
        return sum(self.kinds[kind])


def changes_by_month(session: Session, today: dt.date, months: int = 12) -> MonthCounts:
    wanted = months_back(today, months)
    found: dict[tuple[str, str], int] = {}
    for period, key, count in session.execute(
        select(InsightCount.period, InsightCount.key, InsightCount.count).where(
            InsightCount.metric == "changes", InsightCount.period.in_(wanted)
        )
    ):
        found[(period, key)] = count
    kinds = {k: [found.get((m, k), 0) for m in wanted] for k in KIND_LABELS}
    return MonthCounts(wanted, [month_label(m) for m in wanted], kinds)


@dataclass(frozen=True)
class Coverage:
    day: dt.date | None
    need_rows: list[tuple[str, str]]  # (slug, label)
    age_columns: list[tuple[str, str]]
    grid: list[list[Cell]]
    localities: list[tuple[str, str, Cell]]  # (slug, label, cell)

    def gaps(self) -> list[str]:
        """ "Sensory and physical needs, ages 16-25" for each empty cell."""
        return [
            f"{label}, ages {age}"
            for (_, label), row in zip(self.need_rows, self.grid, strict=True)
            for (_, age), cell in zip(self.age_columns, row, strict=True)
            if cell.level == "empty"
        ]

    def thin(self) -> int:
        return sum(1 for row in self.grid for c in row if c.level == "thin") + sum(
            1 for _, _, c in self.localities if c.level == "thin"
        )


def coverage(session: Session, today: dt.date) -> Coverage:
    day = latest_day(session, today)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    if day is not None:
        for metric, key, count in session.execute(
            select(InsightSnapshot.metric, InsightSnapshot.key, InsightSnapshot.count).where(
                InsightSnapshot.day == day,
                InsightSnapshot.metric.in_(("coverage_need_age", "coverage_locality")),
            )
        ):
            counts[metric][key] = count
    cells = counts["coverage_need_age"]
    need_rows = [*NEEDS.items(), ("none", NO_NEED)]
    if not any(k.startswith("none|") for k in cells):
        need_rows = need_rows[:-1]  # every service names a need: no row for "none"
    ages = list(AGE_COLUMNS.items())
    grid = [
        [Cell(n := cells.get(f"{need}|{age}", 0), level(n)) for age, _ in ages]
        for need, _ in need_rows
    ]
    places = counts["coverage_locality"]
    labels = {**vocabulary()["locality"], "none": "No area given"}
    localities = [
        (slug, label, Cell(n := places.get(slug, 0), level(n)))
        for slug, label in labels.items()
        if slug != "none" or places.get("none")
    ]
    return Coverage(day, need_rows, ages, grid, localities)
