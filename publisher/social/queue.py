"""What officers do to posts: edit, submit, approve (one or many), reject, schedule, retry,
withdraw. Each checks the user's role and the post's state, changes the post, and writes
the audit log in the same transaction. None commits: the caller does (one request, one
transaction), so a refused action leaves nothing behind.

Roles (publisher.models.users.Role): editors edit and submit; approvers also approve,
reject, schedule, retry and withdraw; admins may do everything. With the two-person rule
on (app setting ``social.two_person_rule``, or the ``two_person_rule`` argument), anyone
who edited a post cannot approve it.

States move only forward: draft -> approved -> scheduled -> published, or to rejected or
withdrawn; a failed post can be retried (back to approved), the one way back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from publisher.audit import record
from publisher.db import utcnow
from publisher.models.audit import AuditEvent
from publisher.models.settings import AppSetting
from publisher.models.social import Post, PostChange, PostState
from publisher.models.users import Role, User
from publisher.social import rules
from publisher.social.errors import NotAllowed, PostInvalid, SocialError, WrongState
from publisher.social.platforms import describe, descriptions
from publisher.social.slots import in_quiet_hours, next_free_slot, quiet_hours_text

TWO_PERSON_SETTING = "social.two_person_rule"
EDITORS = frozenset({Role.EDITOR, Role.APPROVER, Role.ADMIN})
APPROVERS = frozenset({Role.APPROVER, Role.ADMIN})
PENDING = (PostState.DRAFT, PostState.APPROVED, PostState.SCHEDULED)
STATE_LABELS = {
    PostState.DRAFT: "a draft",
    PostState.APPROVED: "approved",
    PostState.SCHEDULED: "scheduled",
    PostState.PUBLISHED: "published",
    PostState.REJECTED: "rejected",
    PostState.FAILED: "failed",
    PostState.WITHDRAWN: "withdrawn",
}
MAX_REASON = 2000


def post_view(post: Post) -> dict[str, Any]:
    """The parts of a post the audit log keeps before and after each action."""
    return {
        "state": post.state.value,
        "text": post.text,
        "link": post.link,
        "hashtags": list(post.hashtags or []),
        "image_url": post.image_url,
        "image_alt": post.image_alt,
        "publish_at": post.publish_at.isoformat() if post.publish_at else None,
        "reject_reason": post.reject_reason,
        "withdrawn_reason": post.withdrawn_reason,
        "attempts": post.attempts,
        "last_error": post.last_error,
        "platform_post_id": post.platform_post_id,
    }


def _allow(actor: User | None, roles: frozenset[Role], what: str) -> User:
    if actor is None:
        raise NotAllowed(f"Sign in to {what}.")
    if not actor.active:
        raise NotAllowed("This account is switched off. Ask an admin.")
    if actor.role not in roles:
        needed = " or ".join(sorted(r.value for r in roles))
        raise NotAllowed(f"Only an {needed} can {what}. You are an {actor.role.value}.")
    return actor


def _state(post: Post, allowed: Iterable[PostState], what: str) -> None:
    allowed = tuple(allowed)
    if post.state not in allowed:
        raise WrongState(
            f"You cannot {what} this post: it is {STATE_LABELS[post.state]}. "
            f"Only posts that are {' or '.join(STATE_LABELS[s] for s in allowed)} can be."
        )


def check_post(post: Post) -> rules.Check:
    return rules.check(
        post.account.platform, post.text, image_url=post.image_url, image_alt=post.image_alt
    )


def _require_valid(post: Post) -> None:
    result = check_post(post)
    if not result.ok:
        raise PostInvalid(result.problems)


def two_person_rule_on(session: Session) -> bool:
    row = session.get(AppSetting, TWO_PERSON_SETTING)
    return bool(row.value) if row is not None else False


def lineage(session: Session, post: Post) -> list[Post]:
    """The post and every post it was redrafted from, newest first."""
    chain = [post]
    seen = {post.id}
    while chain[-1].redrafted_from_id is not None:
        parent = session.get(Post, chain[-1].redrafted_from_id)
        if parent is None or parent.id in seen:
            break
        chain.append(parent)
        seen.add(parent.id)
    return chain


def editors_of(session: Session, post: Post) -> set[int]:
    """Everyone who ever edited the post or any post it was redrafted from (from the
    audit log), not just the last editor: a redraft carries its words' history."""
    chain = lineage(session, post)
    ids = set(
        session.scalars(
            select(AuditEvent.actor_id).where(
                AuditEvent.object_type == "social_post",
                AuditEvent.object_id.in_([str(p.id) for p in chain]),
                AuditEvent.action == "social_post.edit",
                AuditEvent.actor_id.is_not(None),
            )
        )
    )
    ids.update(p.edited_by_id for p in chain if p.edited_by_id is not None)
    return {i for i in ids if i is not None}


def _touch(post: Post) -> None:
    post.updated_at = utcnow()


