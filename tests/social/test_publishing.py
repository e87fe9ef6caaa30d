"""Publishing through Mastodon.py and the Graph API to loopback servers that speak those
APIs: exactly once, with retryable and permanent failures told apart."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.db import session_scope
from publisher.models import AuditEvent, Platform, Post, PostState, SocialAccount, User
from publisher.social import approve, edit_post, retry, update_account
from publisher.social.adapters import adapter_for
from publisher.social.publishing import LEASE, MAX_ATTEMPTS, begin, claim, publish_due
from tests.factories import drafted_post
from tests.social.conftest import make_account
from tests.social.servers import FacebookHandler, MastodonHandler, serve
from tests.social.servers import FakePlatform as Fake

MASTODON_TOKEN = "mastodon-token-123456"
FB_TOKEN = "fb-page-token-abcdef"


@pytest.fixture()
def mastodon() -> Iterator[Fake]:
    with serve(MastodonHandler, MASTODON_TOKEN) as fake:
        yield fake


@pytest.fixture()
def facebook() -> Iterator[Fake]:
    with serve(FacebookHandler, FB_TOKEN) as fake:
        yield fake


def mastodon_account(session: Session, fake: Fake, **kw: Any) -> SocialAccount:
    return make_account(
        session, Platform.MASTODON, settings={"api_base_url": fake.url, "read_timeout": 2}, **kw
    )


def facebook_account(session: Session, fake: Fake, **kw: Any) -> SocialAccount:
    return make_account(
        session,
        Platform.FACEBOOK,
        settings={"graph_url": fake.url + "/v21.0", "page_id": "1000", "read_timeout": 0.5},
        **kw,
    )


def approved(session: Session, account: SocialAccount, approver: User, n: int = 1) -> list[Post]:
    out = []
    for i in range(n):
        post = drafted_post(session, account, name=f"Sunny Days {i}", entry_id=f"svc-{i}")
        approve(session, approver, post)
        session.commit()
        out.append(post)
    return out


def due(post: Post) -> dt.datetime:
    assert post.publish_at is not None
    return post.publish_at + dt.timedelta(seconds=1)


def reload(session: Session, post: Post) -> Post:
    session.expire_all()
    fresh = session.get(Post, post.id)
    assert fresh is not None
    return fresh


def test_mastodon_publishes_once_with_idempotency_key(
    session: Session, officers: dict[str, User], mastodon: Fake
) -> None:
    account = mastodon_account(session, mastodon)
    (post,) = approved(session, account, officers["approver"])
    assert post.publish_at is not None
    assert publish_due(now=post.publish_at - dt.timedelta(minutes=1)) == {}  # not due yet
    assert publish_due(now=due(post)) == {"published": 1}
    post = reload(session, post)
    assert post.state is PostState.PUBLISHED
    assert len(mastodon.posts) == 1
    sent = mastodon.posts[0]
    assert sent["content"] == post.text
    assert sent["_idempotency_key"] == post.idempotency_key
    assert post.platform_post_id == sent["id"]
    assert post.platform_url == sent["url"]
    assert publish_due(now=due(post) + LEASE * 2) == {}  # nothing left to do
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "social_post.publish")
    ).all()
    assert [(e.actor_id, e.object_id) for e in events] == [(None, str(post.id))]


def test_mastodon_rate_limit_waits_for_retry_after(
    session: Session, officers: dict[str, User], mastodon: Fake
) -> None:
    account = mastodon_account(session, mastodon)
    (post,) = approved(session, account, officers["approver"])
    mastodon.fail_next.append(
        (429, {"error": "Too many requests"}, {"Retry-After": "300", "X-RateLimit-Remaining": "0"})
    )
    now = due(post)
    assert publish_due(now=now) == {"retry": 1}
    post = reload(session, post)
    assert post.state is PostState.APPROVED
    assert post.claimed_until == now + dt.timedelta(seconds=300)
    assert "rate limit" in (post.last_error or "")
    assert publish_due(now=now + dt.timedelta(seconds=200)) == {}  # still waiting
    assert publish_due(now=now + dt.timedelta(seconds=301)) == {"published": 1}
    assert len(mastodon.posts) == 1


def test_mastodon_server_errors_back_off_then_give_up(
    session: Session, officers: dict[str, User], mastodon: Fake
) -> None:
    account = mastodon_account(session, mastodon)
    (post,) = approved(session, account, officers["approver"])
    mastodon.fail_next.extend([(503, {"error": "Service Unavailable"}, {})] * MAX_ATTEMPTS)
    now = due(post)
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        assert publish_due(now=now) == {"retry": 1}
        post = reload(session, post)
        assert post.claimed_until is not None
        waits.append((post.claimed_until - now).total_seconds())
        now = post.claimed_until + dt.timedelta(seconds=1)
    assert waits == [60, 120, 240, 480, 960]
    assert publish_due(now=now) == {"failed": 1}
    post = reload(session, post)
    assert post.state is PostState.FAILED
    assert post.last_error is not None
    assert post.last_error.startswith(f"Gave up after {MAX_ATTEMPTS} attempts.")
    assert "server error" in post.last_error
    assert mastodon.posts == []


def test_mastodon_bad_token_fails_with_clear_message_then_retry_works(
    session: Session, officers: dict[str, User], mastodon: Fake
) -> None:
    account = mastodon_account(session, mastodon, creds={"access_token": "wrong-token-000000"})
    (post,) = approved(session, account, officers["approver"])
    assert publish_due(now=due(post)) == {"failed": 1}
    post = reload(session, post)
    assert post.state is PostState.FAILED
    assert "did not accept the access token" in (post.last_error or "")
    assert "401" in (post.last_error or "")
    assert mastodon.posts == []
    # An admin fixes the token, an approver retries: it goes out.
    account = post.account
    update_account(session, officers["admin"], account, creds={"access_token": MASTODON_TOKEN})
    retry(session, officers["approver"], post)
    session.commit()
    assert publish_due(now=due(post) + dt.timedelta(minutes=1)) == {"published": 1}
    assert len(mastodon.posts) == 1


def test_mastodon_validation_error_is_permanent(
    session: Session, officers: dict[str, User], mastodon: Fake
) -> None:
    account = mastodon_account(session, mastodon)
    (post,) = approved(session, account, officers["approver"])
    mastodon.fail_next.append(
        (422, {"error": "Validation failed: Text character limit of 500 exceeded"}, {})
    )
    assert publish_due(now=due(post)) == {"failed": 1}
    post = reload(session, post)
    assert post.last_error == (
        "Mastodon rejected the post: 422 Validation failed: Text character limit of 500 exceeded"
    )


def test_mastodon_crash_after_acceptance_is_not_posted_twice(
    session: Session, officers: dict[str, User], mastodon: Fake
) -> None:
    account = mastodon_account(session, mastodon)
    (post,) = approved(session, account, officers["approver"])
    now = due(post)
    # A worker claims the post, records intent, the platform accepts ... and the worker
    # dies before recording the result.
    with session_scope() as s:
        (item,) = claim(s, now)
        outgoing = begin(s, item, now)
    assert outgoing is not None
    first = adapter_for(Platform.MASTODON).publish(outgoing)
    assert len(mastodon.posts) == 1
    # Until the claim's lease runs out nobody touches it; then another worker does.
    assert publish_due(now=now + LEASE / 2) == {}
    assert publish_due(now=now + LEASE + dt.timedelta(seconds=1)) == {"published": 1}
    post = reload(session, post)
    assert post.platform_post_id == first.post_id
    assert post.attempts == 2
    assert len(mastodon.posts) == 1


def test_facebook_publishes_message_and_link(
    session: Session, officers: dict[str, User], facebook: Fake
) -> None:
    account = facebook_account(session, facebook)
    (post,) = approved(session, account, officers["approver"])
    assert publish_due(now=due(post)) == {"published": 1}
    post = reload(session, post)
    assert facebook.posts == [
        {
            "id": post.platform_post_id,
            "message": post.text,
            "link": post.link,
            "created_time": facebook.posts[0]["created_time"],
        }
    ]


def test_facebook_timeout_after_acceptance_is_reconciled(
    session: Session, officers: dict[str, User], facebook: Fake
) -> None:
    account = facebook_account(session, facebook)
    (post,) = approved(session, account, officers["approver"])
    facebook.delay_after_accept = 1.5  # longer than the account's 0.5 s read timeout
    now = due(post)
    assert publish_due(now=now) == {"retry": 1}
    assert len(facebook.posts) == 1
    post = reload(session, post)
    assert "did not answer in time" in (post.last_error or "")
    facebook.delay_after_accept = 0
    assert post.claimed_until is not None
    later = post.claimed_until + dt.timedelta(seconds=1)
    assert publish_due(now=later) == {"published": 1}
    post = reload(session, post)
    assert len(facebook.posts) == 1
    assert post.platform_post_id == facebook.posts[0]["id"]
    # It checked the feed rather than posting again.
    assert [m for m, p in facebook.requests if "/feed" in p] == ["POST", "GET"]
    note = session.scalars(
        select(AuditEvent.note).where(AuditEvent.action == "social_post.publish")
    ).one()
    assert note == "Found on the platform from an earlier attempt."


def test_facebook_errors_sorted(
    session: Session, officers: dict[str, User], facebook: Fake
) -> None:
    account = facebook_account(session, facebook)
    first, second = approved(session, account, officers["approver"], n=2)
    facebook.fail_next.append(
        (
            400,
            {
                "error": {
                    "message": "(#32) Page request limit reached",
                    "type": "OAuthException",
                    "code": 32,
                }
            },
            {},
        )
    )
    assert publish_due(now=due(first)) == {"retry": 1}
    assert "posting too often" in (reload(session, first).last_error or "")
    update_account(session, officers["admin"], account, creds={"page_access_token": "expired"})
    session.commit()
    # By the second post's slot the first is due again too: both meet the bad token.
    assert publish_due(now=due(second)) == {"failed": 2}
    for post in (first, second):
        message = reload(session, post).last_error or ""
        assert message.startswith(
            "Facebook did not accept the page token: Invalid OAuth access token"
        )
    assert facebook.posts == []


@pytest.mark.parametrize("kind", ["mastodon", "facebook"])
def test_two_workers_racing_never_both_publish(
    session: Session, officers: dict[str, User], mastodon: Fake, facebook: Fake, kind: str
) -> None:
    fake = mastodon if kind == "mastodon" else facebook
    account = (mastodon_account if kind == "mastodon" else facebook_account)(session, fake)
    posts = approved(session, account, officers["approver"], n=6)
    fake.delay_after_accept = 0.05  # keep the workers overlapping
    now = max(due(p) for p in posts)
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            # Each worker keeps going until it finds nothing due, as beat would.
            while result := publish_due(now=now, limit=2):
                results.append(result)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.get("published", 0) for r in results) == 6
    texts = [p.get("content") or p.get("message") for p in fake.posts]
    assert len(texts) == 6 and len(set(texts)) == 6
    session.expire_all()
    assert {p.state for p in session.scalars(select(Post))} == {PostState.PUBLISHED}


def test_claims_do_not_overlap(session: Session, officers: dict[str, User], mastodon: Fake) -> None:
    account = mastodon_account(session, mastodon)
    posts = approved(session, account, officers["approver"], n=4)
    now = max(due(p) for p in posts)
    with session_scope() as a, session_scope() as b:
        first = claim(a, now, limit=3)
        second = claim(b, now, limit=3)
        third = claim(b, now, limit=3)
    assert len(first) == 3 and len(second) == 1 and third == []
    assert not {c.post_id for c in first} & {c.post_id for c in second}


def test_withdrawn_at_publish_time_if_entry_went_stale(
    session: Session, officers: dict[str, User], mastodon: Fake
) -> None:
    from publisher.models import Entry

    account = mastodon_account(session, mastodon)
    (post,) = approved(session, account, officers["approver"])
    entry = session.get(Entry, post.entry_refs[0]["entry_pk"])
    assert entry is not None
    entry.stale = True  # the sweep has not run yet
    session.commit()
    assert publish_due(now=due(post)) == {"skipped": 1}
    post = reload(session, post)
    assert post.state is PostState.WITHDRAWN
    assert mastodon.posts == []


def test_unreadable_credentials_fail_the_post_clearly(
    session: Session, officers: dict[str, User], mastodon: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publisher.config import reset_settings

    account = mastodon_account(session, mastodon)
    (post,) = approved(session, account, officers["approver"])
    monkeypatch.setenv("SECRET_KEY", "a-different-secret-key-than-before-0123456789")
    reset_settings()
    assert publish_due(now=due(post)) == {"skipped": 1}
    post = reload(session, post)
    assert post.state is PostState.FAILED
    assert "cannot be read: the secret key has changed" in (post.last_error or "")
    assert mastodon.posts == []


def with_image(session: Session, post: Post, editor: User, url: str) -> None:
    edit_post(
        session,
        editor,
        post,
        image_url=url,
        image_alt="Children painting at a long table in a bright room.",
    )
    session.commit()


def test_mastodon_image_uploaded_with_alt_text(
    session: Session, officers: dict[str, User], mastodon: Fake, images: str
) -> None:
    account = mastodon_account(session, mastodon)
    post = drafted_post(session, account)
    with_image(session, post, officers["editor"], images + "/small.png")
    approve(session, officers["approver"], post)
    session.commit()
    assert publish_due(now=due(post)) == {"published": 1}
    (status,) = mastodon.posts
    (media,) = status["media_attachments"]
    assert media["description"] == "Children painting at a long table in a bright room."
    assert media["_size"] > 0


def test_facebook_image_is_a_photo_post_with_alt_text(
    session: Session, officers: dict[str, User], facebook: Fake, images: str
) -> None:
    account = facebook_account(session, facebook)
    post = drafted_post(session, account)
    with_image(session, post, officers["editor"], images + "/small.png")
    approve(session, officers["approver"], post)
    session.commit()
    assert publish_due(now=due(post)) == {"published": 1}
    (photo,) = facebook.posts
    assert photo["message"] == post.text
    assert photo["image_url"] == images + "/small.png"
    assert photo["alt_text"] == "Children painting at a long table in a bright room."
    assert reload(session, post).platform_post_id == photo["id"]


def test_missing_image_fails_clearly(
    session: Session, officers: dict[str, User], mastodon: Fake, images: str
) -> None:
    account = mastodon_account(session, mastodon)
    post = drafted_post(session, account)
    with_image(session, post, officers["editor"], images + "/gone.png")
    approve(session, officers["approver"], post)
    session.commit()
    assert publish_due(now=due(post)) == {"failed": 1}
    assert (reload(session, post).last_error or "").startswith(
        "The image could not be fetched: " + images + "/gone.png answered 404."
    )
    assert mastodon.posts == [] and mastodon.media == []


def test_mastodon_crash_found_after_idempotency_key_expired(
    session: Session, officers: dict[str, User], mastodon: Fake
) -> None:
    account = mastodon_account(session, mastodon)
    (post,) = approved(session, account, officers["approver"])
    now = due(post)
    with session_scope() as s:
        (item,) = claim(s, now)
        outgoing = begin(s, item, now)
    assert outgoing is not None
    first = adapter_for(Platform.MASTODON).publish(outgoing)
    # Two hours on, Mastodon no longer remembers the key: the status must be found.
    mastodon.forgotten.add(post.idempotency_key)
    assert publish_due(now=now + dt.timedelta(hours=2)) == {"published": 1}
    post = reload(session, post)
    assert post.platform_post_id == first.post_id
    assert len(mastodon.posts) == 1
    assert ("GET", "/api/v1/accounts/verify_credentials") in mastodon.requests


def test_mastodon_not_found_after_key_expired_posts_once(
    session: Session, officers: dict[str, User], mastodon: Fake
) -> None:
    account = mastodon_account(session, mastodon)
    (post,) = approved(session, account, officers["approver"])
    now = due(post)
    # The first attempt never reached Mastodon (the worker died before the call).
    with session_scope() as s:
        (item,) = claim(s, now)
        assert begin(s, item, now) is not None
    assert publish_due(now=now + dt.timedelta(hours=2)) == {"published": 1}
    assert len(mastodon.posts) == 1


def test_post_that_may_be_out_is_seen_through_not_withdrawn(
    session: Session, officers: dict[str, User], facebook: Fake
) -> None:
    from publisher.models import Entry

    account = facebook_account(session, facebook)
    (post,) = approved(session, account, officers["approver"])
    facebook.delay_after_accept = 1.5  # accepted, but the answer is too late
    now = due(post)
    assert publish_due(now=now) == {"retry": 1}
    facebook.delay_after_accept = 0
    entry = session.get(Entry, post.entry_refs[0]["entry_pk"])
    assert entry is not None
    entry.stale = True
    session.commit()
    claimed_until = reload(session, post).claimed_until
    assert claimed_until is not None
    later = claimed_until + dt.timedelta(seconds=1)
    assert publish_due(now=later) == {"published": 1}
    post = reload(session, post)
    assert post.state is PostState.PUBLISHED
    assert post.platform_post_id == facebook.posts[0]["id"]
    assert len(facebook.posts) == 1


def test_one_post_failing_leaves_the_others_alone(
    session: Session, officers: dict[str, User], mastodon: Fake
) -> None:
    account = mastodon_account(session, mastodon)
    first, second = approved(session, account, officers["approver"], n=2)
    mastodon.fail_next.append((422, {"error": "Validation failed: Text is spam"}, {}))
    assert publish_due(now=due(second)) == {"failed": 1, "published": 1}
    first, second = reload(session, first), reload(session, second)
    assert first.state is PostState.FAILED and first.last_error is not None
    assert "Text is spam" in first.last_error
    assert second.state is PostState.PUBLISHED and second.last_error is None
    assert [p["content"] for p in mastodon.posts] == [second.text]
