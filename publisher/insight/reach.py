"""Who the Local Offer reaches, for officers: read from the summaries, then shaped into
tables whose every count has been through the small-number rule
(``publisher.insight.disclosure``). The page, its CSV and the annual report all use
``tables()``, so the rule is applied in one place.

Most of it changes only at a refresh, so the worker reads it then and keeps it with
the page's figures made from it (``keep_built``); a request reads that one row and the
counts that move between refreshes (sign-ups and feed requests), and makes
the figures again only if those have moved.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from publisher.feeds.filters import vocabulary
from publisher.insight import built
from publisher.insight.disclosure import shown, total
from publisher.insight.events import CONFIRMATIONS, SIGNUPS, UNSUBSCRIBES
from publisher.insight.periods import month_label, months_back, week_of, week_start
from publisher.models import Frequency, InsightCount, InsightEdition, InsightSnapshot, Platform

WEEKS = 12
DAYS = 28
FREQUENCIES = [f.value for f in Frequency]
PLATFORMS = [p.value for p in Platform]
EVENTS = {SIGNUPS: "Asked to sign up", CONFIRMATIONS: "Confirmed", UNSUBSCRIBES: "Unsubscribed"}
DIMENSION_NAMES = {"age": "Age", "need": "Need", "category": "Kind of service", "locality": "Area"}
KEPT_AS = "reach"
TABLES = ("frequency", "events", "editions", "posts", "feeds", "demand")  # as shown
LIVE_TABLES = ("events", "feeds")  # of the counts made as things happen


@dataclass
class ReachData:
    """Raw counts (never shown as they are)."""

    weeks: list[str]
    months: list[str]
    days: list[str]
    frequency: dict[str, dict[str, int]] = field(default_factory=dict)  # week -> freq -> n
    events: dict[str, dict[str, int]] = field(default_factory=dict)  # event -> week -> n
    editions: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # week -> e, s, f
    posts: dict[str, dict[str, int]] = field(default_factory=dict)  # month -> platform -> n
    feeds: dict[str, dict[str, int]] = field(default_factory=dict)  # day -> kind -> n
    demand: dict[str, int] = field(default_factory=dict)  # "need:x" -> subscribers
    demand_then: dict[str, int] = field(default_factory=dict)  # the same, on then_day
    then_day: dt.date | None = None  # the oldest snapshot in the last WEEKS weeks
    supply: dict[str, int] = field(default_factory=dict)  # "need:x" -> checked services
    topic_labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    ident: str
    caption: str
    columns: list[str]
    rows: list[list[str]]  # the first cell of each row is its heading


def _weeks(today: dt.date) -> list[str]:
    return [week_of(today - dt.timedelta(weeks=WEEKS - 1 - i)) for i in range(WEEKS)]


def topic_labels() -> dict[str, str]:
    labels = {}
    for name, values in vocabulary().items():
        for slug, label in values.items():
            labels[f"{name}:{slug}"] = f"{DIMENSION_NAMES[name]}: {label}"
    return labels


def load(session: Session, today: dt.date) -> ReachData:
    weeks = _weeks(today)
    data = ReachData(
        weeks=weeks,
        months=months_back(today, 12),
        days=[(today - dt.timedelta(days=DAYS - 1 - i)).isoformat() for i in range(DAYS)],
        topic_labels=topic_labels(),
    )
    start = week_start(weeks[0])
    last_day: dict[str, dt.date] = {}
    by_day: dict[dt.date, dict[str, int]] = defaultdict(dict)
    for day, key, count in session.execute(
        select(InsightSnapshot.day, InsightSnapshot.key, InsightSnapshot.count).where(
            InsightSnapshot.metric == "subscribers_frequency",
            InsightSnapshot.day >= start,
            InsightSnapshot.day <= today,
        )
    ):
        by_day[day][key] = count
        week = week_of(day)
        last_day[week] = max(day, last_day.get(week, day))
    for week, day in last_day.items():
        data.frequency[week] = by_day[day]
    # Demand needs the first and the last day's topic counts only (a day holds one
    # count per topic, so 12 weeks of them are thousands of rows).
    in_range = (
        InsightSnapshot.metric == "subscribers_topic",
        InsightSnapshot.day >= start,
        InsightSnapshot.day <= today,
    )
    first, last = session.execute(
        select(func.min(InsightSnapshot.day), func.max(InsightSnapshot.day)).where(*in_range)
    ).one()
    if first is not None and last is not None:
        topics: dict[dt.date, dict[str, int]] = {first: {}, last: {}}
        for day, key, count in session.execute(
            select(InsightSnapshot.day, InsightSnapshot.key, InsightSnapshot.count).where(
                InsightSnapshot.metric == "subscribers_topic",
                InsightSnapshot.day.in_({first, last}),
            )
        ):
            topics[day][key] = count
        data.demand, data.demand_then, data.then_day = topics[last], topics[first], first
    # Supply as on the latest day with figures (one round trip: a page's cost when built
    # is mostly its round trips).
    latest_supply = (
        select(InsightSnapshot.day)
        .where(InsightSnapshot.metric == "freshness", InsightSnapshot.day <= today)
        .order_by(InsightSnapshot.day.desc())
        .limit(1)
        .scalar_subquery()
    )
    data.supply = dict(
        session.execute(
            select(InsightSnapshot.key, InsightSnapshot.count).where(
                InsightSnapshot.day == latest_supply, InsightSnapshot.metric == "supply_topic"
            )
        )
        .tuples()
        .all()
    )
    _add_counts(session, data, with_posts=True)
    per_week: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for finished, sent, failed in session.execute(
        select(InsightEdition.finished_on, InsightEdition.sent, InsightEdition.failed).where(
            InsightEdition.finished_on >= start
        )
    ):
        row = per_week[week_of(finished)]
        row[0] += 1
        row[1] += sent
        row[2] += failed
    data.editions = {w: (r[0], r[1], r[2]) for w, r in per_week.items()}
    return data


@functools.cache
def _counts_statement(with_posts: bool) -> Select[tuple[str, str, str, int]]:
    """Sign-ups, feed requests (and posts) for a span of weeks, days (and months): each
    metric's periods as a range of its primary key (labels sort as dates do). Built
    once: a list of 52 periods, or a statement built per request, cost more than the
    rows cost to read."""

    def span(metrics: Any, first: str, last: str) -> Any:
        return and_(metrics, InsightCount.period.between(bindparam(first), bindparam(last)))

    wanted = [
        span(InsightCount.metric.in_(EVENTS), "week0", "week1"),
        span(InsightCount.metric == "feed_requests", "day0", "day1"),
    ]
    if with_posts:
        wanted.append(span(InsightCount.metric == "posts", "month0", "month1"))
    return select(
        InsightCount.metric, InsightCount.period, InsightCount.key, InsightCount.count
    ).where(or_(*wanted))


def _add_counts(session: Session, data: ReachData, *, with_posts: bool) -> None:
    """The counts made as things happen (sign-ups, feed requests), and posts if asked,
    for the page's weeks, days and months, in place of any the figures had."""
    # New dicts, not changed in place: current() compares them with the kept ones.
    data.events, data.feeds = {}, {}
    if with_posts:
        data.posts = {}
    spans = {
        "week0": data.weeks[0],
        "week1": data.weeks[-1],
        "day0": data.days[0],
        "day1": data.days[-1],
        "month0": data.months[0],
        "month1": data.months[-1],
    }
    rows = session.connection().execute(_counts_statement(with_posts), spans)
    for metric, period, key, count in rows:
        if metric in EVENTS:
            data.events.setdefault(metric, {})[period] = count
        elif metric == "posts":
            data.posts.setdefault(period, {})[key] = count
        else:
            data.feeds.setdefault(period, {})[key] = count


