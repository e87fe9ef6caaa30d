"""/health: freshness over time, changes per month by kind, coverage with gaps marked."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from xml.etree import ElementTree

import pytest

from publisher.db import utcnow
from publisher.insight import health_views, memo
from publisher.insight.periods import today_uk
from publisher.models import InsightBuilt
from tests.insight.conftest import Log

pytestmark = pytest.mark.date_sensitive
SVG = "{http://www.w3.org/2000/svg}"


def _svgs(html: str) -> list[ElementTree.Element]:
    return [ElementTree.fromstring(m) for m in re.findall(r"<svg .*?</svg>", html, re.S)]


def _table_cell(html: str, row: str, after: str = "") -> list[str]:
    html = html[html.index(after) :] if after else html
    found = re.search(rf"<tr><th scope=\"row\">{re.escape(row)}</th>(.*?)</tr>", html, re.S)
    assert found, row
    return re.findall(r"<td[^>]*>(.*?)</td>", found.group(1))


def test_health_page_numbers_charts_and_gaps(log: Log, client: Any) -> None:
    today = today_uk()
    for i in range(4):
        log.entry(f"Play {i}", minimum_age=1, maximum_age=4, needs=["sensory-physical"])
    log.entry("Tutor", minimum_age=6, maximum_age=10, needs=["sensory-physical"])
    log.entry(
        "Old", assured_date=today - dt.timedelta(days=500), stale=True, needs=["cognition-learning"]
    )
    entry = log.entry(
        "New club", minimum_age=12, maximum_age=15, needs=["communication-interaction"]
    )
    log.change(entry, "added", at=utcnow())
    log.refresh(today)
    response = client.get("/health")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # 6 of the 7 present services were checked within 12 months.
    assert "6 of 7 active services (86%)" in html
    svgs = _svgs(html)
    assert len(svgs) == 4
    for svg in svgs:
        assert svg.get("role") == "img"
        assert svg.find(f"{SVG}title") is not None and svg.find(f"{SVG}desc") is not None
    # Coverage: 4 services for sensory 0-5 (ok), 1 for sensory 5-11 (thin), none for 16-25.
    assert _table_cell(html, "Sensory and physical needs") == ["4", "1 (thin)", "none", "none"]
    assert "Cognition and learning, ages 0-5" in html  # its only service is out of date
    # Changes per month by kind: this month's row counts the one added service.
    month = today.strftime("%b %Y")
    assert _table_cell(html, month, "Changes per month, by kind</caption>")[0] == "1"


def test_health_page_before_any_figures(client: Any, log: Log) -> None:
    html = client.get("/health").get_data(as_text=True)
    assert "No figures yet" in html


def test_every_process_reads_the_page_built_after_the_refresh(
    log: Log, app: Any, client: Any
) -> None:
    log.entry("Play", minimum_age=1, maximum_age=4, needs=["sensory-physical"])
    log.refresh()
    with app.test_request_context("/health"):
        health_views.keep_built(log.session)
    log.session.commit()
    kept = log.session.get(InsightBuilt, "health")
    assert kept is not None and "How healthy is the Local Offer?" in kept.body
    # Another process (nothing kept in memory) answers with the kept page as it is.
    kept.body = kept.body.replace("How healthy", "Kept: how healthy")
    log.session.commit()
    memo.clear_all()
    assert "Kept: how healthy" in client.get("/health").get_data(as_text=True)
    # After the next refresh the kept page is for an older generation: built again.
    log.entry("Club", minimum_age=6, maximum_age=9)
    log.refresh()
    memo.clear_all()
    fresh = client.get("/health").get_data(as_text=True)
    assert "Kept: how healthy" not in fresh and "How healthy is the Local Offer?" in fresh
