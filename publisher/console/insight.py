"""Console pages for officers: who the Local Offer reaches, and the annual report.

Both read the summaries only; every count of people goes through the small-number rule.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, get_template_attribute, render_template, request
from markupsafe import Markup
from sqlalchemy.orm import Session

from publisher.console.auth import requires
from publisher.console.blueprint import bp
from publisher.insight import annual, charts, export, memo, reach
from publisher.insight.disclosure import FEWER, for_chart
from publisher.insight.periods import today_uk, week_start


def reach_csv_text(tables: list[reach.Table]) -> str:
    """Every table in one tidy CSV: table, row, column, value."""
    rows = [
        [t.ident, row[0], column, value]
        for t in tables
        for row in t.rows
        for column, value in zip(t.columns[1:], row[1:], strict=True)
    ]
    return export.csv_text(["table", "row", "column", "value"], rows)


# Counts added between refreshes (sign-ups, feed requests) show within this long. The
# page's figures (title, chart and tables) are kept with the counts they were made from:
# they are the same for every officer (the page around them is not).
_loaded: memo.Memo[tuple[reach.ReachData, Markup]] = memo.Memo(60)
HEAD = "head"
PARTS = "web/console/reach_parts.html"
ORDER = (HEAD, *reach.TABLES)  # the parts, as the page shows them


def _reach() -> tuple[reach.ReachData, Markup]:
    today = today_uk()
    generation = memo.generation(g.db)

    def build() -> tuple[reach.ReachData, Markup]:
        data, kept = reach.current(g.db, generation, today)
        parts = dict(kept or {})
        missing = set(ORDER) - parts.keys()
        if missing:
            parts.update(_parts(data, missing))
        # Every part is an autoescaped template's output (here, or in the worker).
        return data, Markup("".join(parts[name] for name in ORDER))  # noqa: S704

    return _loaded.get((generation, today), build)


def keep_reach(session: Session) -> None:
    """The worker, after each refresh (in a request context, for the page's links)."""
    reach.keep_built(session, memo.generation(session), today_uk(), lambda d: _parts(d, set(ORDER)))


def _parts(data: reach.ReachData, wanted: set[str]) -> dict[str, str]:
    """These parts of the page's figures: HEAD (title and chart) and tables by name."""
    parts = {
        t.ident: str(get_template_attribute(PARTS, "table")(t))
        for t in reach.tables(data)
        if t.ident in wanted
    }
    if HEAD in wanted:
        series = [
            charts.Series(
                f.capitalize(),
                [for_chart(data.frequency.get(w, {}).get(f, 0)) for w in data.weeks],
            )
            for f in reach.FREQUENCIES
        ]
        chart = charts.stacked_bars(
            "subs",
            [week_start(w).strftime("%-d %b") for w in data.weeks],
            series,
            title="Subscribers by how often they hear from us, each week",
            desc=f"Counts under 10 are not drawn; the table below says {FEWER}.",
        )
        head = get_template_attribute(PARTS, "head")
        parts[HEAD] = str(head(chart, series, charts.SERIES_COLOURS, FEWER))
    return parts


@bp.get("/reach")
@requires("view")
def reach_page() -> Any:
    return render_template("web/console/reach.html", content=_reach()[1])


@bp.get("/reach.csv")
@requires("view")
def reach_csv() -> Any:
    body = reach_csv_text(reach.tables(_reach()[0]))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=local-offer-reach.csv"},
    )


def _year_arg() -> int | None:
    raw = request.args.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else None


@bp.get("/report/annual")
@requires("view")
def annual_report() -> Any:
    from flask import url_for

    today = today_uk()
    year = _year_arg() or today.year
    report = annual.build(g.db, year, today)
    return annual.report_html(
        report,
        back_url=url_for("console.home"),
        csv_url=url_for("console.annual_report_csv", year=year),
    )


@bp.get("/report/annual.csv")
@requires("view")
def annual_report_csv() -> Any:
    today = today_uk()
    year = _year_arg() or today.year
    return Response(
        annual.report_csv(annual.build(g.db, year, today)),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=local-offer-report-{year}.csv"},
    )
