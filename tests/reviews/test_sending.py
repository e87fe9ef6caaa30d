"""Sending review requests end to end through a loopback SMTP server, the ledger, the
reminders and "no reply", and an address that bounces."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from publisher.cli import main
from publisher.config import reset_settings
from publisher.models import MailStatus, ReplyKind, Review, ReviewMail, ReviewSuppression
from publisher.reviews.plan import plan
from publisher.reviews.sending import run_daily, send_for_entries

pytestmark = pytest.mark.date_sensitive
LINK = re.compile(r"http://127\.0\.0\.1:8000/check/[A-Za-z0-9._-]+")


def test_one_email_per_address_listing_each_entry_with_its_own_link(session, directory, mail_sink):
    result = run_daily()
    assert result.sent == 3 and result.opened == 4
    got = mail_sink.by_recipient()
    assert set(got) == {"team@provider-a.example", "office@b.example", "sam@c.example"}
    message = got["team@provider-a.example"][0].message
    assert message["Subject"] == "Please check your 2 services on the Example Council Local Offer"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Swim club" in text and "Art club" in text
    links = set(LINK.findall(text))
    assert len(links) == 2  # one per entry
    assert any(f"{link}/stop" in text for link in links)
    assert "Check Swim club" in html
    # Every ledger row is sent, once.
    rows = session.scalars(select(ReviewMail)).all()
    assert len(rows) == 4 and {r.status for r in rows} == {MailStatus.SENT}
    # Running again the same day sends nothing more.
    again = run_daily()
    assert again.sent == 0 and len(mail_sink.messages) == 3


def test_reminders_after_14_and_28_days_then_no_reply(session, directory, mail_sink, clock):
    run_daily()
    clock.move(dt.timedelta(days=13))
    assert run_daily().sent == 0
    clock.move(dt.timedelta(days=1, hours=1))
    first = run_daily()
    assert first.sent == 3
    reminder = mail_sink.by_recipient()["office@b.example"][-1].message
    assert reminder["Subject"].startswith("Reminder: ")
    assert "We wrote to you before" in reminder.get_body(("plain",)).get_content()
    clock.move(dt.timedelta(days=14))
    assert run_daily().sent == 3
    clock.move(dt.timedelta(days=7))
    assert run_daily().sent == 0  # two reminders is all
    clock.move(dt.timedelta(days=7))
    result = run_daily()
    assert result.sent == 0 and result.no_reply == 4
    replies = {r.entry_id: r.reply for r in session.scalars(select(Review))}
    assert set(replies.values()) == {ReplyKind.NO_REPLY}
    assert len(mail_sink.messages) == 9


def test_a_reply_stops_the_reminders_for_that_entry(session, directory, mail_sink, clock):
    run_daily()
    review = session.scalars(select(Review).where(Review.entry_id == "a1")).one()
    review.reply = ReplyKind.STILL_CORRECT
    session.commit()
    clock.move(dt.timedelta(days=15))
    run_daily()
    reminder = mail_sink.by_recipient()["team@provider-a.example"][-1].message
    text = reminder.get_body(("plain",)).get_content()
    assert "Art club" in text and "Swim club" not in text


def test_smtp_5xx_marks_the_address_undeliverable_without_retrying(
    session, directory, mail_sink, clock
):
    mail_sink.reject["sam@c.example"] = "550 5.1.1 No such user"
    result = run_daily()
    assert result.undeliverable == ["sam@c.example"]
    review = session.scalars(select(Review).where(Review.entry_id == "c1")).one()
    assert "550" in (review.undeliverable or "")
    assert session.get(ReviewSuppression, "sam@c.example").reason == "undeliverable"
    from publisher.reviews.worklist import work_items

    shown = [i for i in work_items(session) if i.entry_id == "c1"]
    assert [i.label for i in shown] == ["Email could not be delivered"]
    clock.move(dt.timedelta(days=15))
    run_daily()
    assert "sam@c.example" not in mail_sink.by_recipient()
    assert {
        r.status
        for r in session.scalars(select(ReviewMail).where(ReviewMail.address == "sam@c.example"))
    } == {MailStatus.FAILED}


def test_mail_server_down_leaves_requests_pending_for_the_next_run(
    session, directory, monkeypatch, mail_sink
):
    monkeypatch.setenv("SMTP_URL", "smtp://127.0.0.1:9")  # nothing listens there
    reset_settings()  # settings are read once (tests/settings_env.py)
    result = run_daily()
    assert result.sent == 0 and result.retry_error
    assert {r.status for r in session.scalars(select(ReviewMail))} == {MailStatus.PENDING}
    monkeypatch.setenv("SMTP_URL", mail_sink.url)
    reset_settings()  # settings are read once (tests/settings_env.py)
    assert run_daily().sent == 3


def test_officer_chosen_entries_are_asked_about_at_once(session, directory, mail_sink, clock):
    fresh = directory["f1"]
    result = send_for_entries([fresh.id])
    assert result.sent == 1 and list(mail_sink.by_recipient()) == ["fresh@f.example"]
    # Already under review: choosing it again sends nothing.
    assert send_for_entries([fresh.id]).sent == 0
    assert fresh.id not in {e.entry_pk for m in plan(session).mails for e in m.entries}


def test_cli_send_and_list(session, directory, mail_sink):
    runner = CliRunner()
    out = runner.invoke(main, ["reviews", "send", "--limit", "2"], catch_exceptions=False)
    assert out.exit_code == 0 and "Sent 2 emails" in out.output
    listed = runner.invoke(main, ["reviews", "list", "--json"], catch_exceptions=False).output
    rows = [json.loads(line) for line in listed.splitlines()]
    assert len(rows) == 4
    for row in rows:
        assert row["status"] == "open" and row["reply"] == "none" and row["source"] == "north"
        assert row["replied_at"] is None and row["closed_reason"] is None
    assert runner.invoke(main, ["reviews", "list", "--status", "closed"]).output.startswith(
        "No entries"
    )
    assert runner.invoke(main, ["reviews", "send", "--limit", "-1"]).exit_code == 2


def test_a_notify_permanent_failure_marks_the_address_undeliverable(
    session, directory, mail_sink, monkeypatch
):
    from publisher.config import reset_settings
    from publisher.web import create_app

    run_daily()
    mail = session.scalars(select(ReviewMail).where(ReviewMail.address == "office@b.example")).one()
    monkeypatch.setenv("NOTIFY_CALLBACK_TOKEN", "callback-token-123")
    reset_settings()
    client = create_app({"TESTING": True}).test_client()
    body = {
        "id": "x",
        "reference": f"rv{mail.id}",
        "to": "office@b.example",
        "status": "permanent-failure",
        "notification_type": "email",
    }
    ok = client.post(
        "/newsletters/notify/callback",
        json=body,
        headers={"Authorization": "Bearer callback-token-123"},
    )
    assert ok.status_code == 200 and ok.get_json() == {"result": "ended"}
    session.expire_all()
    review = session.scalars(select(Review).where(Review.entry_id == "b1")).one()
    assert review.undeliverable == "Notify: permanent-failure"
    assert session.get(ReviewSuppression, "office@b.example").reason == "undeliverable"
