"""Publishing to X (API v2, OAuth 1.0a) against a loopback X that checks the signature,
the weighted length and duplicate content: exactly once, failures told apart."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.db import session_scope
from publisher.models import AuditEvent, Platform, PostState, SocialAccount, User
from publisher.social import rules, update_account
from publisher.social.adapters import Permanent, adapter_for
from publisher.social.publishing import LEASE, begin, claim, publish_due
from tests.clock import subprocess_clock_env
from tests.social.conftest import make_account
from tests.social.test_publishing import approved, due, reload
from tests.social.x_server import XServer, serve_x
from tests.worker import wait_for


@pytest.fixture()
def x() -> Iterator[XServer]:
    with serve_x() as server:
        yield server


def x_account(session: Session, server: XServer, **settings: object) -> SocialAccount:
    return make_account(
        session, Platform.X, settings={"api_url": server.url, "read_timeout": 0.5, **settings}
    )


def test_x_publishes_once_signed_with_oauth1(
    session: Session, officers: dict[str, User], x: XServer
) -> None:
    account = x_account(session, x)
    (post,) = approved(session, account, officers["approver"])
    assert rules.length(Platform.X, post.text) <= 280
    assert publish_due(now=due(post)) == {"published": 1}
    post = reload(session, post)
    assert post.state is PostState.PUBLISHED
    assert [p["text"] for p in x.posts] == [post.text]
    assert post.platform_post_id == x.posts[0]["id"]
    assert post.platform_url == f"https://x.com/i/web/status/{post.platform_post_id}"
    # The server checked the signature: one signed request, nothing refused.
    assert x.verified == [("POST", "/2/tweets")] and x.refused == []
    assert publish_due(now=due(post) + LEASE * 2) == {}


def test_wrong_secret_fails_signature_check_with_clear_message(
    session: Session, officers: dict[str, User], x: XServer
) -> None:
    account = x_account(session, x)
    (post,) = approved(session, account, officers["approver"])
    update_account(session, None, account, creds={"access_token_secret": "not-the-secret"})
    session.commit()
    assert publish_due(now=due(post)) == {"failed": 1}
    post = reload(session, post)
    assert post.state is PostState.FAILED
    assert "X did not accept the account's keys and tokens" in (post.last_error or "")
    assert x.posts == [] and x.refused == [("POST", "/2/tweets")]


def test_weighted_length_counts_like_x(
    session: Session, officers: dict[str, User], x: XServer
) -> None:
    """twitter-text's weights: CJK 2, a link 23. What our rules allow, X takes; one more
    character and both refuse."""
    link = "https://localoffer.example.gov.uk/services/" + "a" * 80
    fits = "日" * 128 + " " + link  # 256 + 1 + 23 = 280
    assert rules.length(Platform.X, fits) == 280
    assert rules.check(Platform.X, fits).ok
    over = "日" + fits
    assert not rules.check(Platform.X, over).ok
    account = x_account(session, x)
    (post,) = approved(session, account, officers["approver"])
    with session_scope() as s:
        (item,) = claim(s, due(post))
        outgoing = begin(s, item, due(post))
    assert outgoing is not None
    adapter = adapter_for(Platform.X)
    assert adapter.publish(outgoing.__class__(**{**outgoing.__dict__, "text": fits})).post_id
    with pytest.raises(Permanent, match="Tweet text is too long"):
        adapter.publish(outgoing.__class__(**{**outgoing.__dict__, "text": over}))
    assert [p["text"] for p in x.posts] == [fits]


def test_crash_after_x_took_the_post_is_found_not_posted_again(
    session: Session, officers: dict[str, User], x: XServer
) -> None:
    account = x_account(session, x)
    (post,) = approved(session, account, officers["approver"])
    now = due(post)
    # A worker records intent, X takes the post ... and the worker dies before recording it.
    with session_scope() as s:
        (item,) = claim(s, now)
        outgoing = begin(s, item, now)
    assert outgoing is not None
    first = adapter_for(Platform.X).publish(outgoing)
    x.forget_duplicates = True  # only the lookup may prevent a second copy
    assert publish_due(now=now + LEASE / 2) == {}
    assert publish_due(now=now + LEASE + dt.timedelta(seconds=1)) == {"published": 1}
    post = reload(session, post)
    assert post.platform_post_id == first.post_id
    assert len(x.posts) == 1
    # It looked at the account's posts and did not post again.
    assert [r for r in x.verified if r[0] == "POST"] == [("POST", "/2/tweets")]
    assert ("GET", "/2/users/me") in x.verified
    note = session.scalars(
        select(AuditEvent.note).where(AuditEvent.action == "social_post.publish")
    ).one()
    assert note == "Found on the platform from an earlier attempt."


def test_timeout_without_read_access_is_caught_by_xs_duplicate_check(
    session: Session, officers: dict[str, User], x: XServer
) -> None:
    """On X's free plan the lookup is refused; X's own duplicate refusal then tells that
    the earlier attempt went out."""
    account = x_account(session, x)
    (post,) = approved(session, account, officers["approver"])
    x.read_forbidden = True
    x.fake.delay_after_accept = 1.5  # longer than the account's 0.5 s read timeout
    now = due(post)
    assert publish_due(now=now) == {"retry": 1}
    assert len(x.posts) == 1
    post = reload(session, post)
    assert "X did not answer in time" in (post.last_error or "")
    x.fake.delay_after_accept = 0
    assert post.claimed_until is not None
    assert publish_due(now=post.claimed_until + dt.timedelta(seconds=1)) == {"published": 1}
    post = reload(session, post)
    assert post.state is PostState.PUBLISHED and post.platform_post_id is None
    assert len(x.posts) == 1


def test_lost_attempt_is_posted_on_retry(
    session: Session, officers: dict[str, User], x: XServer
) -> None:
    """A 503 before X took it: the retry finds nothing on the account and posts once."""
    account = x_account(session, x)
    (post,) = approved(session, account, officers["approver"])
    x.fake.fail_next.append((503, {"title": "Service Unavailable"}, {}))
    now = due(post)
    assert publish_due(now=now) == {"retry": 1}
    post = reload(session, post)
    assert "X had a server error (503)" in (post.last_error or "")
    assert post.claimed_until is not None
    assert publish_due(now=post.claimed_until + dt.timedelta(seconds=1)) == {"published": 1}
    assert len(x.posts) == 1
    assert reload(session, post).platform_post_id == x.posts[0]["id"]


def test_duplicate_of_someone_elses_post_fails_with_advice(
    session: Session, officers: dict[str, User], x: XServer
) -> None:
    account = x_account(session, x)
    (post,) = approved(session, account, officers["approver"])
    x.posts.append({"id": "1", "text": post.text, "created_at": "2026-01-01T00:00:00.000Z"})
    assert publish_due(now=due(post)) == {"failed": 1}
    post = reload(session, post)
    assert "already has a post with the same words" in (post.last_error or "")
    assert len(x.posts) == 1


def test_rate_limit_waits_for_xs_reset_time(
    session: Session, officers: dict[str, User], x: XServer
) -> None:
    account = x_account(session, x)
    (post,) = approved(session, account, officers["approver"])
    reset = int(time.time()) + 900
    x.fake.fail_next.append(
        (429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": str(reset)})
    )
    now = due(post)
    assert publish_due(now=now) == {"retry": 1}
    post = reload(session, post)
    assert "rate limit" in (post.last_error or "")
    assert post.claimed_until is not None
    wait = (post.claimed_until - now).total_seconds()
    assert 880 <= wait <= 900
    assert publish_due(now=post.claimed_until + dt.timedelta(seconds=1)) == {"published": 1}
    assert len(x.posts) == 1


def test_an_image_on_an_x_post_is_refused_before_approval() -> None:
    check = rules.check(
        Platform.X, "New: Swim Club. #SEND", image_url="https://e.org/a.png", image_alt="A pool"
    )
    assert "Posts to X cannot carry an image yet" in " ".join(check.problems)
    assert rules.check(
        Platform.MASTODON, "New: Swim Club. #SEND", image_url="https://e.org/a.png", image_alt="A"
    ).ok


@pytest.mark.parametrize("reading", ["allowed", "forbidden"])
def test_worker_killed_after_x_took_the_post_never_posts_twice(
    session: Session, officers: dict[str, User], x: XServer, reading: str
) -> None:
    """A real process publishes and is killed (SIGKILL) while X holds its answer. With
    reading allowed the next attempt finds the post; on the free plan, X's duplicate
    refusal tells it the post is out. Either way: one post, recorded as published."""
    account = x_account(session, x, read_timeout=60)
    (post,) = approved(session, account, officers["approver"])
    now = due(post)
    x.fake.delay_after_accept = 20  # X has the post; its answer never reaches the worker
    x.read_forbidden = reading == "forbidden"
    code = (
        "import datetime as dt\n"
        "from publisher.social.publishing import publish_due\n"
        f"publish_due(now=dt.datetime.fromisoformat({now.isoformat()!r}))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env={**os.environ, **subprocess_clock_env()}
    )
    try:
        assert wait_for(lambda: len(x.posts) == 1, timeout=60), "the worker never posted"
    finally:
        proc.kill()
        proc.wait()
    x.fake.delay_after_accept = 0
    post = reload(session, post)
    assert post.state is PostState.APPROVED and post.publish_started_at is not None
    assert publish_due(now=now + LEASE + dt.timedelta(seconds=1)) == {"published": 1}
    post = reload(session, post)
    assert post.state is PostState.PUBLISHED
    assert len(x.posts) == 1
    if reading == "allowed":
        assert post.platform_post_id == x.posts[0]["id"]
    else:
        assert post.platform_post_id is None
