"""Publishing due posts, exactly once.

1. ``claim``: take due posts (approved or scheduled, ``publish_at`` passed, no live claim)
   for this worker: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional
   ``UPDATE ... WHERE`` on SQLite (one row at a time; rowcount 1 means it is ours). A claim
   is a short lease (``claimed_until``) renewed while the post is published, so a post
   whose worker died is taken again within about a minute.
2. ``begin``: record intent and commit before calling out: the attempt count, the
   time, and the key the platform lets us choose in advance, if any (Bluesky's record
   key: ``Description.new_key``). A post that already had an intent may have gone
   out, so the adapter is told (``maybe_sent``) and checks the platform first.
3. The adapter call, outside any transaction.
4. ``finish``: record the platform's id (published), or the error: retryable failures wait
   (the Retry-After the platform gave, else exponential backoff) and are tried again up
   to ``MAX_ATTEMPTS``; permanent ones fail at once with the message for the officer.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from publisher.audit import record
from publisher.db import session_scope, utcnow
from publisher.heartbeat import heartbeat
from publisher.models.social import Platform, Post, PostState, SocialAccount
from publisher.social.accounts import credentials
from publisher.social.adapters import Outgoing, Permanent, Published, Retryable, adapter_for
from publisher.social.adapters.base import PublishError
from publisher.social.errors import SocialError
from publisher.social.failures import tell_approvers
from publisher.social.platforms import describe
from publisher.social.queue import check_post, post_view
from publisher.social.uploads import stored_image
from publisher.social.withdrawal import withdraw_for_gone_entries

log = logging.getLogger(__name__)

# Short, and renewed every few seconds while a post is being published (a heartbeat),
# so a post held by a worker that died is taken again within about a minute.
LEASE = dt.timedelta(seconds=30)
HEARTBEAT_SECONDS = 10.0
MAX_ATTEMPTS = 6
BACKOFF_BASE = 60.0
BACKOFF_CAP = 3600.0
RETRY_AFTER_CAP = 6 * 3600.0
DUE_STATES = (PostState.APPROVED, PostState.SCHEDULED)


@dataclass(frozen=True)
class Claim:
    post_id: int
    token: str


def _due(now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Post.state.in_(DUE_STATES),
        Post.publish_at.is_not(None),
        Post.publish_at <= now,
        or_(Post.claimed_until.is_(None), Post.claimed_until < now),
    )


def claim(session: Session, now: dt.datetime | None = None, limit: int = 20) -> list[Claim]:
    """Claim up to ``limit`` due posts for this worker and commit the claim."""
    now = now or utcnow()
    token = uuid.uuid4().hex
    until = now + LEASE
    active_accounts = select(SocialAccount.id).where(SocialAccount.active.is_(True))
    candidates = (
        select(Post.id)
        .where(*_due(now), Post.account_id.in_(active_accounts))
        .order_by(Post.publish_at, Post.id)
        .limit(limit)
    )
    claimed: list[int] = []
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(candidates.with_for_update(skip_locked=True)))
        if ids:
            session.execute(
                update(Post)
                .where(Post.id.in_(ids))
                .values(claimed_until=until, claim_token=token)
                .execution_options(synchronize_session=False)
            )
        claimed = ids
    else:
        # Another worker may take some candidates first: look a little further down.
        for post_id in list(session.scalars(candidates.limit(limit * 4))):
            if len(claimed) >= limit:
                break
            result = session.execute(
                update(Post)
                .where(Post.id == post_id, *_due(now))
                .values(claimed_until=until, claim_token=token)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(post_id)
    session.commit()
    return [Claim(post_id, token) for post_id in claimed]


def begin(session: Session, item: Claim, now: dt.datetime | None = None) -> Outgoing | None:
    """Record the intent to publish and commit it; None if there is nothing to send."""
    now = now or utcnow()
    post = session.get(Post, item.post_id, populate_existing=True)
    if post is None or post.claim_token != item.token or post.state not in DUE_STATES:
        return None
    maybe_sent = post.publish_started_at is not None
    # Once an attempt may have reached the platform, see it through (the adapter finds the
    # earlier copy) rather than withdraw a post that may already be public.
    if not maybe_sent and withdraw_for_gone_entries(session, [post.id]):
        session.commit()
        return None
    result = check_post(post)
    if not result.ok and not maybe_sent:
        _fail(session, post, "The post breaks a rule: " + " ".join(result.problems))
        session.commit()
        return None
    try:
        secrets = credentials(post.account)
    except SocialError as exc:
        _fail(session, post, str(exc))
        session.commit()
        return None
    uploaded = stored_image(session, post.image_url)
    new_key = describe(post.account.platform).new_key
    if new_key is not None and not post.platform_rkey:
        post.platform_rkey = new_key()
    post.publish_started_at = post.publish_started_at or now
    post.attempts += 1
    post.claimed_until = now + LEASE  # the clock starts again for this post
    outgoing = Outgoing(
        post_id=post.id,
        platform=post.account.platform.value,
        text=post.text,
        link=post.link,
        link_title=post.link_title,
        link_description=post.link_description,
        hashtags=list(post.hashtags or []),
        image_url=post.image_url,
        image_alt=post.image_alt,
        idempotency_key=post.idempotency_key,
        rkey=post.platform_rkey,
        intent_at=post.publish_started_at,
        drafted_at=post.created_at,
        maybe_sent=maybe_sent,
        attempt_at=now,
        settings=dict(post.account.settings or {}),
        credentials=secrets,
        image_data=uploaded.data if uploaded is not None else None,
        image_type=uploaded.mime_type if uploaded is not None else None,
    )
    session.commit()
    return outgoing


def _fail(session: Session, post: Post, message: str) -> None:
    # Read after the commit by publish_claimed, which tells the approvers.
    session.info.setdefault("failed_posts", []).append(post.id)
    before = post_view(post)
    post.state, post.last_error = PostState.FAILED, message
    post.claimed_until, post.claim_token = None, None
    post.updated_at = utcnow()
    record(
        session,
        None,
        "social_post.fail",
        "social_post",
        post.id,
        before,
        post_view(post),
        note=message,
    )


def backoff(attempts: int, retry_after: float | None) -> float:
    wait = min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)
    if retry_after is not None:
        wait = max(wait, min(retry_after, RETRY_AFTER_CAP))
    return float(wait)


def finish(
    session: Session,
    item: Claim,
    outcome: Published | Exception,
    now: dt.datetime | None = None,
    *,
    first_intent: bool = False,
) -> str:
    """Record what happened. Returns "published", "retry", "failed" or "lost-claim".

    ``first_intent``: no earlier attempt may have reached the platform. If this one
    certainly did not either (``nothing_sent``), the intent is cleared again, so that
    later steps (a withdrawal, the next attempt) know nothing is out there."""
    now = now or utcnow()
    post = session.get(Post, item.post_id, populate_existing=True)
    if post is None:
        return "lost-claim"
    if isinstance(outcome, Published):
        # Recorded even if the claim lapsed meanwhile: the platform has it, and forgetting
        # that would be how a second copy goes out.
        if post.state is PostState.PUBLISHED:
            return "published"
        before = post_view(post)
        post.state = PostState.PUBLISHED
        post.platform_post_id, post.platform_url = outcome.post_id, outcome.url
        post.published_at, post.last_error = now, None
        post.claimed_until, post.claim_token = None, None
        post.updated_at = now
        note = "Found on the platform from an earlier attempt." if outcome.reconciled else None
        record(
            session,
            None,
            "social_post.publish",
            "social_post",
            post.id,
            before,
            post_view(post),
            note=note,
        )
        session.commit()
        return "published"
    if post.claim_token != item.token or post.state not in DUE_STATES:
        return "lost-claim"
    if first_intent and isinstance(outcome, PublishError) and outcome.nothing_sent:
        post.publish_started_at = None
    platform = describe(post.account.platform).label
    if isinstance(outcome, Retryable) and post.attempts < MAX_ATTEMPTS:
        wait = backoff(post.attempts, outcome.retry_after)
        post.last_error = f"{outcome} Trying again after {int(wait)} seconds."
        post.claimed_until, post.claim_token = now + dt.timedelta(seconds=wait), None
        post.updated_at = now
        session.commit()
        log.warning(
            "post %s to %s failed (attempt %s), trying again in %ss: %s",
            post.id,
            platform,
            post.attempts,
            int(wait),
            outcome,
        )
        return "retry"
    if isinstance(outcome, Retryable):
        message = f"Gave up after {post.attempts} attempts. Last error: {outcome}"
    elif isinstance(outcome, Permanent):
        message = str(outcome)
    else:
        message = f"Unexpected error: {outcome.__class__.__name__}: {outcome}"
    _fail(session, post, message)
    session.commit()
    log.warning("post %s to %s failed for good: %s", post.id, platform, message)
    return "failed"


def _renew(item: Claim) -> None:
    with session_scope() as session:
        session.execute(
            update(Post)
            .where(Post.id == item.post_id, Post.claim_token == item.token)
            .values(claimed_until=utcnow() + LEASE)
            .execution_options(synchronize_session=False)
        )


def publish_claimed(item: Claim, now: dt.datetime | None = None) -> str:
    with session_scope() as session:
        outgoing = begin(session, item, now)
        failed_before_sending = item.post_id in session.info.get("failed_posts", ())
    if outgoing is None:
        if failed_before_sending:
            tell_approvers(item.post_id)
        return "skipped"
    outcome: Published | Exception
    try:
        with heartbeat(
            functools.partial(_renew, item), HEARTBEAT_SECONDS, name=f"post-{item.post_id}"
        ):
            outcome = adapter_for(Platform(outgoing.platform)).publish(outgoing)
    except (Retryable, Permanent) as exc:
        outcome = exc
    except Exception as exc:  # a bug or an unclassified library error
        log.exception("publishing post %s failed unexpectedly", item.post_id)
        # Unclassified: treat as retryable (with backoff); adapters check before re-sending.
        outcome = Retryable(f"Unexpected error: {exc.__class__.__name__}: {exc}")
    with session_scope() as session:
        result = finish(
            session, item, outcome, now, first_intent=outgoing.intent_at == outgoing.attempt_at
        )
    if result == "failed":
        tell_approvers(item.post_id)
    return result


def publish_due(now: dt.datetime | None = None, limit: int = 20) -> dict[str, int]:
    """Beat's every-minute job: claim due posts and publish them. Returns counts."""
    with session_scope() as session:
        claims = claim(session, now, limit)
    counts: dict[str, int] = {}
    for item in claims:
        result = publish_claimed(item, now)
        counts[result] = counts.get(result, 0) + 1
    return counts
