"""``/health``: how healthy the Local Offer is, in public, from the summaries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, render_template, request
from sqlalchemy.orm import Session

from publisher.db import session_factory
from publisher.insight import built, charts, health, memo
from publisher.insight.periods import today_uk

bp = Blueprint("insight_health", __name__)
CACHE_SECONDS = 300


def _pct(value: float | None) -> str:
    return "no figures" if value is None else f"{round(value)}%"


_built: memo.Memo[str] = memo.Memo(CACHE_SECONDS)
KEPT_AS = "health"


@bp.get("/health")
def health_page() -> Any:
    today = today_uk()
    with session_factory()() as session:
        # The page changes only when the summaries do: the worker builds it once per
        # refresh (keep_built); this process keeps what it read or built until then.
        generation = memo.generation(session)
        body = _built.get(
            (generation, today),
            lambda: built.read(session, KEPT_AS, generation, today) or _build(session, today),
        )
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.add_etag()
    return response.make_conditional(request)


def keep_built(session: Session) -> None:
    """Build the page for the summaries as they are now and keep it for every process
    (the worker, in a request context for ``/health``, after each refresh)."""
    today = today_uk()
    built.keep(session, KEPT_AS, memo.generation(session), today, _build(session, today))


def _build(session: Session, today: dt.date) -> str:
    fresh = health.freshness(session, today)
    months = health.changes_by_month(session, today)
    cover = health.coverage(session, today)
    latest = next((p for p in reversed(fresh) if p.day), None)
    year_ago = next((p for p in fresh if p.month == months.months[0]), None)
    fresh_chart = charts.line_chart(
        "fresh",
        [p.label for p in fresh],
        [p.share for p in fresh],
        title="Share of active services checked in the last 12 months, by month",
        desc=(
            f"Latest: {_pct(latest.share)} on {latest.day.strftime('%-d %B %Y')}."
            if latest and latest.day
            else "No figures yet."
        ),
    )
    series = [charts.Series(label, months.kinds[k]) for k, label in health.KIND_LABELS.items()]
    changes_chart = charts.stacked_bars(
        "changes",
        [label[:3] + " " + label[-2:] for label in months.labels],
        series,
        title="Changes per month by kind, last 12 months",
        desc="; ".join(f"{s.label}: {sum(s.values):,}" for s in series) + " in all.",
    )
    grid_chart = charts.heat_grid(
        "cover",
        [label for _, label in cover.need_rows],
        [age for _, age in cover.age_columns],
        cover.grid,
        title="Checked, active services by area of need and age band",
        desc=(
            f"{len(cover.gaps())} empty pairs, marked none; thin cells (fewer than "
            f"{health.THIN_BELOW}) are hatched."
        ),
    )
    place_chart = charts.bar_list(
        "places",
        [label for _, label, _ in cover.localities],
        [c.count for _, _, c in cover.localities],
        [c.level for _, _, c in cover.localities],
        title="Checked, active services by area",
        desc=f"Areas with fewer than {health.THIN_BELOW} are hatched; none means no services.",
    )
    return render_template(
        "web/health.html",
        fresh=fresh,
        latest=latest,
        year_ago=year_ago if year_ago and year_ago.day and year_ago is not latest else None,
        months=months,
        kind_labels=health.KIND_LABELS,
        colours=charts.SERIES_COLOURS,
        cover=cover,
        thin_below=health.THIN_BELOW,
        fresh_chart=fresh_chart,
        changes_chart=changes_chart,
        grid_chart=grid_chart,
        place_chart=place_chart,
        pct=_pct,
    )
