"""The reach page and its CSV: counts from real sign-ups, confirmations and unsubscribes,
and the small-number rule everywhere (property-tested)."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from publisher.console.insight import keep_reach, reach_csv_text
from publisher.console.users import create_user
from publisher.insight import memo, reach
from publisher.insight.disclosure import FEWER, HIDDEN_TOTAL, shown, total
from publisher.insight.periods import today_uk
from publisher.models import ConsentSource, EndReason, Frequency, InsightBuilt
from publisher.subscriptions import lifecycle, tokens
from publisher.subscriptions.preferences import Choice
from tests.console.conftest import PASSWORD, Officer
from tests.insight.conftest import Log

pytestmark = pytest.mark.date_sensitive
BARE_NUMBER = re.compile(r"^\d[\d,]*$")


def _assert_no_small_numbers(cells: list[str]) -> None:
    for cell in cells:
        if BARE_NUMBER.match(cell):
            assert int(cell.replace(",", "")) >= 10, cell


counts = st.integers(min_value=0, max_value=40)


@st.composite
def reach_data(draw: st.DrawFn) -> tuple[reach.ReachData, list[int]]:
    today = today_uk()
    data = reach.ReachData(
        weeks=reach._weeks(today),
        months=["2026-01", "2026-02"],
        days=["2026-02-01"],
        topic_labels={"need:sensory-physical": "Need: Sensory", "age:0-5": "Age: 0 to 5"},
    )
    raw: list[int] = []

    def n() -> int:
        value = draw(counts)
        raw.append(value)
        return value

    for week in data.weeks:
        data.frequency[week] = {f: n() for f in reach.FREQUENCIES}
        data.editions[week] = (n(), n(), n())
        for event in reach.EVENTS:
            data.events.setdefault(event, {})[week] = n()
    data.posts = {m: {p: n() for p in reach.PLATFORMS} for m in data.months}
    data.feeds = {d: {"full": n(), "conditional": n()} for d in data.days}
    data.demand = {t: n() for t in [*data.topic_labels, "need:any"]}
    data.demand_then = {t: n() for t in data.topic_labels}
    data.supply = {t: n() for t in data.topic_labels}
    return data, raw


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reach_data())
def test_no_count_under_ten_is_ever_shown(drawn: tuple[reach.ReachData, list[int]]) -> None:
    data, raw = drawn
    tables = reach.tables(data)
    page_cells = [c for t in tables for row in t.rows for c in row[1:]]
    _assert_no_small_numbers(page_cells)
    exported = list(csv.DictReader(io.StringIO(reach_csv_text(tables))))
    _assert_no_small_numbers([r["value"] for r in exported])
    assert len(exported) == len(page_cells)
    # Every small count became the words, so the words appear when a small count exists.
    if any(v < 10 for v in raw):
        assert FEWER in page_cells


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=6))
def test_totals_never_give_a_hidden_part_away(parts: list[int]) -> None:
    shown_total = total(parts)
    if any(p < 10 for p in parts):
        assert shown_total == HIDDEN_TOTAL
    else:
        assert shown_total == f"{sum(parts):,}"
    for p in parts:
        assert (shown(p) == FEWER) == (p < 10)


def _sign_up(session: Session, email: str, frequency: Frequency, confirm: bool) -> Any:
    notice = lifecycle.request_subscription(
        session,
        email,
        Choice(needs=["sensory-physical"], frequency=frequency),
        ConsentSource.WEB_FORM,
    )
    assert notice is not None and notice.consent_id is not None
    if confirm:
        token = tokens.make(tokens.CONFIRM, notice.subscriber_id, notice.consent_id)
        assert lifecycle.confirm(session, token) is lifecycle.ConfirmResult.CONFIRMED
    return notice


def test_reach_page_and_csv_from_real_sign_ups(log: Log, session: Session, app: Any) -> None:
    for i in range(12):
        _sign_up(session, f"weekly{i}@example.org", Frequency.WEEKLY, confirm=True)
    for i in range(3):
        _sign_up(session, f"daily{i}@example.org", Frequency.DAILY, confirm=True)
    _sign_up(session, "pending@example.org", Frequency.WEEKLY, confirm=False)
    leaver = lifecycle.find_by_email(session, "weekly0@example.org")
    assert leaver is not None
    lifecycle.end_subscription(session, leaver, EndReason.UNSUBSCRIBED)
    create_user(session, "officer@council.example", "editor", PASSWORD)
    session.commit()
    log.refresh()
    officer = Officer(app)
    assert officer.login("officer@council.example").status_code == 302
    html = officer.get("/console/reach").get_data(as_text=True)
    week = reach.week_label(reach._weeks(today_uk())[-1])
    row = re.search(rf"<tr><th scope=\"row\">{re.escape(week)}</th>(.*?)</tr>", html, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    # immediate, daily, weekly, monthly, all: 11 weekly now (one left), 3 daily hidden.
    assert cells == [FEWER, FEWER, "11", FEWER, HIDDEN_TOTAL]
    events = list(
        csv.DictReader(io.StringIO(officer.get("/console/reach.csv").get_data(as_text=True)))
    )
    this_week = {
        r["column"]: r["value"] for r in events if r["table"] == "events" and r["row"] == week
    }
    assert this_week == {"Asked to sign up": "16", "Confirmed": "15", "Unsubscribed": FEWER}
    demand = {
        r["row"]: r for r in events if r["table"] == "demand" and r["column"] == "Subscribers now"
    }
    assert demand["Need: Sensory and physical needs"]["value"] == "14"
    _assert_no_small_numbers([r["value"] for r in events])


def test_kept_figures_are_read_and_new_sign_ups_still_show(
    log: Log, session: Session, app: Any
) -> None:
    """The worker keeps what changes only at a refresh, and the page's parts made from
    it; a request uses the kept parts, and makes again only the tables of the counts
    that have moved since (sign-ups), from the kept figures and those counts."""
    for i in range(12):
        _sign_up(session, f"weekly{i}@example.org", Frequency.WEEKLY, confirm=True)
    create_user(session, "officer@council.example", "editor", PASSWORD)
    session.commit()
    log.refresh()
    generation, today = memo.generation(session), today_uk()
    with app.test_request_context("/health"):
        keep_reach(session)
    session.commit()
    kept = session.get(InsightBuilt, reach.KEPT_AS)
    assert kept is not None and kept.generation == generation
    # Mark what was kept, so that the page shows which of it it used.
    body = json.loads(kept.body)
    week = reach._weeks(today)[-1]
    label = reach.week_label(week)
    body["figures"]["frequency"][week]["weekly"] = 77
    assert set(body["parts"]) == {"head", *reach.TABLES}
    body["parts"]["head"] = body["parts"]["head"].replace(
        "Who the Local Offer reaches", "Kept page"
    )
    kept.body = json.dumps(body)
    session.commit()
    officer = Officer(app)
    assert officer.login("officer@council.example").status_code == 302

    def cells(html: str, table: str) -> list[str]:
        part = html.split(f'<h2 id="{table}">', 1)[1].split("</table>", 1)[0]
        row = re.search(rf"<tr><th scope=\"row\">{re.escape(label)}</th>(.*?)</tr>", part)
        assert row is not None
        return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))

    html = officer.get("/console/reach").get_data(as_text=True)
    assert "<h1>Kept page</h1>" in html
    assert cells(html, "frequency")[2] == "12" and cells(html, "events")[0] == "12"

    for i in range(11):  # after the refresh: counted at once, not kept yet
        _sign_up(session, f"later{i}@example.org", Frequency.DAILY, confirm=False)
    session.commit()
    memo.clear_all()  # what the process kept for up to a minute
    html = officer.get("/console/reach").get_data(as_text=True)
    assert "<h1>Kept page</h1>" in html and cells(html, "frequency")[2] == "12"  # kept
    assert cells(html, "events") == ["23", "12", FEWER]  # made again with the new counts
    rows = list(
        csv.DictReader(io.StringIO(officer.get("/console/reach.csv").get_data(as_text=True)))
    )
    cell = {(r["table"], r["row"], r["column"]): r["value"] for r in rows}
    assert cell[("frequency", label, "Weekly")] == "77"
    assert cell[("events", label, "Asked to sign up")] == "23"
    assert cell[("events", label, "Confirmed")] == "12"
