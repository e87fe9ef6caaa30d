"""The officers' queue: roles, the two-person rule, states that only move forward, slots,
length checks and the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.db import utcnow
from publisher.models import AppSetting, AuditEvent, Platform, Post, PostState, User
from publisher.social import (
    NotAllowed,
    PostInvalid,
    SocialError,
    WrongState,
    approve,
    bulk_approve,
    edit_post,
    masked_credentials,
    preview,
    preview_text,
    reject,
    retry,
    schedule,
    submit,
    withdraw,
)
from publisher.social.accounts import credentials
from publisher.social.slots import in_quiet_hours
from publisher.uk_time import LONDON
from tests.factories import drafted_post
from tests.social.conftest import make_account

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def audit(session: Session, post: Post) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "social_post", AuditEvent.object_id == str(post.id))
            .order_by(AuditEvent.id)
        )
    )


def test_credentials_are_encrypted_and_masked(session: Session) -> None:
    account = make_account(session, Platform.MASTODON)
    session.commit()
    assert account.credentials_encrypted is not None
    assert b"mastodon-token-123456" not in account.credentials_encrypted
    assert credentials(account) == {"access_token": "mastodon-token-123456"}
    masked = masked_credentials(account)
    assert masked["access_token"].endswith("3456")
    assert "mastodon-token" not in masked["access_token"]
    logged = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "social_account"))
    assert all("mastodon-token-123456" not in str(e.after) for e in logged)


def test_editor_edits_and_submits_approver_approves_into_a_slot(
    session: Session, officers: dict[str, User]
) -> None:
    account = make_account(session, Platform.MASTODON)
    post = drafted_post(session, account)
    assert post.state is PostState.DRAFT
    assert "Sunny Days Play Group" in post.text
    assert post.link == "https://localoffer.example.gov.uk/services/svc-1"

    new_text = (
        "Sunny Days Play Group is new. https://localoffer.example.gov.uk/services/svc-1 #LocalOffer"
    )
    edit_post(session, officers["editor"], post, text=new_text)
    submit(session, officers["editor"], post)
    with pytest.raises(NotAllowed, match="Only an admin or approver can approve"):
        approve(session, officers["editor"], post)
    approve(session, officers["approver"], post)
    session.commit()
    assert post.state is PostState.APPROVED
    assert post.edited_by_id == officers["editor"].id
    assert post.approved_by_id == officers["approver"].id
    assert post.publish_at is not None and post.publish_at > utcnow()
    assert not in_quiet_hours(account, post.publish_at)
    actions = [e.action for e in audit(session, post)]
    assert actions == ["social_post.edit", "social_post.submit", "social_post.approve"]
    edit = audit(session, post)[0]
    assert edit.actor_id == officers["editor"].id
    assert edit.after is not None and edit.after["text"] == new_text
    assert edit.before is not None and edit.before["text"] != new_text


def test_two_person_rule(session: Session, officers: dict[str, User]) -> None:
    account = make_account(session, Platform.MASTODON)
    post = drafted_post(session, account)
    edit_post(session, officers["approver"], post, text=post.text.replace("New on", "Now on"))
    session.add(AppSetting(key="social.two_person_rule", value=True))
    session.commit()
    with pytest.raises(NotAllowed, match="someone else must approve"):
        approve(session, officers["approver"], post)
    session.rollback()
    assert post.state is PostState.DRAFT
    # Anyone who edited it, not only the last editor.
    edit_post(session, officers["approver2"], post, text=post.text.replace("Now on", "New on"))
    session.commit()
    with pytest.raises(NotAllowed, match="someone else must approve"):
        approve(session, officers["approver2"], post)
    with pytest.raises(NotAllowed, match="someone else must approve"):
        approve(session, officers["approver"], post)
    session.rollback()
    approve(session, officers["admin"], post)
    assert post.state is PostState.APPROVED
    # Off by argument: the editor may approve their own post.
    other = drafted_post(
        session, make_account(session, Platform.BLUESKY, "Second"), entry_id="svc-2"
    )
    edit_post(session, officers["approver"], other, text=other.text.replace("New on", "Now on"))
    assert other.edited_by_id == officers["approver"].id
    approve(session, officers["approver"], other, two_person_rule=False)
    assert other.state is PostState.APPROVED


def test_over_long_post_is_refused_and_nothing_changes(
    session: Session, officers: dict[str, User]
) -> None:
    account = make_account(session, Platform.BLUESKY)
    post = drafted_post(session, account)
    session.commit()
    before = post.text
    too_long = "Play group news. " * 20 + "https://localoffer.example.gov.uk/services/svc-1"
    with pytest.raises(PostInvalid, match="Too long for Bluesky: 388 characters, the limit is 300"):
        edit_post(session, officers["editor"], post, text=too_long)
    session.rollback()
    assert post.text == before
    assert audit(session, post) == []


@pytest.mark.parametrize(
    ("platform", "text", "count"),
    [
        # Mastodon counts each URL as 23, however long.
        (Platform.MASTODON, "a" * 476 + " https://example.org/" + "p" * 100, 500),
        # Bluesky counts graphemes: a family emoji is one, e + combining accent is one.
        (Platform.BLUESKY, "👨‍👩‍👧" * 100 + "e\u0301" * 200, 300),
        # X weighs most CJK characters 2.
        (Platform.X, "日" * 140, 280),
    ],
)
def test_platform_counts_at_the_limit(platform: Platform, text: str, count: int) -> None:
    shown = preview_text(text)[platform.value]
    assert shown["count"] == count
    assert shown["ok"], shown["problems"]
    over = preview_text("x" + text)[platform.value]
    assert not over["ok"]
    assert over["count"] == count + 1


def test_bluesky_byte_limit() -> None:
    # Few graphemes, but each is a 25-byte emoji sequence: 3,000 bytes is the real limit.
    assert preview_text("Families " + "👨‍👩‍👧‍👦" * 119)["bluesky"]["ok"]
    text = "Families " + "👨‍👩‍👧‍👦" * 120
    shown = preview_text(text)["bluesky"]
    assert shown["count"] == 9 + 120
    assert shown["bytes"] == 9 + 25 * 120
    assert any("bytes, the limit is 3000" in p for p in shown["problems"])


def test_guidance_checks(session: Session, officers: dict[str, User]) -> None:
    account = make_account(session, Platform.MASTODON)
    post = drafted_post(session, account)
    session.commit()
    with pytest.raises(PostInvalid) as err:
        edit_post(
            session,
            officers["editor"],
            post,
            text="#news Two links https://a.example https://b.example #one #Two #Three",
            image_url="https://localoffer.example.gov.uk/pic.png",
        )
    problems = err.value.problems
    assert "Use one link only. This post has 2." in problems
    assert "Use at most 2 hashtags. This post has 4." in problems
    assert "Put hashtags together at the end of the post." in problems
    assert "Add alt text that describes the image." in problems
    assert any("CamelCase" in p for p in problems)
    session.rollback()
    assert post.image_url is None


def test_preview_puts_own_platform_first(session: Session) -> None:
    account = make_account(session, Platform.FACEBOOK)
    post = drafted_post(session, account)
    shown = preview(post)
    assert next(iter(shown)) == "facebook"
    assert set(shown) == {"facebook", "mastodon", "bluesky", "x"}
    assert shown["facebook"]["text"] == post.text
    assert shown["x"]["limit"] == 280


def test_states_only_move_forward(session: Session, officers: dict[str, User]) -> None:
    account = make_account(session, Platform.MASTODON)
    post = drafted_post(session, account)
    approver = officers["approver"]
    with pytest.raises(WrongState, match="it is a draft"):
        schedule(session, approver, post)
    with pytest.raises(WrongState):
        retry(session, approver, post)
    approve(session, approver, post)
    with pytest.raises(WrongState, match="it is approved"):
        edit_post(session, officers["editor"], post, text="Changed.")
    with pytest.raises(WrongState):
        approve(session, approver, post)
    with pytest.raises(SocialError, match="Say why"):
        reject(session, approver, post, "  ")
    reject(session, approver, post, "Not news this week.")
    assert post.state is PostState.REJECTED and post.reject_reason == "Not news this week."
    for action in (
        lambda: withdraw(session, approver, post, "x"),
        lambda: schedule(session, approver, post),
        lambda: approve(session, approver, post),
    ):
        with pytest.raises(WrongState, match="it is rejected"):
            action()


def test_schedule_checks_time_and_quiet_hours(session: Session, officers: dict[str, User]) -> None:
    account = make_account(session, Platform.MASTODON)
    post = drafted_post(session, account)
    approver = officers["approver"]
    approve(session, approver, post)
    tomorrow = (utcnow().astimezone(LONDON) + dt.timedelta(days=1)).date()
    night = dt.datetime.combine(tomorrow, dt.time(23, 30), tzinfo=LONDON)
    with pytest.raises(SocialError, match=r"quiet hours \(21:00 to 07:00, UK time\)"):
        schedule(session, approver, post, night)
    with pytest.raises(SocialError, match="has passed"):
        schedule(session, approver, post, utcnow() - dt.timedelta(hours=2))
    noon = dt.datetime.combine(tomorrow, dt.time(12, 0), tzinfo=LONDON)
    schedule(session, approver, post, noon)
    assert post.state is PostState.SCHEDULED
    assert post.publish_at == noon.astimezone(dt.UTC)


def test_slots_fill_up_and_move_to_next_day(session: Session, officers: dict[str, User]) -> None:
    account = make_account(session, Platform.MASTODON, slots_per_day=2)
    times = []
    for i in range(5):
        post = drafted_post(session, account, name=f"Group {i}", entry_id=f"svc-{i}")
        approve(session, officers["approver"], post)
        session.commit()
        assert post.publish_at is not None
        times.append(post.publish_at)
    assert len(set(times)) == 5
    days = [t.astimezone(LONDON).date() for t in times]
    for day in set(days):
        assert days.count(day) <= 2
    assert times == sorted(times)


def test_bulk_approve_reports_each_refusal(session: Session, officers: dict[str, User]) -> None:
    account = make_account(session, Platform.MASTODON)
    good = drafted_post(session, account)
    session.commit()
    reject(session, officers["approver"], good, "No.")  # now not approvable
    session.commit()
    approved, refused = bulk_approve(session, officers["approver"], [good.id, 999_999])
    assert approved == []
    assert "it is rejected" in refused[good.id]
    assert refused[999_999] == "There is no such post."
    with pytest.raises(NotAllowed):
        bulk_approve(session, officers["editor"], [good.id])


def test_retry_moves_a_failed_post_back(session: Session, officers: dict[str, User]) -> None:
    account = make_account(session, Platform.MASTODON)
    post = drafted_post(session, account)
    approve(session, officers["approver"], post)
    post.state, post.last_error, post.attempts = PostState.FAILED, "Rejected by Mastodon.", 3
    session.commit()
    retry(session, officers["approver"], post)
    assert post.state is PostState.APPROVED and post.attempts == 0
    assert post.publish_at is not None and post.publish_at <= utcnow()


def test_link_fragment_is_not_a_hashtag() -> None:
    text = "Open day on Saturday. https://localoffer.example.gov.uk/events#open-day #LocalOffer"
    shown = preview_text(text)["mastodon"]
    assert shown["ok"], shown["problems"]
    from publisher.social.rules import hashtags

    assert hashtags(text) == ["LocalOffer"]


def test_slots_keep_local_times_across_clock_changes() -> None:
    from publisher.models import SocialAccount
    from publisher.social.slots import slot_times

    account = SocialAccount(slots_per_day=3, quiet_start_minute=21 * 60, quiet_end_minute=7 * 60)
    for day in (
        dt.date(2026, 3, 28),
        dt.date(2026, 3, 29),
        dt.date(2026, 10, 25),
        dt.date(2026, 10, 26),
    ):
        local = [t.astimezone(LONDON).strftime("%H:%M") for t in slot_times(account, day)]
        assert local == ["07:00", "11:40", "16:20"], day
    # Summer time: 07:00 in London is 06:00 UTC; winter: 07:00 UTC.
    assert slot_times(account, dt.date(2026, 3, 29))[0].hour == 6
    assert slot_times(account, dt.date(2026, 10, 26))[0].hour == 7


def test_redraft_a_rejected_post(session: Session, officers: dict[str, User]) -> None:
    from publisher.models import PostChange
    from publisher.social import redraft

    account = make_account(session, Platform.MASTODON)
    post = drafted_post(session, account)
    with pytest.raises(WrongState, match="it is a draft"):
        redraft(session, officers["editor"], post)
    reject(session, officers["approver"], post, "Spell the name as the provider does.")
    session.commit()
    copy = redraft(session, officers["editor"], post)
    session.commit()
    assert copy.id != post.id and copy.state is PostState.DRAFT
    assert copy.text == post.text and copy.idempotency_key != post.idempotency_key
    assert post.state is PostState.REJECTED
    links = session.scalars(select(PostChange.post_id)).all()
    assert links == [copy.id]
    edit_post(session, officers["editor"], copy, text=copy.text.replace("Sunny", "SUNNY"))
    approve(session, officers["approver"], copy)
    assert copy.state is PostState.APPROVED


def test_emoji_alone_do_not_carry_the_meaning() -> None:
    shown = preview_text("🎉🎨🧒 https://localoffer.example.gov.uk/services/1 #LocalOffer")
    assert not shown["mastodon"]["ok"]
    assert shown["mastodon"]["problems"][0].startswith("Say what the post is about in words")
    assert preview_text("Painting club 🎨 https://localoffer.example.gov.uk/x")["x"]["ok"]


def test_saving_without_a_change_is_not_an_edit(
    session: Session, officers: dict[str, User]
) -> None:
    account = make_account(session, Platform.MASTODON)
    post = drafted_post(session, account)
    edit_post(session, officers["approver"], post, text=post.text + "\r\n")
    assert post.edited_by_id is None
    assert audit(session, post) == []
    approve(session, officers["approver"], post, two_person_rule=True)
    assert post.state is PostState.APPROVED
