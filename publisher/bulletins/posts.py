"""An approved bulletin becomes a draft post for each active social account, through the
same templates, limits and approval as drafts from the change log (kind "bulletin";
unique per account by ``group_key``, so approving twice drafts nothing new)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from publisher.bulletins.body import public_url
from publisher.bulletins.body import summary as shorten
from publisher.db import utcnow
from publisher.models import Bulletin, Post, PostState, SocialAccount
from publisher.social import rules
from publisher.social.accounts import hashtags_of
from publisher.social.drafting import _env
from publisher.social.platforms import describe


def render(account: SocialAccount, title: str, text: str, link: str) -> str:
    described = describe(account.platform)
    template = _env().get_template(described.template)

    def attempt(summary: str) -> str:
        return template.render(
            kind="bulletin",
            items=[{"name": title, "organisation": None, "ages": None, "changed": ""}],
            names=title,
            summary=summary,
            link=link,
            hashtags=hashtags_of(account),
        ).strip()

    budget = 280
    out = attempt(shorten(text, budget))
    while budget and (
        described.count(out) > described.limit
        or len(out.encode()) > (described.bytes_limit or 10**9)
    ):
        budget = budget * 3 // 4 if budget > 40 else 0
        out = attempt(shorten(text, budget) if budget else "")
    return out


def draft_for_bulletin(session: Session, bulletin: Bulletin) -> list[int]:
    """Drafts for every active account (the caller commits); ids of those made."""
    link = bulletin.link or public_url(bulletin.id)
    made = []
    accounts = session.scalars(
        select(SocialAccount).where(SocialAccount.active.is_(True)).order_by(SocialAccount.id)
    ).all()
    for account in accounts:
        text = render(account, bulletin.title, bulletin.body_text, link)
        found = rules.urls(text)
        post = Post(
            account_id=account.id,
            state=PostState.DRAFT,
            kind="bulletin",
            group_key=f"bulletin:{bulletin.id}",
            text=text,
            link=found[0] if found else None,
            hashtags=rules.hashtags(text),
            link_title=bulletin.title,
            link_description=shorten(bulletin.body_text, 280) or None,
            change_ids=[],
            entry_refs=[],
            idempotency_key=uuid.uuid4().hex,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        try:
            with session.begin_nested():
                session.add(post)
                session.flush()
        except IntegrityError:
            continue
        made.append(post.id)
    return made
