"""/changes, its downloads and /api/changes: the feeds' rules, filters, pages, 400s."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from sqlalchemy import insert, select

from publisher.db import utcnow
from publisher.insight import selection, tagbits
from publisher.models import Entry, InsightChangeTopic, InsightTagBit
from tests.insight.conftest import Log

# Dates worked out from now: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def _seed(log: Log, count: int = 45) -> list[int]:
    """``count`` added services, one an hour (newest last), alternating needs and ages."""
    now = utcnow()
    ids = []
    for i in range(count):
        entry = log.entry(
            f"Service {i:02d}",
            minimum_age=2 if i % 2 else 12,
            maximum_age=4 if i % 2 else 15,
            needs=["sensory-physical"] if i % 3 == 0 else ["cognition-learning"],
        )
        ids.append(log.change(entry, "added", at=now - dt.timedelta(hours=count - i)).id)
    log.refresh()
    return ids


def _titles(html: str) -> list[str]:
    return re.findall(r"<h3><a href=\"[^\"]+\">([^<]+)</a></h3>", html)


def test_pages_walk_every_change_once_both_ways(log: Log, client: Any) -> None:
    _seed(log)
    seen: list[str] = []
    url = "/changes"
    pages = []
    while url:
        page = client.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        seen += _titles(html)
        pages.append(html)
        found = re.search(r'href="([^"]+)" rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert seen == [f"New: Service {i:02d}" for i in range(44, -1, -1)]
    assert len(pages) == 3
    assert "45 changes" in pages[0]
    # Back from the last page: "Newer changes" gives the second page again.
    back = re.search(r'href="([^"]+)" rel="prev"', pages[2])
    assert back is not None
    again = client.get(back.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert _titles(again) == _titles(pages[1])


def test_filters_combine(log: Log, client: Any) -> None:
    _seed(log, 12)
    html = client.get("/changes?age=0-5&need=sensory-physical").get_data(as_text=True)
    # Odd numbers are 2-4 (0-5); multiples of 3 are sensory: 3 and 9.
    assert _titles(html) == ["New: Service 09", "New: Service 03"]
    empty = client.get("/changes?kind=removed").get_data(as_text=True)
    assert "No changes match" in empty


def test_date_range_is_uk_dates(log: Log, client: Any) -> None:
    entry = log.entry("Late night club")
    # 23:30 UTC on 30 June is 00:30 on 1 July in UK summer time.
    log.change(entry, "added", at=dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC))
    log.refresh()
    assert _titles(client.get("/changes?from=2026-07-01&to=2026-07-01").get_data(as_text=True))
    assert not _titles(client.get("/changes?to=2026-06-30").get_data(as_text=True))


def test_bad_values_answer_400_with_the_valid_ones(log: Log, client: Any) -> None:
    for url in ("/changes?age=99", "/changes.csv?need=x", "/api/changes?kind=became_stale"):
        response = client.get(url)
        assert response.status_code == 400, url
        body = response.get_data(as_text=True)
        assert "0-5" in body and "sensory-physical" in body and "reopened" in body
    api = client.get("/api/changes?from=yesterday").get_json()
    assert "YYYY-MM-DD" in api["error"] and "kind" in api["valid"]
    assert client.get("/api/changes?limit=0").status_code == 400
    assert client.get("/api/changes?cursor=DROP%20TABLE").status_code == 400
    assert client.get("/changes?from=2026-02-02&to=2026-01-01").status_code == 400
    assert client.get("/changes?age=0-5&age=5-11").status_code == 400


def test_csv_is_guarded_and_complete(log: Log, client: Any) -> None:
    _seed(log, 3)
    evil = log.entry('=HYPERLINK("http://evil.example")', summary="@SUM(1+1)")
    log.change(evil, "added")
    log.refresh()
    response = client.get("/changes.csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert "license" in response.headers["Link"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 4
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert rows[0]["title"].startswith("New: ")  # "New: =HYPERLINK" starts safely
    assert rows[0]["summary"].startswith("'@SUM")


def test_json_download_has_licence_and_selection(log: Log, client: Any) -> None:
    _seed(log, 5)
    body = json.loads(client.get("/changes.json?age=0-5").get_data(as_text=True))
    assert body["licence"]["name"] == "Open Government Licence v3.0"
    assert body["selection"] == {"age": "0-5"}
    assert [i["title"] for i in body["items"]] == ["New: Service 03", "New: Service 01"]
    assert all("0-5" in i["age_bands"] for i in body["items"])


def test_api_cursor_pages_etag_and_304(log: Log, client: Any) -> None:
    ids = _seed(log, 7)
    got: list[int] = []
    url = "/api/changes?limit=3"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_json()
        got += [i["id"] for i in body["items"]]
        url = body["next"].split("example.gov.uk", 1)[1] if body["next"] else ""
    assert got == ids[::-1]
    first = client.get("/api/changes?limit=3")
    etag = first.headers["ETag"]
    assert client.get("/api/changes?limit=3", headers={"If-None-Match": etag}).status_code == 304
    # A new change changes the first page, so the old ETag no longer matches.
    log.change(log.entry("Brand new"), "added")
    log.refresh()
    assert client.get("/api/changes?limit=3", headers={"If-None-Match": etag}).status_code == 200


def test_openapi_document_lists_valid_values(client: Any) -> None:
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    params = {p["name"]: p for p in doc["paths"]["/api/changes"]["get"]["parameters"]}
    assert params["kind"]["schema"]["enum"] == ["added", "removed", "reopened", "updated"]
    assert "sensory-physical" in params["need"]["schema"]["enum"]


@pytest.mark.parametrize("walk_limit", [0, 10**9], ids=["gin-on-postgresql", "walk"])
def test_several_filters_page_through_in_order(
    log: Log, client: Any, walk_limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both plans: PostgreSQL's GIN containment (a rare mix) and the topic-index walk.
    monkeypatch.setattr(selection, "WALK_LIMIT", walk_limit)
    ids = _seed(log, 90)
    # Odd numbers are ages 0-5; of those, multiples of 3 are sensory: 3, 9, 15, ... 87.
    expected = [i for i in range(89, -1, -1) if i % 2 and i % 3 == 0]
    got: list[int] = []
    url = "/api/changes?age=0-5&need=sensory-physical&kind=added&limit=4"
    while url:
        body = client.get(url).get_json()
        got += [ids.index(item["id"]) for item in body["items"]]
        url = body["next"].split("example.gov.uk", 1)[1] if body["next"] else ""
    assert got == expected


@pytest.mark.parametrize(
    ("walk_limit", "kind_share"),
    [(0, 2.0), (10**9, 2.0), (10**9, 0.0)],
    ids=["gin-on-postgresql", "kind-walk", "plain-walk"],
)
def test_a_rare_kind_with_topics_pages_through_in_order(
    log: Log, client: Any, monkeypatch: pytest.MonkeyPatch, walk_limit: int, kind_share: float
) -> None:
    # Three plans for "came back, with these topics": GIN containment, the walk of the
    # kind's rows with the rarest other topic (kind walk index) and the plain walk of one
    # topic testing the kind's bit. The same changes, in the same order, from each.
    monkeypatch.setattr(selection, "WALK_LIMIT", walk_limit)
    monkeypatch.setattr(selection, "KIND_WALK_SHARE", kind_share)
    added = _seed(log, 60)
    now = utcnow()
    entries = {entry.name: entry for entry in log.session.scalars(select(Entry))}
    reopened: list[int] = []
    for n, i in enumerate(range(0, 60, 2)):  # even numbers: ages 11-16, came back
        at = now - dt.timedelta(minutes=30 - n)
        reopened.append(log.change(entries[f"Service {i:02d}"], "reopened", at=at).id)
    log.refresh()
    # Of the evens, multiples of 3 are sensory: 0, 6, 12, ... 54, newest first.
    expected = [reopened[i // 2] for i in range(58, -1, -2) if i % 3 == 0]
    got: list[int] = []
    url = "/api/changes?age=11-16&need=sensory-physical&kind=reopened&limit=3"
    while url:
        body = client.get(url).get_json()
        got += [item["id"] for item in body["items"]]
        url = body["next"].split("example.gov.uk", 1)[1] if body["next"] else ""
    assert got == expected and not set(got) & set(added)


def test_topics_past_the_last_bit_are_still_filtered(
    log: Log, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every bit already given to other topics: these ones get none, and the walk tests
    # them by their own index rows instead of the mask. The answers must not change.
    monkeypatch.setattr(selection, "WALK_LIMIT", 10**9)
    log.session.execute(
        insert(InsightTagBit),
        [{"tag": f"locality:elsewhere-{n}", "position": n} for n in range(tagbits.MASK_BITS)],
    )
    ids = _seed(log, 30)
    assert tagbits.values(log.session, ["age:0-5", "need:sensory-physical"]) == {}
    masks = log.session.scalars(select(InsightChangeTopic.mask).distinct()).all()
    assert masks == [0]
    body = client.get("/api/changes?age=0-5&need=sensory-physical&kind=added").get_json()
    assert [ids.index(item["id"]) for item in body["items"]] == [27, 21, 15, 9, 3]


def test_masks_hold_each_changes_own_topics(log: Log) -> None:
    _seed(log, 6)
    rows = log.session.execute(
        select(InsightChangeTopic.change_id, InsightChangeTopic.topic, InsightChangeTopic.mask)
    ).all()
    bits = tagbits.values(log.session, {topic for _, topic, _ in rows})
    assert len(bits) == len({topic for _, topic, _ in rows})  # every topic has a bit
    for change_id, _, mask in rows:
        own = {topic for cid, topic, _ in rows if cid == change_id}
        assert mask == sum(bits[t] for t in own)


def test_topic_links_narrow_the_selection(log: Log, client: Any) -> None:
    _seed(log, 6)
    html = client.get("/changes?kind=added").get_data(as_text=True)
    assert "More changes for:" in html
    link = re.search(r'<a href="(/changes\?[^"]+)">Sensory and physical needs</a>', html)
    assert link is not None
    narrowed = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert _titles(narrowed) == ["New: Service 03", "New: Service 00"]
    assert 'value="sensory-physical" selected' in narrowed


def test_an_update_says_what_changed_in_words(log: Log, client: Any) -> None:
    """/changes and its downloads tell a change as the emails and feeds do: the old and
    new values, not only which field changed."""
    entry = log.entry("Stay and play", opening_times="Monday to Friday, 9am to 5pm")
    log.change(
        entry,
        "updated",
        changed_fields=["opening_times"],
        details={
            "opening_times": {
                "old": "Monday to Thursday, 9am to 5pm",
                "new": "Monday to Friday, 9am to 5pm",
            }
        },
    )
    log.refresh()
    told = (
        "What changed: Opening times now Monday to Friday, 9am to 5pm "
        "(was Monday to Thursday, 9am to 5pm)."
    )
    assert told in client.get("/changes").get_data(as_text=True)
    (item,) = client.get("/api/changes").get_json()["items"]
    assert item["summary"].startswith(told)
