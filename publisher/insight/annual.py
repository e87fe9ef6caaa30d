"""The year's Local Offer report: freshness, changes, coverage and gaps, reach, and
"You said, we did" (once the project records such pairs), as printable HTML and as CSV.

Every figure comes from the summaries, through the same functions as ``/health`` and the
reach page, so the report and the pages never disagree; counts of people go through the
small-number rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.insight import health
from publisher.insight.disclosure import shown, total
from publisher.insight.events import CONFIRMATIONS, SIGNUPS, UNSUBSCRIBES
from publisher.insight.export import csv_text
from publisher.insight.reach import FREQUENCIES, PLATFORMS, Table
from publisher.models import InsightCount, InsightEdition, InsightSnapshot


@dataclass
class AnnualReport:
    year: int
    upto: dt.date  # 31 December, or today for the year in progress
    freshness: list[health.FreshPoint]
    changes: health.MonthCounts
    coverage: health.Coverage
    reach: list[Table]
    you_said: list[tuple[str, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.upto == dt.date(self.year, 12, 31)

    def tables(self) -> list[Table]:
        """The report's tables, as the page shows them and the CSV holds them."""
        fresh = Table(
            "freshness",
            "Active services checked in the last 12 months, at the end of each month",
            ["Month", "Checked", "Active", "Share"],
            [
                [p.label, str(p.checked), str(p.active), f"{round(p.share)}%"]
                for p in self.freshness
                if p.day and p.share is not None
            ],
        )
        kinds = list(health.KIND_LABELS)
        changes = Table(
            "changes",
            "Changes per month, by kind",
            ["Month", *health.KIND_LABELS.values()],
            [
                [label, *(str(self.changes.kinds[k][i]) for k in kinds)]
                for i, label in enumerate(self.changes.labels)
            ],
        )
        cover = Table(
            "coverage",
            "Checked, active services by area of need and age band (none = a gap; "
            f"thin = fewer than {health.THIN_BELOW})",
            ["Area of need", *(f"Ages {a}" for _, a in self.coverage.age_columns)],
            [
                [label, *(_cell(c) for c in row)]
                for (_, label), row in zip(self.coverage.need_rows, self.coverage.grid, strict=True)
            ],
        )
        places = Table(
            "localities",
            "Checked, active services by area",
            ["Area", "Services"],
            [[label, _cell(c)] for _, label, c in self.coverage.localities],
        )
        return [fresh, changes, cover, places, *self.reach]


def _cell(cell: Any) -> str:
    if cell.level == "empty":
        return "none"
    return f"{cell.count} (thin)" if cell.level == "thin" else str(cell.count)


def _year_counts(session: Session, year: int) -> dict[tuple[str, str], int]:
    """Sums over the year of the event, post and feed counts, by (metric, key)."""
    rows = session.execute(
        select(InsightCount.metric, InsightCount.key, func.sum(InsightCount.count))
        .where(
            InsightCount.metric.in_(
                (SIGNUPS, CONFIRMATIONS, UNSUBSCRIBES, "posts", "feed_requests")
            ),
            InsightCount.period.like(f"{year}-%"),
        )
        .group_by(InsightCount.metric, InsightCount.key)
    )
    return {(m, k): int(n or 0) for m, k, n in rows}