def edit_post(
    session: Session,
    actor: User | None,
    post: Post,
    *,
    text: str | None = None,
    image_url: str | None = None,
    image_alt: str | None = None,
) -> Post:
    """Change a draft's text (and image). The link and hashtags are read from the text, so
    what the officer sees is exactly what goes out. Refused, with every problem listed, if
    the result breaks a rule."""
    actor = _allow(actor, EDITORS, "edit posts")
    _state(post, (PostState.DRAFT,), "edit")
    new_text = post.text if text is None else text.replace("\r\n", "\n").strip()
    new_image = post.image_url if image_url is None else (image_url.strip() or None)
    new_alt = post.image_alt if image_alt is None else (image_alt.strip() or None)
    if (new_text, new_image, new_alt) == (post.text, post.image_url, post.image_alt):
        # Saving without a change is not an edit: it must not bar the saver from approving.
        return post
    result = rules.check(post.account.platform, new_text, image_url=new_image, image_alt=new_alt)
    if not result.ok:
        raise PostInvalid(result.problems)
    before = post_view(post)
    found = rules.urls(new_text)
    post.text, post.image_url, post.image_alt = new_text, new_image, new_alt
    post.link = found[0] if found else None
    post.hashtags = rules.hashtags(new_text)
    post.edited_by_id, post.edited_at = actor.id, utcnow()
    # An edit after submission needs submitting again.
    post.submitted_by_id, post.submitted_at = None, None
    _touch(post)
    session.flush()
    record(session, actor, "social_post.edit", "social_post", post.id, before, post_view(post))
    return post


def submit(session: Session, actor: User | None, post: Post) -> Post:
    """An editor says the draft is ready for an approver."""
    actor = _allow(actor, EDITORS, "submit posts")
    _state(post, (PostState.DRAFT,), "submit")
    _require_valid(post)
    before = post_view(post)
    post.submitted_by_id, post.submitted_at = actor.id, utcnow()
    _touch(post)
    session.flush()
    after = post_view(post) | {"submitted": True}
    record(session, actor, "social_post.submit", "social_post", post.id, before, after)
    return post


def approve(
    session: Session,
    actor: User | None,
    post: Post,
    *,
    publish_at: dt.datetime | None = None,
    two_person_rule: bool | None = None,
) -> Post:
    """Approve a draft. It goes out at ``publish_at`` if given (then it is scheduled),
    else in the account's next free slot."""
    actor = _allow(actor, APPROVERS, "approve posts")
    _state(post, (PostState.DRAFT,), "approve")
    rule = two_person_rule_on(session) if two_person_rule is None else two_person_rule
    if rule and actor.id in editors_of(session, post):
        raise NotAllowed("You edited this post, so someone else must approve it (two-person rule).")
    _require_valid(post)
    when = _check_time(post, publish_at) if publish_at is not None else None
    before = post_view(post)
    post.approved_by_id, post.approved_at = actor.id, utcnow()
    if when is not None:
        post.state, post.publish_at = PostState.SCHEDULED, when
    else:
        post.state = PostState.APPROVED
        post.publish_at = next_free_slot(session, post.account, exclude_post_id=post.id)
    _touch(post)
    session.flush()
    record(session, actor, "social_post.approve", "social_post", post.id, before, post_view(post))
    return post


def bulk_approve(
    session: Session,
    actor: User | None,
    post_ids: Iterable[int],
    *,
    two_person_rule: bool | None = None,
) -> tuple[list[int], dict[int, str]]:
    """Approve several drafts. Returns the ids approved and, for each one refused, why;
    a refused post is left exactly as it was."""
    _allow(actor, APPROVERS, "approve posts")
    approved: list[int] = []
    refused: dict[int, str] = {}
    for post_id in dict.fromkeys(post_ids):
        post = session.get(Post, post_id)
        if post is None:
            refused[post_id] = "There is no such post."
            continue
        try:
            with session.begin_nested():
                approve(session, actor, post, two_person_rule=two_person_rule)
        except SocialError as exc:
            session.refresh(post)
            refused[post_id] = str(exc)
        else:
            approved.append(post_id)
    return approved, refused


def reject(session: Session, actor: User | None, post: Post, reason: str) -> Post:
    actor = _allow(actor, APPROVERS, "reject posts")
    _state(post, PENDING, "reject")
    reason = (reason or "").strip()
    if not reason:
        raise SocialError("Say why you are rejecting the post, so the editor can learn from it.")
    if len(reason) > MAX_REASON:
        raise SocialError(f"Keep the reason under {MAX_REASON} characters.")
    before = post_view(post)
    post.state, post.reject_reason, post.rejected_by_id = PostState.REJECTED, reason, actor.id
    _touch(post)
    session.flush()
    record(
        session,
        actor,
        "social_post.reject",
        "social_post",
        post.id,
        before,
        post_view(post),
        note=reason,
    )
    return post


def _check_time(post: Post, when: dt.datetime) -> dt.datetime:
    if when.tzinfo is None:
        raise SocialError("Give the time with its time zone.")
    when = when.astimezone(dt.UTC)
    if when < utcnow() - dt.timedelta(minutes=1):
        raise SocialError("That time has passed. Choose a time in the future.")
    if in_quiet_hours(post.account, when):
        raise SocialError(
            f"That time is in {post.account.name}'s quiet hours "
            f"({quiet_hours_text(post.account)}, UK time). Choose another time."
        )
    return when


