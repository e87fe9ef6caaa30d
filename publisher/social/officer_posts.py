"""What officers do beyond one drafted post at a time (issue 13.5): reject many drafts
with one reason, and write a post of their own, not drafted from a change. An own post
is an ordinary draft: the same length and link rules, the same approval (and two-person
rule), the same posting slots.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.orm import Session

from publisher.audit import record
from publisher.db import utcnow
from publisher.models.social import Post, PostState, SocialAccount
from publisher.models.users import User
from publisher.social import rules
from publisher.social.errors import PostInvalid, SocialError
from publisher.social.queue import APPROVERS, EDITORS, _allow, post_view, reject

OWN_KIND = "own"


def bulk_reject(
    session: Session, actor: User | None, post_ids: Iterable[int], reason: str
) -> tuple[list[int], dict[int, str]]:
    """Reject several posts with one reason. Returns the ids rejected and, for each one
    refused, why; a refused post is left exactly as it was."""
    _allow(actor, APPROVERS, "reject posts")
    if not (reason or "").strip():
        raise SocialError("Say why you are rejecting the posts, so the editors can learn from it.")
    rejected: list[int] = []
    refused: dict[int, str] = {}
    for post_id in dict.fromkeys(post_ids):
        post = session.get(Post, post_id)
        if post is None:
            refused[post_id] = "There is no such post."
            continue
        try:
            with session.begin_nested():
                reject(session, actor, post, reason)
        except SocialError as exc:
            session.refresh(post)
            refused[post_id] = str(exc)
        else:
            rejected.append(post_id)
    return rejected, refused


def write_own_post(
    session: Session,
    actor: User | None,
    account: SocialAccount,
    text: str,
    *,
    image_url: str | None = None,
    image_alt: str | None = None,
) -> Post:
    """A draft an officer wrote (an event, a reminder, a consultation): checked by the
    account's platform rules now, approved and slotted like any other draft."""
    actor = _allow(actor, EDITORS, "write posts")
    if not account.active:
        raise SocialError(f"{account.name} is switched off. Switch it on first.")
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise PostInvalid(["Write the post first."])
    result = rules.check(account.platform, text, image_url=image_url, image_alt=image_alt)
    if not result.ok:
        raise PostInvalid(result.problems)
    found = rules.urls(text)
    now = utcnow()
    post = Post(
        account_id=account.id,
        state=PostState.DRAFT,
        kind=OWN_KIND,
        group_key=f"own:{uuid.uuid4().hex}",
        text=text,
        link=found[0] if found else None,
        hashtags=rules.hashtags(text),
        image_url=image_url,
        image_alt=image_alt,
        change_ids=[],
        entry_refs=[],
        idempotency_key=uuid.uuid4().hex,
        edited_by_id=actor.id,
        edited_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(post)
    session.flush()
    record(
        session,
        actor,
        "social_post.write",
        "social_post",
        post.id,
        None,
        post_view(post),
        note="Written by an officer, not drafted from a change.",
    )
    return post
