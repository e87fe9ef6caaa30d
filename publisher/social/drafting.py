"""Drafts from the change log: each publishable change becomes a draft for each active
social account (or joins a group of similar changes, when the account groups them).

Publishable: added, reopened, a notable update, a closure (removed, or an update to a
closed status). Never became_stale, never a change whose snapshot is stale: those are for
the council, not news for families. Idempotent: a change is drafted once per account
(unique account + change in social_post_changes), however often it is delivered.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from publisher.change_words import post_sentence
from publisher.changes import changed_words
from publisher.db import session_scope, utcnow
from publisher.models.changes import Change, ChangeKind
from publisher.models.social import Platform, Post, PostChange, PostState, SocialAccount
from publisher.social import rules
from publisher.social.accounts import draft_kinds_of, hashtags_of, roundup_of
from publisher.social.kinds import post_kind
from publisher.social.platforms import describe
from publisher.social.withdrawal import withdraw_for_gone_entries

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# The beat sweep looks this far back for changes that have no draft yet; older changes
# are no longer news.
SWEEP_DAYS = 7


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    # Plain text: autoescape off, or "&" would go out as "&amp;".
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=False,  # noqa: S701 - plain-text templates, never HTML
        keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["add_hash"] = lambda tag: f"#{tag}"
    return env


def _ages(snap: dict[str, Any]) -> str | None:
    low, high = snap.get("minimum_age"), snap.get("maximum_age")
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"{low} and over"
    if high is not None:
        return f"up to {high}"
    return None


def _changed_words(change: Change) -> str:
    words = changed_words(list(change.changed_fields or []))
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return cut + "…" if cut else ""


def render(account: SocialAccount, kind: str, changes: Sequence[Change], link: str | None) -> str:
    """The post text from templates/social/<platform>.txt, shortened to fit the platform:
    first the summary is cut, then dropped."""
    items = []
    for change in changes:
        snap = change.snapshot or {}
        items.append(
            {
                "name": snap.get("name") or change.name,
                "organisation": snap.get("organisation"),
                "ages": _ages(snap),
                "changed": _changed_words(change),
                # The most important change in one sentence, named.
                "sentence": post_sentence(
                    str(snap.get("name") or change.name),
                    list(change.changed_fields or []),
                    change.details or {},
                    snap,
                ),
            }
        )
    summary = " ".join(((changes[0].snapshot or {}).get("summary") or "").split())
    if len(changes) > 1 or kind == "closed":
        summary = ""
    described = describe(account.platform)
    template = _env().get_template(described.template)

    def attempt(summary: str) -> str:
        return template.render(
            kind=kind,
            items=items,
            names=_names([str(i["name"]) for i in items]),
            summary=summary,
            link=link,
            hashtags=hashtags_of(account),
        ).strip()

    text = attempt(summary)
    budget = len(summary)
    while summary and (
        described.count(text) > described.limit
        or len(text.encode()) > (described.bytes_limit or 10**9)
    ):
        budget = budget * 3 // 4 if budget > 40 else 0
        text = attempt(_shorten(summary, budget) if budget else "")
        if not budget:
            break
    return text


def _publishable(session: Session, change_ids: Iterable[int]) -> list[tuple[Change, str]]:
    ids = sorted(set(change_ids))
    if not ids:
        return []
    changes = session.scalars(select(Change).where(Change.id.in_(ids)).order_by(Change.id))
    from publisher.reviews.holds import as_checked, held_entry_pks, promotes, trusted_entry_pks

    # Issue 9: held (the provider says closed) and trusted (confirmed by the provider).
    held, trusted = held_entry_pks(session), trusted_entry_pks(session)
    out = []
    for change in changes:
        kind = post_kind(as_checked(change, trusted))
        if kind is not None and not (change.entry_pk in held and promotes(change.kind)):
            out.append((change, kind))
    return out


def _groups(
    account: SocialAccount, todo: list[tuple[Change, str]]
) -> list[tuple[str, list[Change]]]:
    size = max(int(account.settings.get("group_max", 1) or 1), 1)
    by_kind: dict[str, list[Change]] = {}
    for change, kind in todo:
        by_kind.setdefault(kind, []).append(change)
    groups = []
    for kind, changes in by_kind.items():
        for i in range(0, len(changes), size):
            groups.append((kind, changes[i : i + size]))
    return groups


def _draft_one(
    session: Session, account: SocialAccount, kind: str, changes: list[Change]
) -> Post | None:
    first = changes[0]
    snap = first.snapshot or {}
    if len(changes) == 1:
        link = snap.get("page_url") or snap.get("url")
        group_key = f"change:{first.id}"
        title = snap.get("name") or first.name
    else:
        link = account.settings.get("group_link") or snap.get("page_url")
        group_key = f"group:{kind}:{first.id}"
        title = "Local Offer"
    text = render(account, kind, changes, link)
    found = rules.urls(text)
    post = Post(
        account_id=account.id,
        state=PostState.DRAFT,
        kind=kind,
        group_key=group_key,
        text=text,
        link=found[0] if found else None,
        hashtags=rules.hashtags(text),
        link_title=title,
        link_description=_shorten(" ".join((snap.get("summary") or "").split()), 280) or None,
        change_ids=[c.id for c in changes],
        entry_refs=[
            {
                "entry_pk": c.entry_pk,
                "source": (c.snapshot or {}).get("source"),
                "entry_id": c.entry_id,
                "name": (c.snapshot or {}).get("name") or c.name,
            }
            for c in changes
        ],
        idempotency_key=uuid.uuid4().hex,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(post)
            session.flush()
            for c in changes:
                session.add(
                    PostChange(
                        post_id=post.id, account_id=account.id, change_id=c.id, entry_pk=c.entry_pk
                    )
                )
            session.flush()
    except IntegrityError:
        # Another worker drafted (some of) these changes first: theirs stands.
        return None
    return post


def draft_for_changes(session: Session, change_ids: Iterable[int]) -> list[int]:
    """Draft posts for these changes in ``session`` (caller commits). Returns new post ids."""
    ids = list(change_ids)
    todo = _publishable(session, ids)
    accounts = session.scalars(
        select(SocialAccount).where(SocialAccount.active.is_(True)).order_by(SocialAccount.id)
    ).all()
    made: list[int] = []
    for account in accounts:
        done = set(
            session.scalars(
                select(PostChange.change_id).where(
                    PostChange.account_id == account.id,
                    PostChange.change_id.in_([c.id for c, _ in todo] or [-1]),
                )
            )
        )
        # A newly added account starts from its own start, not with a backlog of old news.
        if roundup_of(account):
            continue  # its changes go into the weekly round-up (publisher.social.roundup)
        wanted = set(draft_kinds_of(account))
        mine = [
            (c, k)
            for c, k in todo
            if c.id not in done
            and k in wanted
            and (c.occurred_at is None or c.occurred_at >= account.created_at)
        ]
        for kind, changes in _groups(account, mine):
            post = _draft_one(session, account, kind, changes)
            if post is not None:
                made.append(post.id)
    # A removal or a lapse into staleness withdraws what was waiting to announce it.
    withdraw_for_gone_entries(session)
    return made


def draft_posts(change_ids: Iterable[int]) -> list[int]:
    """The hook task's work: draft these changes, in one transaction."""
    with session_scope() as session:
        return draft_for_changes(session, change_ids)