def schedule(
    session: Session, actor: User | None, post: Post, publish_at: dt.datetime | None = None
) -> Post:
    """Set when an approved post goes out: at ``publish_at``, or the next free slot."""
    actor = _allow(actor, APPROVERS, "schedule posts")
    _state(post, (PostState.APPROVED, PostState.SCHEDULED), "schedule")
    if publish_at is not None:
        when = _check_time(post, publish_at)
    else:
        when = next_free_slot(session, post.account, exclude_post_id=post.id)
    before = post_view(post)
    post.state, post.publish_at = PostState.SCHEDULED, when
    _touch(post)
    session.flush()
    record(session, actor, "social_post.schedule", "social_post", post.id, before, post_view(post))
    return post


def retry(session: Session, actor: User | None, post: Post) -> Post:
    """Try a failed post again, straight away (the one step back the states allow)."""
    actor = _allow(actor, APPROVERS, "retry posts")
    _state(post, (PostState.FAILED,), "retry")
    _require_valid(post)
    before = post_view(post)
    post.state = PostState.APPROVED
    post.publish_at = utcnow()
    post.attempts = 0
    # The old error stays in the audit log; the queue shows only this new try's.
    post.last_error = None
    post.claimed_until, post.claim_token = None, None
    _touch(post)
    session.flush()
    record(session, actor, "social_post.retry", "social_post", post.id, before, post_view(post))
    return post


def withdraw(
    session: Session, actor: User | None, post: Post, reason: str, *, system: bool = False
) -> Post:
    """Stop a post going out. ``system=True`` (with ``actor`` None) is the service itself,
    for example when the entry it announces was removed or went stale."""
    if not system:
        actor = _allow(actor, APPROVERS, "withdraw posts")
    _state(post, (*PENDING, PostState.FAILED), "withdraw")
    reason = (reason or "").strip() or "Withdrawn."
    platform = describe(post.account.platform).label
    if post.publish_started_at is not None:
        # An attempt was made and its answer was lost (a time-out, say): say so plainly.
        reason += (
            f" Note: we tried to post it and did not hear back from {platform}, so it may "
            f"be on {post.account.name}. Check the account and delete the post there if "
            "it is up."
        )
    elif post.attempts:
        # Every try failed before anything reached the platform (publishing.finish
        # clears the intent when an adapter is sure of that).
        error = (post.last_error or "no reason was given").split(" Trying again after")[0]
        reason += f" Nothing was posted on {platform}: {error}"
    before = post_view(post)
    post.state, post.withdrawn_reason = PostState.WITHDRAWN, reason[:MAX_REASON]
    post.claimed_until, post.claim_token = None, None
    _touch(post)
    session.flush()
    record(
        session,
        actor,
        "social_post.withdraw",
        "social_post",
        post.id,
        before,
        post_view(post),
        note=reason,
    )
    return post


def redraft(session: Session, actor: User | None, post: Post) -> Post:
    """A new draft copied from a rejected or withdrawn post, so it can be fixed and sent
    after all (states never move back: the old post stays as it was). The changes it
    announces move to the new draft, so automatic withdrawal follows them."""
    actor = _allow(actor, EDITORS, "redraft posts")
    _state(post, (PostState.REJECTED, PostState.WITHDRAWN), "redraft")
    copy = Post(
        redrafted_from_id=post.id,
        account_id=post.account_id,
        state=PostState.DRAFT,
        kind=post.kind,
        group_key=f"{post.group_key}:redraft:{post.id}"[-100:],
        text=post.text,
        link=post.link,
        hashtags=list(post.hashtags or []),
        link_title=post.link_title,
        link_description=post.link_description,
        image_url=post.image_url,
        image_alt=post.image_alt,
        change_ids=list(post.change_ids or []),
        entry_refs=list(post.entry_refs or []),
        idempotency_key=uuid.uuid4().hex,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(copy)
    session.flush()
    session.execute(
        update(PostChange)
        .where(PostChange.post_id == post.id)
        .values(post_id=copy.id)
        .execution_options(synchronize_session=False)
    )
    record(
        session,
        actor,
        "social_post.redraft",
        "social_post",
        copy.id,
        None,
        post_view(copy),
        note=f"Redrafted from post {post.id}.",
    )
    return copy


def preview_text(
    text: str, *, image_url: str | None = None, image_alt: str | None = None
) -> dict[str, dict[str, Any]]:
    """Per-platform text, counts and problems, for the console's live preview (the same
    text goes to every platform; only how it is counted differs)."""
    out: dict[str, dict[str, Any]] = {}
    for described in descriptions():
        platform = described.platform
        result = rules.check(platform, text, image_url=image_url, image_alt=image_alt)
        out[platform.value] = result.as_dict() | {"text": text}
    return out


def preview(post: Post) -> dict[str, dict[str, Any]]:
    """``preview_text`` for a stored post; the post's own platform comes first."""
    all_ = preview_text(post.text, image_url=post.image_url, image_alt=post.image_alt)
    own = post.account.platform.value
    return {own: all_[own]} | {k: v for k, v in all_.items() if k != own}
