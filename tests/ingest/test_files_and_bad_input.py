"""JSON file sources, the official samples, and hostile input."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from publisher.db import session_scope
from publisher.ingest import add_source, crawl_source
from publisher.models import Change, Entry, QuarantinedRecord
from publisher.sources.records import RecordError, normalise
from tests.conftest import ORUK_SAMPLES
from tests.ingest.conftest import TODAY

BRISTOL = ORUK_SAMPLES / "v1-bristol-page" / "services_page1.json"
V3_INVALID = ORUK_SAMPLES / "v3-invalid" / "service_list.json"
V3_FULL = ORUK_SAMPLES / "v3-examples" / "service_full.json"


def _file_source(path: Path, name: str = "file") -> None:
    with session_scope() as session:
        add_source(session, name, str(path))


def test_real_bristol_page_is_read_with_mojibake_and_html_repaired(crawl_env, tmp_path):
    _file_source(BRISTOL)
    summary = crawl_source("file", today=TODAY, notify=False)
    assert summary.status == "complete"
    assert summary.counts["added"] == 50 and summary.counts["quarantined"] == 0
    with session_scope() as session:
        summaries = list(session.scalars(select(Entry.summary)))
        assert not any("Â" in s or "<p" in s or "&nbsp;" in s for s in summaries)
        two_way = session.scalars(select(Entry).where(Entry.name == "2 Way St Bristol")).one()
        assert "£10 a hour" in two_way.summary
        assert two_way.paid  # the price is only in the description
        assert str(two_way.assured_date) == "2023-12-19"
        assert two_way.stale  # checked more than 12 months before TODAY
        # The same file again: nothing to write.
    again = crawl_source("file", today=TODAY, notify=False)
    assert again.rows_written == 0 and again.counts["unchanged"] == 50


def test_invalid_v3_records_are_quarantined_with_reasons(crawl_env, tmp_path):
    path = tmp_path / "mixed.json"
    page = json.loads(V3_INVALID.read_text())
    good = json.loads(V3_FULL.read_text())
    good["id"] = "good-1"
    page["contents"].append(good)
    page["contents"].append(
        {"id": "typed", "name": "Wrong types", "status": "active", "email": 12345}
    )
    page["contents"].append(
        {"id": "ages", "name": "Bad ages", "status": "active", "minimum_age": "ten"}
    )
    page["contents"].append({"id": "nostatus", "name": "No status"})
    page["contents"].append(["not", "a", "record"])
    path.write_text(json.dumps(page))
    _file_source(path)
    summary = crawl_source("file", today=TODAY, notify=False)
    assert summary.status == "complete"
    assert summary.counts["added"] == 1
    with session_scope() as session:
        reasons = {(q.record_key, q.reason) for q in session.scalars(select(QuarantinedRecord))}
        entry = session.scalars(select(Entry)).one()
    assert entry.entry_id == "good-1" and entry.minimum_age == 12
    assert ("ac148810-d857-441c-9679-408f346de14b", "duplicate id") in reasons
    assert ("b644a0d2-9e8a-4c33-9390-ae9ee93fc056", "missing name") in reasons
    assert ("typed", "email must be text, not a number") in reasons
    assert ("ages", "minimum_age must be a whole number, not 'ten'") in reasons
    assert ("nostatus", "missing status") in reasons
    assert any(key.startswith("#") and "must be an object" in r for key, r in reasons)
    # Fixing a record takes it out of the quarantine on the next crawl.
    page["contents"] = [
        c for c in page["contents"] if not (isinstance(c, dict) and c.get("id") == "ages")
    ]
    path.write_text(json.dumps(page))
    crawl_source("file", today=TODAY, notify=False)
    with session_scope() as session:
        keys = set(session.scalars(select(QuarantinedRecord.record_key)))
    assert "ages" not in keys and "typed" in keys


def test_bad_url_and_email_are_dropped_not_published():
    record = json.loads((ORUK_SAMPLES / "v3-invalid" / "service_full.json").read_text())
    normalised = normalise(record)
    assert normalised.url is None and normalised.email is None
    assert normalised.name == "Community Counselling"


def test_missing_or_unreadable_file_is_an_incomplete_crawl(crawl_env, tmp_path):
    path = tmp_path / "export.json"
    shutil.copy(BRISTOL, path)
    _file_source(path)
    crawl_source("file", today=TODAY, notify=False)
    path.write_text("{ broken")
    summary = crawl_source("file", today=TODAY, notify=False)
    assert summary.status == "incomplete" and "not valid JSON" in (summary.error or "")
    path.unlink()
    summary = crawl_source("file", today=TODAY, notify=False)
    assert summary.status == "incomplete" and "does not exist" in (summary.error or "")
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(Entry.present)) == 50
        assert session.scalar(select(func.count(Change.id))) == 0


def test_add_source_refuses_bad_input(crawl_env, tmp_path):
    with session_scope() as session:
        with pytest.raises(ValueError, match="neither an http"):
            add_source(session, "x", str(tmp_path / "nope.json"))
        with pytest.raises(ValueError, match="must contain \\{id\\}"):
            add_source(session, "y", "https://example.org/api", "https://example.org/page")
        add_source(session, "z", "https://example.org/api")
        with pytest.raises(ValueError, match="already a source"):
            add_source(session, "z", "https://example.org/api")


# Hostile JSON: any value anywhere. The normaliser either accepts a record or names
# the fault; it never raises anything else.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
record_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values | st.text(min_size=1, max_size=20),
        "name": json_values | st.text(min_size=1),
        "status": json_values
        | st.sampled_from(["active", "inactive", "defunct", "temporarily closed"]),
        "description": json_values,
        "url": json_values,
        "email": json_values,
        "minimum_age": json_values,
        "maximum_age": json_values,
        "eligibilitys": json_values,
        "assured_date": json_values,
        "organization": json_values,
        "service_at_locations": json_values,
        "service_areas": json_values,
        "cost_options": json_values,
        "attributes": json_values,
        "service_taxonomys": json_values,
        "pc_metadata": json_values,
        "pc_targetAudience": json_values,
        "fees": json_values,
    },
)


@given(record_like)
@settings(max_examples=300, deadline=None)
def test_normaliser_never_crashes_on_junk(raw):
    try:
        normalise(raw)
    except RecordError as exc:
        assert str(exc)


@given(
    st.one_of(
        json_values,
        st.lists(record_like, max_size=6),
        st.fixed_dictionaries({"contents": st.lists(record_like, max_size=6)}),
    )
)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_crawler_never_crashes_on_junk_files(crawl_env, tmp_path, body):
    path = tmp_path / f"{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(body, allow_nan=True))
    name = uuid.uuid4().hex[:12]
    _file_source(path, name)
    summary = crawl_source(name, today=TODAY, notify=False)
    assert summary.status in ("complete", "incomplete")
    if summary.status == "incomplete":
        assert summary.error


def test_nul_characters_never_reach_the_database(crawl_env, tmp_path):
    """PostgreSQL refuses NUL in text and JSONB; real feeds carry them."""
    path = tmp_path / "nul.json"
    records = [
        {"id": "ok\u0000", "name": "Bad id", "status": "active"},
        {
            "id": "fine",
            "name": "Play\u0000group",
            "status": "active",
            "description": "<p>Hello\u0000</p>",
            "extra": {"k\u0000": ["v\u0000", float("nan")]},
        },
        {"id": "\u0000", "name": "Only NUL id", "status": "active"},
        {"id": "x", "name": "Unknown status", "status": "open\u0000"},
    ]
    path.write_text(json.dumps(records))
    _file_source(path)
    summary = crawl_source("file", today=TODAY, notify=False)
    assert summary.status == "complete"
    with session_scope() as session:
        entry = session.scalars(select(Entry)).one()
        assert entry.name == "Playgroup" and entry.summary == "Hello"
        assert entry.record["extra"] == {"k": ["v", None]}
        reasons = {
            r.record_key: r.reason
            for r in session.execute(select(QuarantinedRecord.record_key, QuarantinedRecord.reason))
        }
    assert reasons["ok"] == "id contains control characters"
    assert "unknown status" in reasons["x"]