def changes_without_drafts(session: Session, since: dt.datetime | None = None) -> list[int]:
    """Recent publishable-looking changes that some active account has no draft for."""
    since = since or utcnow() - dt.timedelta(days=SWEEP_DAYS)
    accounts = session.scalars(select(SocialAccount.id).where(SocialAccount.active.is_(True))).all()
    if not accounts:
        return []
    candidates = session.scalars(
        select(Change.id)
        .where(
            Change.occurred_at >= since,
            Change.kind.in_(
                [ChangeKind.ADDED, ChangeKind.REOPENED, ChangeKind.REMOVED, ChangeKind.UPDATED]
            ),
        )
        .order_by(Change.id)
    ).all()
    if not candidates:
        return []
    drafted = session.execute(
        select(PostChange.change_id, PostChange.account_id).where(
            PostChange.change_id.in_(candidates)
        )
    ).all()
    have: dict[int, set[int]] = {}
    for change_id, account_id in drafted:
        have.setdefault(change_id, set()).add(account_id)
    return [c for c in candidates if not set(accounts) <= have.get(c, set())]


def sweep() -> list[int]:
    """Beat's catch-up: draft what the hook missed, and withdraw posts whose entries went;
    and the weekly round-ups that are due."""
    from publisher.social.roundup import draft_roundups

    with session_scope() as session:
        ids = changes_without_drafts(session)
        made = draft_for_changes(session, ids)
        made += draft_roundups(session)
        return made


__all__ = ["Platform", "draft_for_changes", "draft_posts", "post_kind", "render", "sweep"]
