"""Spotlights (issue 14): so that an account stays "regularly updated" in quiet weeks, a
draft about a service that already exists, when the account has free slots in the next 7
days and nothing queued.

A spotlight is only ever about an entry that is present, active, checked within the
stale limit and not spotlighted (on any account) in the last 90 days. Entries are chosen
in turn across age bands (0-5, 5-11, 11-16, 16-25) and, within a band, from the category
spotlighted least recently. A spotlight is a draft like any other (the same approval);
one whose entry goes stale, closes or goes before it is published is withdrawn
(``withdraw_gone_spotlights``, also run just before publishing).

An account turns them on with its ``spotlights_per_week`` setting (0: off, the default).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.changes import page_url
from publisher.db import utcnow
from publisher.models import Entry, Post, PostState, SocialAccount
from publisher.social import rules
from publisher.social.accounts import hashtags_of
from publisher.social.drafting import _ages, _env, _shorten
from publisher.social.platforms import describe
from publisher.social.queue import PENDING, withdraw
from publisher.social.slots import slot_times
from publisher.spotlight_choice import KIND, choose

AHEAD_DAYS = 7
MAX_PER_WEEK = 14


def per_week(account: SocialAccount) -> int:
    try:
        value = int((account.settings or {}).get("spotlights_per_week", 0))
    except (TypeError, ValueError):
        return 0
    return max(0, min(value, MAX_PER_WEEK))


def _free_slots(session: Session, account: SocialAccount, now: dt.datetime) -> int:
    end = now + dt.timedelta(days=AHEAD_DAYS)
    taken = set(
        session.scalars(
            select(Post.publish_at).where(
                Post.account_id == account.id,
                Post.state.in_([PostState.APPROVED, PostState.SCHEDULED]),
                Post.publish_at >= now,
                Post.publish_at < end,
            )
        )
    )
    day = now.date()
    free = 0
    for offset in range(AHEAD_DAYS + 1):
        for when in slot_times(account, day + dt.timedelta(days=offset)):
            if now < when < end and when not in taken:
                free += 1
    return free


def render(account: SocialAccount, entry: Entry, link: str | None) -> str:
    described = describe(account.platform)
    template = _env().get_template(described.template)
    item = {
        "name": entry.name,
        "organisation": entry.organisation,
        "ages": _ages({"minimum_age": entry.minimum_age, "maximum_age": entry.maximum_age}),
        "changed": "",
    }

    def attempt(summary: str) -> str:
        return template.render(
            kind=KIND,
            items=[item],
            names=entry.name,
            summary=summary,
            link=link,
            hashtags=hashtags_of(account),
        ).strip()

    summary = " ".join((entry.summary or "").split())
    budget = len(summary)
    text = attempt(summary)
    while (
        summary
        and budget
        and (
            described.count(text) > described.limit
            or len(text.encode()) > (described.bytes_limit or 10**9)
        )
    ):
        budget = budget * 3 // 4 if budget > 40 else 0
        text = attempt(_shorten(summary, budget) if budget else "")
    return text


def draft_spotlights(session: Session, now: dt.datetime | None = None) -> list[int]:
    """One spotlight draft for each account that wants one now (the caller commits)."""
    now = now or utcnow()
    withdraw_gone_spotlights(session)
    made: list[int] = []
    accounts = session.scalars(
        select(SocialAccount).where(SocialAccount.active.is_(True)).order_by(SocialAccount.id)
    ).all()
    for account in accounts:
        wanted = per_week(account)
        if not wanted:
            continue
        queued = session.scalar(
            select(func.count()).where(Post.account_id == account.id, Post.state.in_(PENDING))
        )
        if queued:
            continue
        this_week = session.scalar(
            select(func.count()).where(
                Post.account_id == account.id,
                Post.kind == KIND,
                Post.created_at >= now - dt.timedelta(days=7),
            )
        )
        if (this_week or 0) >= wanted or not _free_slots(session, account, now):
            continue
        chosen = choose(session, now)
        if chosen is None:
            continue
        entry, source, band = chosen
        link = page_url(source, entry.entry_id, entry.url)
        text = render(account, entry, link)
        found = rules.urls(text)
        post = Post(
            account_id=account.id,
            state=PostState.DRAFT,
            kind=KIND,
            group_key=f"spotlight:{entry.id}:{now.strftime('%Y%m%d%H%M%S')}",
            text=text,
            link=found[0] if found else None,
            hashtags=rules.hashtags(text),
            link_title=entry.name,
            link_description=_shorten(" ".join((entry.summary or "").split()), 280) or None,
            change_ids=[],
            entry_refs=[
                {
                    "entry_pk": entry.id,
                    "source": source.name,
                    "entry_id": entry.entry_id,
                    "name": entry.name,
                    "band": band,
                    "categories": list(entry.categories or []),
                }
            ],
            idempotency_key=uuid.uuid4().hex,
            created_at=now,
            updated_at=now,
        )
        session.add(post)
        session.flush()
        made.append(post.id)
    return made


def _gone(entry: Entry | None, today: dt.date) -> str | None:
    if entry is None or not entry.present:
        return "Withdrawn automatically: the service was removed from the Local Offer."
    if entry.stale or (entry.status or "").lower() != "active":
        return (
            f"Withdrawn automatically: {entry.name} is no longer active and checked "
            "(stale or closed), so it is not promoted."
        )
    return None


def withdraw_gone_spotlights(session: Session, post_ids: list[int] | None = None) -> list[int]:
    """Withdraw waiting spotlights whose entry went stale, closed or was removed."""
    query = select(Post).where(Post.kind == KIND, Post.state.in_([*PENDING, PostState.FAILED]))
    if post_ids is not None:
        query = query.where(Post.id.in_(post_ids or [-1]))
    done = []
    today = utcnow().date()
    for post in session.scalars(query).all():
        refs: list[dict[str, Any]] = list(post.entry_refs or [])
        pk = refs[0].get("entry_pk") if refs else None
        reason = _gone(session.get(Entry, pk) if pk is not None else None, today)
        if reason:
            withdraw(session, None, post, reason, system=True)
            done.append(post.id)
    return done
