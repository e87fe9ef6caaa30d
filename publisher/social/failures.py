"""Telling people when a post fails for good: every active approver and admin gets an
email with the error in words and a link to the post, so a failure is never found only
by chance in the queue.

Sent after the failure is committed, from the worker that saw it. A lost email is
logged and does not undo or repeat the failure (the queue still shows it).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from publisher.config import get_settings
from publisher.db import session_scope
from publisher.mail import OutgoingMessage, get_transport
from publisher.models.social import Post, PostState
from publisher.models.users import Role, User
from publisher.social.platforms import describe

log = logging.getLogger(__name__)


def failure_email(post: Post, base_url: str) -> tuple[str, str]:
    """(subject, plain text) for one failed post."""
    platform = describe(post.account.platform).label
    subject = f"Post {post.id} to {platform} did not go out"
    link = f"{base_url}/console/posts/{post.id}"
    text = (
        f"Post {post.id} for {post.account.name} ({platform}) did not go out, and we have "
        "stopped trying.\n\n"
        f"What went wrong: {post.last_error or 'no reason was given'}\n\n"
        f"The post said:\n{post.text}\n\n"
        f"Open it to try again, change it or withdraw it:\n{link}\n"
    )
    return subject, text


def tell_approvers(post_id: int) -> int:
    """Email every active approver and admin about a post that failed for good.
    Returns how many emails went."""
    with session_scope() as session:
        post = session.get(Post, post_id)
        if post is None or post.state is not PostState.FAILED:
            return 0
        subject, text = failure_email(post, get_settings().public_base_url)
        people = list(
            session.scalars(
                select(User.email)
                .where(User.active.is_(True), User.role.in_([Role.APPROVER, Role.ADMIN]))
                .order_by(User.id)
            )
        )
    sent = 0
    try:
        transport = get_transport()
    except Exception:
        log.warning("could not tell approvers that post %s failed", post_id, exc_info=True)
        return 0
    try:
        for number, address in enumerate(people, 1):
            try:
                reference = f"post-failed-{post_id}-{number}"
                transport.send(
                    OutgoingMessage(to=address, subject=subject, text=text, reference=reference)
                )
                sent += 1
            except Exception:
                log.warning(
                    "could not email %s that post %s failed", address, post_id, exc_info=True
                )
    finally:
        transport.close()
    return sent
