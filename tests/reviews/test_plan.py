"""Who gets asked about what, and when: the planner, on both databases."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from publisher.cli import main
from publisher.config import get_settings, reset_settings
from publisher.models import ReviewSuppression
from publisher.reviews.contacts import contact_address
from publisher.reviews.plan import plan
from tests.reviews.conftest import days_ago, entry

pytestmark = pytest.mark.date_sensitive


def test_contact_address_comes_from_entry_then_contacts_then_organisation():
    assert contact_address("Me@Example.ORG ", {"organization": {"email": "o@x.example"}}) == (
        "me@example.org"
    )
    assert contact_address(None, {"contacts": [{"email": "c@x.example"}]}) == "c@x.example"
    assert contact_address(None, {"organization": {"email": "o@x.example"}}) == "o@x.example"
    # Hostile or odd values are no address at all.
    for record in (
        {"organization": {"email": ["x@y.example"]}},
        {"organization": "o@x.example"},
        {"contacts": "c@x.example"},
        {"contacts": [{"email": "not an address"}]},
        {"organization": {"email": "a" * 400 + "@x.example"}},
        None,
    ):
        assert contact_address(None, record) is None


def test_plan_groups_entries_per_address_and_lists_entries_without_one(session, directory):
    today = plan(session)
    by_address = {m.address: m for m in today.mails}
    assert set(by_address) == {"team@provider-a.example", "office@b.example", "sam@c.example"}
    # One email for provider A lists the stale entry and the one going stale within 30 days.
    assert sorted(e.entry_id for e in by_address["team@provider-a.example"].entries) == [
        "a1",
        "a2",
    ]
    assert all(m.kind == "request" for m in today.mails)
    assert [(u.entry_id, u.address) for u in today.unreachable] == [("n1", None)]


def test_lead_days_decide_which_entries_are_asked_about_early(session, directory, monkeypatch):
    monkeypatch.setenv("REVIEW_LEAD_DAYS", "10")
    reset_settings()
    # a2 goes stale in 20 days: outside a 10-day lead time.
    ids = {e.entry_id for m in plan(session).mails for e in m.entries}
    assert "a2" not in ids and "a1" in ids


def test_suppressed_addresses_are_not_asked(session, directory):
    session.add(ReviewSuppression(address="office@b.example", reason="stop"))
    session.commit()
    today = plan(session)
    assert "office@b.example" not in {m.address for m in today.mails}
    stopped = [u for u in today.unreachable if u.entry_id == "b1"]
    assert stopped and stopped[0].reason == "asked us to stop emailing"


def test_daily_limit_spreads_a_backlog_oldest_first(session, directory, monkeypatch):
    source = directory["a1"].source_id
    from publisher.models import Source

    src = session.get(Source, source)
    for i in range(5):
        entry(session, src, f"x{i}", email=f"p{i}@many.example", assured_date=days_ago(900 + i))
    session.commit()
    monkeypatch.setenv("REVIEW_DAILY_LIMIT", "3")
    reset_settings()
    today = plan(session)
    assert [m.address for m in today.mails] == [
        "p4@many.example",
        "p3@many.example",
        "p2@many.example",
    ]
    assert today.deferred_addresses == 5


def test_source_filter_and_unknown_source(session, directory):
    assert plan(session, source="north").mails
    with pytest.raises(LookupError):
        plan(session, source="south")


def test_cli_plan_json_and_help(session, directory):
    runner = CliRunner()
    for args in (
        ["reviews", "--help"],
        ["reviews", "plan", "--help"],
        ["reviews", "send", "--help"],
        ["reviews", "list", "--help"],
    ):
        assert "Usage:" in runner.invoke(main, args).output
    result = runner.invoke(main, ["reviews", "plan", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    mails = [line for line in lines if "kind" in line]
    assert {m["address"] for m in mails} == {
        "team@provider-a.example",
        "office@b.example",
        "sam@c.example",
    }
    for m in mails:
        assert m["source"] == "north" and m["kind"] == "request" and m["entry_ids"]
    assert [line for line in lines if line["address"] is None] == [
        {
            "entry_id": "n1",
            "source": "north",
            "name": "Drop-in",
            "address": None,
            "reason": "no contact address",
        }
    ]
    bad = runner.invoke(main, ["reviews", "plan", "--source", "south"])
    assert bad.exit_code == 1 and "no source called 'south'" in bad.output
    text = runner.invoke(main, ["reviews", "plan"]).output
    assert "3 emails about 4 entries" in text and "no contact address" in text


def test_settings_refuse_bad_reminder_days(monkeypatch):
    monkeypatch.setenv("REVIEW_REMINDER_DAYS", "14,soon")
    reset_settings()
    with pytest.raises(ValueError, match="REVIEW_REMINDER_DAYS"):
        get_settings()
    monkeypatch.setenv("REVIEW_REMINDER_DAYS", "7")
    reset_settings()
    assert get_settings().review_reminder_days == (7,)
    reset_settings()


def test_a_recently_closed_review_pauses_requests_unless_an_officer_asks(session, directory):
    from publisher.db import utcnow
    from publisher.models import Review, ReviewStatus

    a1 = directory["a1"]
    session.add(
        Review(
            entry_pk=a1.id,
            source_id=a1.source_id,
            entry_id="a1",
            hash_at_open="",
            status=ReviewStatus.CLOSED,
            closed_at=utcnow(),
        )
    )
    session.commit()
    assert "a1" not in {e.entry_id for m in plan(session).mails for e in m.entries}
    chosen = plan(session, entry_pks=[a1.id], ignore_limit=True)
    assert [e.entry_id for m in chosen.mails for e in m.entries] == ["a1"]