def _figures(raw: dict[str, Any]) -> ReachData:
    raw["editions"] = {week: tuple(row) for week, row in raw["editions"].items()}
    raw["then_day"] = dt.date.fromisoformat(raw["then_day"]) if raw["then_day"] else None
    return ReachData(**raw)


def keep_built(
    session: Session,
    generation: int,
    today: dt.date,
    render: Callable[[ReachData], dict[str, str]],
) -> None:
    """Read what changes only at a refresh, and the page's parts made from it with
    ``render``, and keep both (the worker, after each refresh)."""
    data = load(session, today)
    body = {"figures": dataclasses.asdict(data), "parts": render(data)}
    built.keep(session, KEPT_AS, generation, today, json.dumps(body, default=str))


def current(
    session: Session, generation: int, today: dt.date
) -> tuple[ReachData, dict[str, str] | None]:
    """The figures as kept for this generation and day, with the live counts read now,
    and the page's kept parts: without those of ``LIVE_TABLES`` when their counts have
    moved since (make them again). When nothing was kept (the worker has not built it
    yet), the figures read from the summaries and no parts."""
    kept = built.read(session, KEPT_AS, generation, today)
    if kept is None:
        return load(session, today), None
    body = json.loads(kept)
    data = _figures(body["figures"])
    then = (data.events, data.feeds)
    _add_counts(session, data, with_posts=False)
    parts: dict[str, str] = body["parts"]
    if (data.events, data.feeds) != then:
        parts = {name: html for name, html in parts.items() if name not in LIVE_TABLES}
    return data, parts


