"""Writing, approving and withdrawing bulletins: each checks the officer's role and the
bulletin's state, changes it and writes the audit log in the same transaction. None
commits: the console's unit of work does, so a refusal leaves nothing behind.

Editors write and change drafts; approvers (and admins) also approve, send urgently and
withdraw. With the two-person rule on (the console setting ``social.two_person_rule``,
the same rule as for posts), whoever wrote or changed a bulletin cannot approve it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.audit import record
from publisher.bulletins.audience import AudienceError, parse_audience
from publisher.bulletins.body import MAX_SOURCE, MAX_TITLE, Body, make_body
from publisher.db import utcnow
from publisher.models import AuditEvent, Bulletin, BulletinState, Role, User
from publisher.social.errors import NotAllowed, WrongState
from publisher.social.queue import two_person_rule_on

EDITORS = frozenset({Role.EDITOR, Role.APPROVER, Role.ADMIN})
APPROVERS = frozenset({Role.APPROVER, Role.ADMIN})
MAX_LINK = 2000


class BulletinInvalid(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Draft:
    title: str
    body: Body
    link: str | None
    audience: dict[str, list[str]]


def view(b: Bulletin) -> dict[str, Any]:
    """What the audit log keeps before and after each action."""
    return {
        "state": b.state.value,
        "title": b.title,
        "body_html": b.body_html,
        "link": b.link,
        "audience": b.audience,
        "urgent": b.urgent,
    }


def _allow(actor: User | None, roles: frozenset[Role], what: str) -> User:
    if actor is None or not actor.active:
        raise NotAllowed(f"Sign in to {what}.")
    if actor.role not in roles:
        raise NotAllowed(f"Only an approver or admin can {what}. You are an {actor.role.value}.")
    return actor


def check(form: Mapping[str, Any]) -> Draft:
    """Read and check the form; every problem is listed at once."""
    errors: dict[str, str] = {}
    title = " ".join(str(form.get("title") or "").split())
    if not title:
        errors["title"] = "Enter a title."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"The title must be {MAX_TITLE} characters or fewer."
    source = str(form.get("body") or "").strip()
    body = make_body(source[: MAX_SOURCE * 2])
    if not source:
        errors["body"] = "Enter what you want to tell families."
    elif len(source) > MAX_SOURCE:
        errors["body"] = (
            f"The bulletin must be {MAX_SOURCE:,} characters or fewer. It has {len(source):,}. "
            "Keep it short and link to the details."
        )
    elif not body.text.strip():
        errors["body"] = (
            "There is nothing left to show once the parts that cannot go in are removed."
        )
    link = str(form.get("link") or "").strip() or None
    if link is not None:
        parts = urlsplit(link)
        if len(link) > MAX_LINK or parts.scheme not in {"http", "https"} or not parts.hostname:
            errors["link"] = "Enter a web address that starts with https://"
        elif parts.username or parts.password:
            errors["link"] = "The address must not hold a user name or password."
    audience: dict[str, list[str]] = {}
    try:
        audience = parse_audience(form)
    except AudienceError as exc:
        errors.update(exc.errors)
    if errors:
        raise BulletinInvalid(errors)
    return Draft(title=title, body=body, link=link, audience=audience)


def _apply(b: Bulletin, draft: Draft) -> None:
    b.title = draft.title
    b.body_source = draft.body.source
    b.body_html = draft.body.html
    b.body_text = draft.body.text
    b.link = draft.link
    b.audience = draft.audience


def create(session: Session, actor: User | None, draft: Draft) -> Bulletin:
    actor = _allow(actor, EDITORS, "write bulletins")
    b = Bulletin(
        state=BulletinState.DRAFT, created_by_id=actor.id, created_at=utcnow(), urgent=False
    )
    _apply(b, draft)
    session.add(b)
    session.flush()
    record(session, actor, "bulletin.create", "bulletin", b.id, None, view(b))
    return b


def edit(session: Session, actor: User | None, b: Bulletin, draft: Draft) -> Bulletin:
    actor = _allow(actor, EDITORS, "change bulletins")
    if b.state is not BulletinState.DRAFT:
        raise WrongState("Only a draft can be changed. This bulletin is " + b.state.value + ".")
    before = view(b)
    _apply(b, draft)
    b.edited_by_id, b.edited_at = actor.id, utcnow()
    session.flush()
    record(session, actor, "bulletin.edit", "bulletin", b.id, before, view(b))
    return b


def writers_of(session: Session, b: Bulletin) -> set[int]:
    ids = set(
        session.scalars(
            select(AuditEvent.actor_id).where(
                AuditEvent.object_type == "bulletin",
                AuditEvent.object_id == str(b.id),
                AuditEvent.action.in_(("bulletin.create", "bulletin.edit")),
                AuditEvent.actor_id.is_not(None),
            )
        )
    )
    ids.update(i for i in (b.created_by_id, b.edited_by_id) if i is not None)
    return {i for i in ids if i is not None}


def approve(session: Session, actor: User | None, b: Bulletin, *, urgent: bool = False) -> Bulletin:
    """Approve a draft: it goes in the next edition of every frequency; or, ``urgent``,
    at once as an email of its own to everyone it matches (the caller queues the send
    after commit)."""
    actor = _allow(actor, APPROVERS, "send bulletins now" if urgent else "approve bulletins")
    if b.state is not BulletinState.DRAFT:
        raise WrongState("Only a draft can be approved. This bulletin is " + b.state.value + ".")
    if two_person_rule_on(session) and actor.id in writers_of(session, b):
        raise NotAllowed(
            "You wrote or changed this bulletin, so someone else must approve it (two-person rule)."
        )
    before = view(b)
    b.state = BulletinState.APPROVED
    b.urgent = urgent
    b.approved_by_id, b.approved_at = actor.id, utcnow()
    session.flush()
    action = "bulletin.send_urgent" if urgent else "bulletin.approve"
    record(session, actor, action, "bulletin", b.id, before, view(b))
    return b


def withdraw(session: Session, actor: User | None, b: Bulletin) -> Bulletin:
    """Stop a bulletin going in any further edition (what went out stays sent)."""
    actor = _allow(actor, APPROVERS, "withdraw bulletins")
    if b.state is BulletinState.WITHDRAWN:
        raise WrongState("This bulletin is already withdrawn.")
    if b.urgent and b.urgent_planned_at is not None:
        raise WrongState("This bulletin has already been sent to everyone it matches.")
    before = view(b)
    b.state = BulletinState.WITHDRAWN
    b.withdrawn_at = utcnow()
    session.flush()
    record(session, actor, "bulletin.withdraw", "bulletin", b.id, before, view(b))
    # Its social drafts still waiting go too (what was published stays).
    from publisher.models import Post
    from publisher.social.queue import PENDING
    from publisher.social.queue import withdraw as withdraw_post

    waiting = select(Post).where(Post.group_key == f"bulletin:{b.id}", Post.state.in_(PENDING))
    for post in session.scalars(waiting).all():
        withdraw_post(session, None, post, "Withdrawn: its bulletin was withdrawn.", system=True)
    return b
