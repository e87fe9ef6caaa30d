"""``publisher report annual``: the year's Local Offer report as printable HTML and CSV."""

from __future__ import annotations

from pathlib import Path

import click

from publisher.cli.common import main, ready_database
from publisher.db import session_scope
from publisher.insight import annual
from publisher.insight.periods import today_uk


@main.group()
def report() -> None:
    """Reports built from the open-data summaries."""


@report.command("annual")
@click.option("--year", type=click.IntRange(2000, 2100), help="Default: this year (so far).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write (default: standard output).",
)
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report's tables as CSV here.",
)
def report_annual(year: int | None, out: Path | None, csv_out: Path | None) -> None:
    """Freshness, changes, coverage and gaps, reach, and "You said, we did" for one year,
    as a page that prints cleanly to PDF from a browser."""
    ready_database()
    from publisher.web import create_app

    today = today_uk()
    chosen = year or today.year
    with session_scope() as session:
        built = annual.build(session, chosen, today)
    app = create_app()
    with app.test_request_context("/"):
        page = annual.report_html(built)
    if out is None:
        click.echo(page)
    else:
        out.write_text(page, encoding="utf-8")
        click.echo(f"Wrote {out} ({chosen}, figures to {built.upto:%-d %B %Y})", err=True)
    if csv_out is not None:
        csv_out.write_text(annual.report_csv(built), encoding="utf-8")
        click.echo(f"Wrote {csv_out}", err=True)
