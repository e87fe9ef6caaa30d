"""The stale entries report: the list, its CSV, and the history computed from the change log."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools

import pytest

from publisher.console.stale import history, stale_entries
from publisher.db import utcnow
from publisher.models import ChangeKind
from publisher.uk_time import LONDON
from tests.factories import make_entry, make_source, record_change

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def build(session):
    """Three entries with a history: one goes stale three weeks ago, one is removed two
    weeks ago, one stays fresh."""
    now = utcnow()
    source = make_source(session, "north")
    old = dt.date.today() - dt.timedelta(days=500)
    weeks_ago = lambda n: now - dt.timedelta(weeks=n)  # noqa: E731
    stale = make_entry(
        session,
        source,
        "s1",
        "Old Swim Club",
        assured_date=old,
        email="swim@example.org",
        organisation="Swim Trust",
        first_seen_at=weeks_ago(10),
    )
    gone = make_entry(session, source, "g1", "Closed Cafe", first_seen_at=weeks_ago(10))
    fresh = make_entry(session, source, "f1", "Fresh Play", first_seen_at=weeks_ago(10))
    for entry in (stale, gone, fresh):
        record_change(session, entry, ChangeKind.ADDED, occurred_at=weeks_ago(10))
    stale.stale = True
    record_change(session, stale, ChangeKind.BECAME_STALE, occurred_at=weeks_ago(3))
    gone.present = False
    record_change(session, gone, ChangeKind.REMOVED, occurred_at=weeks_ago(2))
    # An entry that is new this week, never in a change row (say, seen in a baseline crawl).
    make_entry(session, source, "n1", "New Group", first_seen_at=now - dt.timedelta(hours=1))
    session.commit()
    return stale


def test_history_counts_from_the_change_log(session):
    build(session)
    points = history(session, weeks=12)
    assert len(points) == 12
    assert all(b.day - a.day == dt.timedelta(days=7) for a, b in itertools.pairwise(points))
    by_age = {11 - i: (p.active, p.stale) for i, p in enumerate(points)}
    assert by_age[11] == (0, 0)  # before anything was seen
    assert by_age[9] == (3, 0)  # all three added, none stale
    assert by_age[2] == (1, 1)  # one went stale, one removed
    assert by_age[0] == (2, 1)  # plus the new group


def test_stale_list_and_page(session, sign_in):
    build(session)
    entries = stale_entries(session)
    assert [e.name for e in entries] == ["Old Swim Club"]
    assert entries[0].link == "https://localoffer.example.gov.uk/services/s1"
    assert entries[0].days_since_assured == 500
    assert entries[0].stale_since is not None
    assert utcnow() - entries[0].stale_since > dt.timedelta(days=20)
    page = sign_in("editor").get("/console/stale").get_data(as_text=True)
    assert "1 entry needs checking." in page
    assert '<a href="https://localoffer.example.gov.uk/services/s1">Old Swim Club</a>' in page
    assert "swim@example.org" in page and "Swim Trust" in page
    assert entries[0].stale_since.astimezone(LONDON).strftime("%-d %B %Y") in page
    assert "Entries at the end of each week" in page


def test_stale_csv(session, sign_in):
    stale = build(session)
    stale.organisation = '=HYPERLINK("http://evil")'
    session.commit()
    response = sign_in("editor").get("/console/stale.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["name", "source", "entry id", "last checked"]
    assert rows[1][0] == "Old Swim Club"
    assert rows[1][5].startswith("'=")  # never a live formula in a spreadsheet
    assert rows[1][6] == "swim@example.org"
    assert rows[0][8] == "stale since" and rows[1][8] != ""
    assert len(rows) == 2


# ---- ux (issue 13.6): since when each entry is stale, and the chart at 320 px --------


def test_stale_since_comes_from_the_log_or_is_worked_out(session, monkeypatch):
    monkeypatch.setenv("STALE_AFTER_DAYS", "365")
    from publisher.config import reset_settings

    reset_settings()
    now = utcnow()
    source = make_source(session, "south")
    assured = dt.datetime.now(LONDON).date() - dt.timedelta(days=400)
    quiet = make_entry(session, source, "q", "Quiet Club", assured_date=assured, stale=True)
    never = make_entry(
        session,
        source,
        "v",
        "Never Checked",
        stale=True,
        assured_date=None,
        first_seen_at=now - dt.timedelta(days=9),
    )
    arrived = make_entry(session, source, "a", "Arrived Stale", stale=True, assured_date=assured)
    record_change(session, arrived, ChangeKind.ADDED, occurred_at=now - dt.timedelta(days=4))
    session.commit()
    found = {e.name: e for e in stale_entries(session)}
    assert found["Arrived Stale"].since_from_log
    assert found["Arrived Stale"].stale_since == now - dt.timedelta(days=4)
    worked = found["Quiet Club"]
    assert not worked.since_from_log and worked.stale_since is not None
    assert worked.stale_since.astimezone(LONDON).date() == assured + dt.timedelta(days=366)
    assert not found["Never Checked"].since_from_log
    assert found["Never Checked"].stale_since == never.first_seen_at
    assert quiet.id != never.id


@pytest.mark.browser
def test_the_chart_lines_up_with_its_labels_at_320_px(session, officers, app, live_app, browser):
    from tests.browser import check_widths
    from tests.console.test_browser import sign_in_by_keyboard

    build(session)
    server = live_app(app)
    page = browser.new_page()
    try:
        sign_in_by_keyboard(page, server.url, "editor@council.example")
        page.goto(server.url + "/console/stale")
        assert "worked out" not in page.inner_text("main")  # its date is in the log
        check_widths(page, "stale-report")
        page.set_viewport_size({"width": 320, "height": 900})
        offsets = page.evaluate(
            """() => {
              const bars = [...document.querySelectorAll('.chart .bar')];
              const labels = [...document.querySelectorAll('.chart-labels span')];
              return bars.map((b, i) => {
                const r = b.getBoundingClientRect(), l = labels[i].getBoundingClientRect();
                return Math.abs((r.left + r.right) / 2 - (l.left + l.right) / 2);
              });
            }"""
        )
        assert len(offsets) == 12 and max(offsets) < 3, offsets
    finally:
        page.close()
