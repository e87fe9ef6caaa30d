"""The annual report: `publisher report annual` and the console page, HTML and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from publisher.cli import main
from publisher.console.users import create_user
from publisher.insight.periods import today_uk
from tests.console.conftest import PASSWORD, Officer
from tests.insight.conftest import Log

pytestmark = pytest.mark.date_sensitive


def _year_of_changes(log: Log) -> int:
    today = today_uk()
    year = today.year
    for month in range(1, today.month + 1):
        entry = log.entry(
            f"=Service {month}", needs=["sensory-physical"], minimum_age=3, maximum_age=9
        )
        log.change(entry, "added", at=dt.datetime(year, month, 2, 12, tzinfo=dt.UTC))
    log.refresh()
    return year


def test_cli_writes_printable_html_and_csv(log: Log, tmp_path: Path, env: Any) -> None:
    year = _year_of_changes(log)
    out, table = tmp_path / "report.html", tmp_path / "report.csv"
    result = CliRunner().invoke(
        main, ["report", "annual", "--year", str(year), "--out", str(out), "--csv", str(table)]
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert f"Local Offer annual report {year}" in page
    assert "@media print" in page and "You said, we did" in page
    assert page.count("<svg") == 2
    rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    added = [r for r in rows if r["table"] == "changes" and r["column"] == "New"]
    assert len(added) == 12
    assert sum(int(r["value"]) for r in added) == today_uk().month
    assert any(r["table"] == "subscriptions" and r["value"] == "fewer than 10" for r in rows)
    # The tables list no bare number for people under 10, and nothing a spreadsheet runs.
    for r in rows:
        assert not r["value"].startswith(("=", "+", "-", "@"))


def test_console_report_for_a_past_year_is_empty_not_broken(
    log: Log, session: Session, app: Any
) -> None:
    _year_of_changes(log)
    create_user(session, "officer@council.example", "editor", PASSWORD)
    session.commit()
    officer = Officer(app)
    assert officer.login("officer@council.example").status_code == 302
    year = today_uk().year
    this = officer.get(f"/console/report/annual?year={year}")
    assert this.status_code == 200 and "Back to the console" in this.get_data(as_text=True)
    past = officer.get(f"/console/report/annual?year={year - 3}").get_data(as_text=True)
    assert f"annual report {year - 3}" in past and "No figures for this year" in past
    download = officer.get(f"/console/report/annual.csv?year={year}")
    assert download.headers["Content-Disposition"].endswith(f"local-offer-report-{year}.csv")
    # Signed out: no report.
    assert app.test_client().get("/console/report/annual").status_code == 302


def test_report_shows_the_years_you_said_we_did(log: Log, session: Session, env: Any) -> None:
    from publisher.insight import annual
    from publisher.models.feedback import Feedback, FeedbackState
    from publisher.web import create_app

    now = dt.datetime.now(dt.UTC)
    session.add(
        Feedback(
            topic="other",
            words="x",
            consent_to_publish=True,
            state=FeedbackState.PUBLISHED,
            you_said="The short breaks list was out of date",
            response="We asked every provider to check it",
            action="42 entries updated",
            published_at=now,
        )
    )
    session.commit()
    report = annual.build(session, now.year, today_uk())
    assert report.you_said == [
        (
            "The short breaks list was out of date",
            "We asked every provider to check it We did: 42 entries updated",
        )
    ]
    with create_app({"TESTING": True}).test_request_context("/"):
        page = annual.report_html(report)
    assert "You said: The short breaks list was out of date" in page
    assert "We did: 42 entries updated" in page
