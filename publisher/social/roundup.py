"""The weekly round-up post (issue 13.5): an account that chose it gets one draft a week,
"This week on the Local Offer: 5 new services and 1 closed", instead of a post for each
change. It is an ordinary draft: approved, slotted and published like the others.

Drafted by the social sweep once the week's round-up time (Friday 10:00, UK time) has
passed. Idempotent: the round-up's group key names its week, and the changes it counts
are marked drafted for the account (unique account + change), so a sweep run twice, or
by two workers, makes one round-up.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from publisher.config import get_settings
from publisher.db import utcnow
from publisher.models.changes import Change, ChangeKind
from publisher.models.social import Post, PostChange, PostState, SocialAccount
from publisher.social import rules
from publisher.social.accounts import draft_kinds_of, hashtags_of, roundup_of
from publisher.social.kinds import post_kind
from publisher.uk_time import LONDON

ROUNDUP_WEEKDAY = 4  # Friday
ROUNDUP_TIME = dt.time(10, 0)
KIND = "roundup"
# (kind, one, many) in the order the sentence tells them.
WORDS = (
    ("added", "new service", "new services"),
    ("reopened", "service open again", "services open again"),
    ("updated", "service with new details", "services with new details"),
    ("closed", "service that closed", "services that closed"),
)


def week_close(now: dt.datetime) -> dt.datetime:
    """The latest round-up time at or before ``now`` (UTC in, UTC out)."""
    local = now.astimezone(LONDON)
    days_back = (local.weekday() - ROUNDUP_WEEKDAY) % 7
    day = local.date() - dt.timedelta(days=days_back)
    close = dt.datetime.combine(day, ROUNDUP_TIME, tzinfo=LONDON)
    if close > local:
        close -= dt.timedelta(days=7)
    return close.astimezone(dt.UTC)


def roundup_text(counts: dict[str, int], link: str, hashtags: list[str]) -> str:
    parts = [
        f"{counts[kind]} {one if counts[kind] == 1 else many}"
        for kind, one, many in WORDS
        if counts.get(kind)
    ]
    told = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    tags = " ".join(f"#{t}" for t in hashtags)
    return f"This week on the Local Offer: {told}.\n\nSee what is new: {link}" + (
        f"\n\n{tags}" if tags else ""
    )


def draft_roundups(session: Session, now: dt.datetime | None = None) -> list[int]:
    """Draft the round-up due for each account that chose one; returns new post ids."""
    now = now or utcnow()
    close = week_close(now)
    start = close - dt.timedelta(days=7)
    made: list[int] = []
    accounts = session.scalars(
        select(SocialAccount).where(SocialAccount.active.is_(True)).order_by(SocialAccount.id)
    ).all()
    for account in accounts:
        if not roundup_of(account):
            continue
        key = f"{KIND}:{close.date().isoformat()}"
        if session.scalar(
            select(Post.id).where(Post.account_id == account.id, Post.group_key == key)
        ):
            continue
        post = _draft(session, account, key, start, close)
        if post is not None:
            made.append(post.id)
    return made


def _draft(
    session: Session, account: SocialAccount, key: str, start: dt.datetime, close: dt.datetime
) -> Post | None:
    done = select(PostChange.change_id).where(PostChange.account_id == account.id)
    changes = session.scalars(
        select(Change)
        .where(
            Change.occurred_at >= max(start, account.created_at),
            Change.occurred_at < close,
            Change.kind != ChangeKind.BECAME_STALE,
            Change.id.not_in(done),
        )
        .order_by(Change.id)
    ).all()
    wanted = set(draft_kinds_of(account))
    counted = [(c, k) for c in changes if (k := post_kind(c)) is not None and k in wanted]
    if not counted:
        return None
    counts: dict[str, int] = {}
    for _, kind in counted:
        counts[kind] = counts.get(kind, 0) + 1
    link = str((account.settings or {}).get("group_link") or f"{get_settings().public_base_url}/")
    text = roundup_text(counts, link, hashtags_of(account))
    if not rules.check(account.platform, text).ok:
        text = roundup_text(counts, link, [])
    now = utcnow()
    post = Post(
        account_id=account.id,
        state=PostState.DRAFT,
        kind=KIND,
        group_key=key,
        text=text,
        link=link,
        hashtags=rules.hashtags(text),
        link_title="Local Offer",
        change_ids=[c.id for c, _ in counted],
        entry_refs=[],  # about the week, not one entry: nothing to withdraw it for
        idempotency_key=uuid.uuid4().hex,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(post)
            session.flush()
            for change, _ in counted:
                session.add(
                    PostChange(
                        post_id=post.id,
                        account_id=account.id,
                        change_id=change.id,
                        entry_pk=change.entry_pk,
                    )
                )
            session.flush()
    except IntegrityError:
        return None  # another worker made this week's round-up first
    return post


def sweep_roundups() -> list[int]:
    """The social sweep's second half (publisher.tasks.social): due round-ups, in one
    transaction."""
    from publisher.db import session_scope

    with session_scope() as session:
        return draft_roundups(session)