def week_label(week: str) -> str:
    return "w/c " + week_start(week).strftime("%-d %b %Y")


def tables(data: ReachData) -> list[Table]:
    """Every table of the reach page; each count through the small-number rule."""
    freq_rows = []
    for week in data.weeks:
        counts = [data.frequency.get(week, {}).get(f, 0) for f in FREQUENCIES]
        freq_rows.append([week_label(week), *(shown(n) for n in counts), total(counts)])
    event_rows = [
        [week_label(w), *(shown(data.events.get(e, {}).get(w, 0)) for e in EVENTS)]
        for w in data.weeks
    ]
    edition_rows = [
        [week_label(w), *(shown(n) for n in data.editions.get(w, (0, 0, 0)))] for w in data.weeks
    ]
    post_rows = [
        [month_label(m), *(shown(data.posts.get(m, {}).get(p, 0)) for p in PLATFORMS)]
        for m in data.months
    ]
    feed_rows = []
    for day in data.days:
        counts = [data.feeds.get(day, {}).get(k, 0) for k in ("full", "conditional")]
        feed_rows.append([dt.date.fromisoformat(day).strftime("%a %-d %b"), *map(shown, counts)])
    demand_rows = []
    for topic, label in data.topic_labels.items():
        demand_rows.append(
            [
                label,
                shown(data.demand.get(topic, 0)),
                shown(data.demand_then.get(topic, 0)),
                shown(data.supply.get(topic, 0)),
            ]
        )
    for name, dim in DIMENSION_NAMES.items():
        demand_rows.append(
            [
                f"{dim}: any (chose none, so get all)",
                shown(data.demand.get(f"{name}:any", 0)),
                shown(data.demand_then.get(f"{name}:any", 0)),
                "",
            ]
        )
    then_label = (
        f"Subscribers on {data.then_day.strftime('%-d %b %Y')}" if data.then_day else "Earlier"
    )
    return [
        Table(
            "frequency",
            "Subscribers by how often they hear from us, at the end of each week",
            ["Week", *(f.capitalize() for f in FREQUENCIES), "All"],
            freq_rows,
        ),
        Table(
            "events",
            "Sign-ups, confirmations and unsubscribes per week",
            ["Week", *EVENTS.values()],
            event_rows,
        ),
        Table(
            "editions",
            "Newsletter editions finished per week, and emails sent and failed",
            ["Week", "Editions", "Emails sent", "Emails failed"],
            edition_rows,
        ),
        Table(
            "posts",
            "Social media posts published per month, by platform",
            ["Month", *(p.capitalize() if p != "x" else "X" for p in PLATFORMS)],
            post_rows,
        ),
        Table(
            "feeds",
            "Feed requests per day (full downloads, and checks that found nothing new)",
            ["Day", "Full", "Nothing new (304)"],
            feed_rows,
        ),
        Table(
            "demand",
            "Demand beside supply: subscribers who chose each topic, and checked services it has",
            ["Topic", "Subscribers now", then_label, "Checked services"],
            demand_rows,
        ),
    ]
