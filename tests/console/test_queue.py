"""The post queue through the console: roles, refusals that change nothing, the two-person
rule, length and alt-text checks, bulk approve, reject, schedule, retry."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from publisher.db import utcnow
from publisher.models import AppSetting, AuditEvent, Post, PostState
from publisher.social import slot_times
from publisher.uk_time import LONDON
from tests.factories import drafted_post

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def audit_count(session, action: str) -> int:
    return session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def fresh(session, post: Post) -> Post:
    session.expire_all()
    return session.get(Post, post.id)


def test_queue_lists_drafts_with_their_text(sign_in, draft):
    page = sign_in("editor").get("/console/posts?state=draft")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Sunny Days Play Group" in body
    assert f"/console/posts/{draft.id}" in body
    # Editors get no approve boxes.
    assert "Approve ticked posts" not in body


def test_editor_edits_and_submits(sign_in, draft, session, officers):
    editor = sign_in("editor")
    old_text = draft.text
    new_text = (
        "A new play group opens in Northtown. https://localoffer.example.gov.uk/services/svc-1"
    )
    response = editor.post(f"/console/posts/{draft.id}", {"text": new_text, "action": "submit"})
    assert response.status_code == 302
    post = fresh(session, draft)
    assert post.text == new_text
    assert post.edited_by_id == officers["editor"].id
    assert post.submitted_by_id == officers["editor"].id
    assert post.state is PostState.DRAFT
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "social_post.edit")).one()
    assert event.actor_email == "editor@council.example"
    assert event.before["text"] == old_text and event.after["text"] == new_text


def test_editor_cannot_approve_and_nothing_changes(sign_in, draft, session):
    editor = sign_in("editor")
    response = editor.post(f"/console/posts/{draft.id}/approve", {})
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Only approvers and admins can approve" in body
    assert "Nothing has been changed" in body
    assert fresh(session, draft).state is PostState.DRAFT
    assert audit_count(session, "social_post.approve") == 0


def test_editor_cannot_bulk_approve_or_reject(sign_in, draft, session):
    editor = sign_in("editor")
    assert editor.post("/console/posts/approve", {"post_id": draft.id}).status_code == 403
    assert editor.post(f"/console/posts/{draft.id}/reject", {"reason": "no"}).status_code == 403
    assert fresh(session, draft).state is PostState.DRAFT


def test_non_admins_cannot_reach_admin_pages(sign_in, session):
    for role in ("editor", "approver"):
        officer = sign_in(role)
        for path in (
            "/console/admin/users",
            "/console/admin/accounts",
            "/console/admin/settings",
            "/console/admin/sources",
            "/console/admin/audit",
            "/console/admin/audit.csv",
        ):
            response = officer.get(path)
            assert response.status_code == 403, path
            assert "Only admins can manage users" in response.get_data(as_text=True)
        response = officer.post(
            "/console/admin/users",
            {"email": "new@council.example", "role": "admin", "password": "x" * 20},
        )
        assert response.status_code == 403
    assert audit_count(session, "user.create") == 4  # only the fixture's officers


def test_approver_approves_into_the_next_slot(sign_in, draft, session, officers):
    response = sign_in("approver").post(f"/console/posts/{draft.id}/approve", {})
    assert response.status_code == 302
    post = fresh(session, draft)
    assert post.state is PostState.APPROVED
    assert post.approved_by_id == officers["approver"].id
    assert post.publish_at is not None and post.publish_at > utcnow()
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "social_post.approve")
    ).one()
    assert event.before["state"] == "draft" and event.after["state"] == "approved"


def test_two_person_rule_stops_self_approval(sign_in, draft, session, officers):
    session.add(AppSetting(key="social.two_person_rule", value=True, updated_at=utcnow()))
    session.commit()
    approver = sign_in("approver")
    text = "Sunny Days Play Group is new. https://localoffer.example.gov.uk/services/svc-1"
    assert approver.post(f"/console/posts/{draft.id}", {"text": text}).status_code == 302
    response = approver.post(f"/console/posts/{draft.id}/approve", {})
    assert response.status_code == 403
    assert "someone else must approve it" in response.get_data(as_text=True)
    assert fresh(session, draft).state is PostState.DRAFT
    # A second approver may.
    assert sign_in("approver2").post(f"/console/posts/{draft.id}/approve", {}).status_code == 302
    assert fresh(session, draft).state is PostState.APPROVED


def test_over_long_text_is_refused_with_the_count(sign_in, draft, session):
    editor = sign_in("editor")
    old_text = draft.text
    long_text = "Word " * 120 + "https://localoffer.example.gov.uk/services/svc-1"
    response = editor.post(f"/console/posts/{draft.id}", {"text": long_text})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The post was not saved" in body
    assert "Too long for Mastodon" in body
    assert fresh(session, draft).text == old_text
    assert audit_count(session, "social_post.edit") == 0


def test_image_without_alt_text_is_refused(sign_in, draft, session):
    response = sign_in("editor").post(
        f"/console/posts/{draft.id}",
        {"text": draft.text, "image_url": "https://example.org/a.png", "image_alt": ""},
    )
    assert response.status_code == 400
    assert "Add alt text that describes the image" in response.get_data(as_text=True)
    assert fresh(session, draft).image_url is None


def test_check_button_shows_counts_without_saving(sign_in, draft, session):
    response = sign_in("editor").post(
        f"/console/posts/{draft.id}", {"text": "Short. #localOffer", "action": "check"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "18 of 500 characters. 482 left." in body
    assert "CamelCase" in body
    assert fresh(session, draft).text == draft.text


def test_preview_endpoint_counts_per_platform_and_needs_csrf(sign_in, draft):
    editor = sign_in("editor")
    token = editor.token(f"/console/posts/{draft.id}")
    text = "é" * 301
    response = editor.client.post(
        f"/console/posts/{draft.id}/preview", json={"text": text}, headers={"X-CSRFToken": token}
    )
    data = response.get_json()
    assert data["own"] == "mastodon"
    assert data["platforms"]["mastodon"]["remaining"] == 199
    assert data["platforms"]["bluesky"]["remaining"] == -1
    assert not data["platforms"]["bluesky"]["ok"]
    refused = editor.client.post(f"/console/posts/{draft.id}/preview", json={"text": text})
    assert refused.status_code == 400


def test_bulk_approve_reports_each_refusal(sign_in, session, account, draft):
    other = drafted_post(session, account, "Riverside Youth Club", entry_id="svc-2")
    bad = drafted_post(session, account, "Hilltop Swimming", entry_id="svc-3")
    bad.text = "x" * 600
    session.commit()
    response = sign_in("approver").post(
        "/console/posts/approve", {"post_id": [draft.id, other.id, bad.id]}
    )
    assert response.status_code == 302
    assert fresh(session, draft).state is PostState.APPROVED
    assert fresh(session, other).state is PostState.APPROVED
    assert fresh(session, bad).state is PostState.DRAFT
    page = sign_in("approver").get("/console/posts?state=draft")
    assert page.status_code == 200


def test_bulk_approve_messages_are_shown(sign_in, session, account, draft):
    approver = sign_in("approver")
    draft.text = "x" * 600
    session.commit()
    response = approver.post(
        "/console/posts/approve", {"post_id": [draft.id]}, follow_redirects=True
    )
    body = response.get_data(as_text=True)
    assert f"Post {draft.id} was not approved" in body
    assert "Too long for Mastodon" in body


def test_reject_needs_a_reason(sign_in, draft, session):
    approver = sign_in("approver")
    response = approver.post(
        f"/console/posts/{draft.id}/reject", {"reason": "  "}, follow_redirects=True
    )
    assert "Say why you are rejecting the post" in response.get_data(as_text=True)
    assert fresh(session, draft).state is PostState.DRAFT
    approver.post(f"/console/posts/{draft.id}/reject", {"reason": "We posted this last week."})
    post = fresh(session, draft)
    assert post.state is PostState.REJECTED
    assert post.reject_reason == "We posted this last week."
    page = approver.get("/console/posts?state=rejected").get_data(as_text=True)
    assert "Rejected because: We posted this last week." in page


def test_schedule_in_quiet_hours_is_refused(sign_in, draft, session):
    approver = sign_in("approver")
    approver.post(f"/console/posts/{draft.id}/approve", {})
    tomorrow = dt.datetime.now(LONDON).date() + dt.timedelta(days=2)
    night = dt.datetime.combine(tomorrow, dt.time(23, 30)).strftime("%Y-%m-%dT%H:%M")
    response = approver.post(
        f"/console/posts/{draft.id}/schedule", {"publish_at": night}, follow_redirects=True
    )
    assert "quiet hours" in response.get_data(as_text=True)
    assert fresh(session, draft).state is PostState.APPROVED
    morning = dt.datetime.combine(tomorrow, dt.time(10, 15))
    approver.post(
        f"/console/posts/{draft.id}/schedule", {"publish_at": morning.strftime("%Y-%m-%dT%H:%M")}
    )
    post = fresh(session, draft)
    assert post.state is PostState.SCHEDULED
    assert post.publish_at == morning.replace(tzinfo=LONDON).astimezone(dt.UTC)


def test_bad_time_gets_a_clear_message(sign_in, draft, session):
    response = sign_in("approver").post(
        f"/console/posts/{draft.id}/approve", {"publish_at": "next tuesday"}, follow_redirects=True
    )
    assert "Enter the date and time like" in response.get_data(as_text=True)
    assert fresh(session, draft).state is PostState.DRAFT


def test_failed_post_shows_its_error_and_can_be_retried(sign_in, draft, session):
    post = fresh(session, draft)
    post.state = PostState.FAILED
    post.last_error = "Mastodon said: the access token is not valid."
    post.attempts = 3
    session.commit()
    approver = sign_in("approver")
    listing = approver.get("/console/posts?state=failed").get_data(as_text=True)
    stopped = "It did not go out, and we have stopped trying: Mastodon said: the access token"
    assert stopped in listing
    detail = approver.get(f"/console/posts/{draft.id}").get_data(as_text=True)
    assert "Try again now" in detail
    assert sign_in("editor").post(f"/console/posts/{draft.id}/retry").status_code == 403
    assert approver.post(f"/console/posts/{draft.id}/retry").status_code == 302
    post = fresh(session, draft)
    assert post.state is PostState.APPROVED and post.attempts == 0


def test_calendar_shows_what_goes_out_when(sign_in, draft, session, account):
    approver = sign_in("approver")
    approver.post(f"/console/posts/{draft.id}/approve", {})
    post = fresh(session, draft)
    assert post.publish_at is not None
    local = post.publish_at.astimezone(LONDON)
    start = dt.datetime.now(LONDON).date()
    page = approver.get(f"/console/calendar?start={start.isoformat()}").get_data(as_text=True)
    assert local.strftime("%A %-d %B") in page
    assert f"<strong>{local.strftime('%H:%M')}</strong> approved:" in page
    assert f'href="/console/posts/{post.id}"' in page
    # The approved post holds its slot; the day's other slots are still offered.
    day_slots = slot_times(account, local.date())
    free = [t for t in day_slots if t != post.publish_at and t > utcnow()]
    for when in free:
        assert f"{when.astimezone(LONDON).strftime('%H:%M')} free slot" in page
    week = [start + dt.timedelta(days=i) for i in range(7)]
    expected_free = [
        t for d in week for t in slot_times(account, d) if t > utcnow() and t != post.publish_at
    ]
    assert page.count("free slot</li>") == len(expected_free)


def test_unknown_post_is_404(sign_in):
    response = sign_in("approver").get("/console/posts/9999")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_drafts_sent_for_approval_come_first_and_say_so(sign_in, session, account, draft):
    other = drafted_post(session, account, "Riverside Youth Club", entry_id="svc-2")
    editor = sign_in("editor")
    editor.post(f"/console/posts/{draft.id}", {"text": draft.text, "action": "submit"})
    page = sign_in("approver").get("/console/posts?state=draft").get_data(as_text=True)
    assert "Ready for approval</strong>: sent by editor@council.example" in page
    assert "Not yet sent for approval." in page
    assert page.index(f"post-{draft.id}-title") < page.index(f"post-{other.id}-title")


def test_post_page_says_what_the_post_is_about(sign_in, draft):
    page = sign_in("editor").get(f"/console/posts/{draft.id}").get_data(as_text=True)
    assert "What this post is about" in page
    assert "Sunny Days Play Group: new on" in page
    assert 'href="https://localoffer.example.gov.uk/services/svc-1"' in page


def test_post_page_shows_its_history_to_every_role(sign_in, draft):
    sign_in("approver").post(f"/console/posts/{draft.id}/reject", {"reason": "Not now."})
    page = sign_in("editor").get(f"/console/posts/{draft.id}").get_data(as_text=True)
    assert 'approver@council.example rejected it ("Not now.").' in page


def test_saving_unchanged_text_is_not_an_edit(sign_in, draft, session):
    approver = sign_in("approver")
    response = approver.post(
        f"/console/posts/{draft.id}", {"text": draft.text + "\r\n"}, follow_redirects=True
    )
    assert "Nothing had changed, so nothing was saved." in response.get_data(as_text=True)
    assert fresh(session, draft).edited_by_id is None
    assert audit_count(session, "social_post.edit") == 0


def test_only_drafts_can_be_edited(sign_in, draft, session):
    sign_in("approver").post(f"/console/posts/{draft.id}/approve", {})
    response = sign_in("editor").post(f"/console/posts/{draft.id}", {"text": "Changed text."})
    assert response.status_code == 400
    assert "You cannot edit this post: it is approved." in response.get_data(as_text=True)
    assert fresh(session, draft).text != "Changed text."


def test_rejected_post_can_be_tried_again_as_a_new_draft(sign_in, draft, session):
    approver = sign_in("approver")
    approver.post(f"/console/posts/{draft.id}/reject", {"reason": "Say when it starts."})
    editor = sign_in("editor")
    page = editor.get(f"/console/posts/{draft.id}").get_data(as_text=True)
    assert "Make a new draft from this post" in page
    response = editor.post(f"/console/posts/{draft.id}/redraft")
    assert response.status_code == 302
    new_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert new_id != draft.id
    copy = session.get(Post, new_id)
    assert copy is not None and copy.state is PostState.DRAFT
    assert copy.text == fresh(session, draft).text
    assert fresh(session, draft).state is PostState.REJECTED  # the old post stays as it was
    detail = editor.get(f"/console/posts/{new_id}").get_data(as_text=True)
    assert f"This is a new draft made from post {draft.id}" in detail
    assert "made it as a new draft" in detail  # its history says where it came from
    assert audit_count(session, "social_post.redraft") == 1
    # A draft cannot be redrafted: a clear message, and nothing new is made.
    again = editor.post(f"/console/posts/{new_id}/redraft", follow_redirects=True)
    assert "Nothing was changed." in again.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Post)) == 2


def test_redraft_needs_a_csrf_token(sign_in, draft, session):
    sign_in("approver").post(f"/console/posts/{draft.id}/reject", {"reason": "Not now."})
    no_token = sign_in("editor").client.post(f"/console/posts/{draft.id}/redraft")
    assert no_token.status_code == 400
    assert session.scalar(select(func.count()).select_from(Post)) == 1