def _reach(session: Session, year: int, upto: dt.date) -> list[Table]:
    counts = _year_counts(session, year)
    day = session.scalar(
        select(func.max(InsightSnapshot.day)).where(
            InsightSnapshot.metric == "freshness",
            InsightSnapshot.day <= upto,
            InsightSnapshot.day >= dt.date(year, 1, 1),
        )
    )
    by_freq: dict[str, int] = {}
    if day is not None:
        by_freq = dict(
            session.execute(
                select(InsightSnapshot.key, InsightSnapshot.count).where(
                    InsightSnapshot.day == day, InsightSnapshot.metric == "subscribers_frequency"
                )
            )
            .tuples()
            .all()
        )
    freq_counts = [by_freq.get(f, 0) for f in FREQUENCIES]
    editions = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(InsightEdition.sent), 0),
            func.coalesce(func.sum(InsightEdition.failed), 0),
        ).where(
            InsightEdition.finished_on >= dt.date(year, 1, 1),
            InsightEdition.finished_on <= dt.date(year, 12, 31),
        )
    ).one()
    return [
        Table(
            "subscribers",
            f"Subscribers on {(day or upto).strftime('%-d %B %Y')}",
            ["How often", "Subscribers"],
            [[f.capitalize(), shown(n)] for f, n in zip(FREQUENCIES, freq_counts, strict=True)]
            + [["All", total(freq_counts)]],
        ),
        Table(
            "subscriptions",
            "Sign-ups, confirmations and unsubscribes in the year",
            ["What happened", "People"],
            [
                ["Asked to sign up", shown(counts.get((SIGNUPS, ""), 0))],
                ["Confirmed", shown(counts.get((CONFIRMATIONS, ""), 0))],
                ["Unsubscribed", shown(counts.get((UNSUBSCRIBES, ""), 0))],
            ],
        ),
        Table(
            "newsletters",
            "Newsletters in the year",
            ["What", "Count"],
            [
                ["Editions", shown(int(editions[0]))],
                ["Emails sent", shown(int(editions[1]))],
                ["Emails failed", shown(int(editions[2]))],
            ],
        ),
        Table(
            "social",
            "Social media posts published in the year",
            ["Platform", "Posts"],
            [
                [p.capitalize() if p != "x" else "X", shown(counts.get(("posts", p), 0))]
                for p in PLATFORMS
            ],
        ),
        Table(
            "feed_requests",
            "News feed requests in the year",
            ["Kind", "Requests"],
            [
                ["Full downloads", shown(counts.get(("feed_requests", "full"), 0))],
                [
                    "Checks that found nothing new",
                    shown(counts.get(("feed_requests", "conditional"), 0)),
                ],
            ],
        ),
    ]


def you_said_pairs(session: Session, year: int) -> list[tuple[str, str]]:
    """The "You said, we did" pairs published in the year (``publisher.feedback``), as
    (what people said, what the council said and did), oldest first."""
    from publisher.feedback import service

    pairs = []
    for p in reversed(service.published(session, year=year)):
        did = " ".join(
            part for part in (p.response, f"We did: {p.action}" if p.action else "") if part
        )
        pairs.append((p.you_said or p.topic, did))
    return pairs


def build(session: Session, year: int, today: dt.date) -> AnnualReport:
    upto = min(dt.date(year, 12, 31), today)
    return AnnualReport(
        year=year,
        upto=upto,
        freshness=[
            p for p in health.freshness(session, upto, months=12) if p.month.startswith(str(year))
        ],
        changes=health.changes_by_month(session, dt.date(year, 12, 31), 12),
        coverage=health.coverage(session, upto),
        reach=_reach(session, year, upto),
        you_said=you_said_pairs(session, year),
    )


def report_csv(report: AnnualReport) -> str:
    rows = [
        [t.ident, row[0], column, value]
        for t in report.tables()
        for row in t.rows
        for column, value in zip(t.columns[1:], row[1:], strict=True)
    ]
    return csv_text(["table", "row", "column", "value"], rows)


def report_html(report: AnnualReport, *, back_url: str = "", csv_url: str = "") -> str:
    """The printable page (call inside a Flask app context)."""
    from flask import render_template

    from publisher.insight import charts

    fresh = [p for p in report.freshness if p.day]
    fresh_chart = charts.line_chart(
        "fresh",
        [p.label for p in fresh],
        [p.share for p in fresh],
        title=f"Share of active services checked in the last 12 months, {report.year}",
        desc="The same numbers are in the freshness table.",
    )
    changes_chart = charts.stacked_bars(
        "changes",
        [label[:3] for label in report.changes.labels],
        [charts.Series(label, report.changes.kinds[k]) for k, label in health.KIND_LABELS.items()],
        title=f"Changes per month by kind, {report.year}",
        desc="The same numbers are in the changes table.",
    )
    return render_template(
        "web/report/annual.html",
        report=report,
        kind_labels=health.KIND_LABELS,
        fresh_chart=fresh_chart,
        changes_chart=changes_chart,
        made_on=dt.datetime.now(dt.UTC),
        back_url=back_url,
        csv_url=csv_url,
    )
