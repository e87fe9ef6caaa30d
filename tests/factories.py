"""Build sources, entries and change-log rows for tests of the areas that read the log.

These write rows the way ``publisher.ingest`` does (same snapshot function), so that
newsletters, feeds and social posts are tested on realistic changes without a crawl.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.changes import snapshot_of
from publisher.db import utcnow
from publisher.models import (
    Change,
    ChangeKind,
    Entry,
    Platform,
    Post,
    PostChange,
    SocialAccount,
    Source,
    SourceKind,
)
from publisher.social import create_account
from publisher.social.drafting import draft_posts
from publisher.topics import age_bands


def make_source(session: Session, name: str = "demo", **kw: Any) -> Source:
    source = Source(
        name=name,
        location=kw.pop("location", f"https://directory.example.org/{name}"),
        kind=kw.pop("kind", SourceKind.ORUK_API),
        page_url_template=kw.pop(
            "page_url_template", "https://localoffer.example.gov.uk/services/{id}"
        ),
        baseline_at=kw.pop("baseline_at", utcnow() - dt.timedelta(days=30)),
        **kw,
    )
    session.add(source)
    session.flush()
    return source


def make_entry(session: Session, source: Source, entry_id: str, name: str, **kw: Any) -> Entry:
    minimum_age = kw.pop("minimum_age", None)
    maximum_age = kw.pop("maximum_age", None)
    entry = Entry(
        source_id=source.id,
        entry_id=entry_id,
        name=name,
        summary=kw.pop("summary", f"About {name}."),
        url=kw.pop("url", f"https://provider.example.org/{entry_id}"),
        email=kw.pop("email", None),
        status=kw.pop("status", "active"),
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        assured_date=kw.pop("assured_date", dt.date.today() - dt.timedelta(days=30)),
        age_bands=kw.pop("age_bands", age_bands(minimum_age, maximum_age)),
        needs=kw.pop("needs", []),
        categories=kw.pop("categories", []),
        localities=kw.pop("localities", []),
        paid=kw.pop("paid", False),
        stale=kw.pop("stale", False),
        present=kw.pop("present", True),
        content_hash=hashlib.sha256(f"{entry_id}:{name}".encode()).hexdigest(),
        **kw,
    )
    session.add(entry)
    session.flush()
    return entry


def record_change(
    session: Session,
    entry: Entry,
    kind: ChangeKind | str,
    *,
    occurred_at: dt.datetime | None = None,
    changed_fields: list[str] | None = None,
    details: dict[str, Any] | None = None,
    notable: bool = True,
) -> Change:
    source = session.get(Source, entry.source_id)
    assert source is not None
    change = Change(
        source_id=entry.source_id,
        entry_pk=entry.id,
        entry_id=entry.entry_id,
        kind=ChangeKind(kind),
        occurred_at=occurred_at or utcnow(),
        name=entry.name,
        changed_fields=changed_fields or [],
        details=details or {},
        notable=notable,
        snapshot=snapshot_of(entry, source),
    )
    session.add(change)
    session.flush()
    return change


# --- social accounts and drafts -------------------------------------------------------

# Settings and credentials that name no real server (port 9 is closed): tests that
# publish pass the URL of their loopback platform server in ``settings``.
_ACCOUNT_SETTINGS: dict[Platform, dict[str, Any]] = {
    Platform.MASTODON: {"api_base_url": "http://127.0.0.1:9"},
    Platform.BLUESKY: {"service_url": "http://127.0.0.1:9", "handle": "lo.test"},
    Platform.FACEBOOK: {"page_id": "1000", "graph_url": "http://127.0.0.1:9"},
    Platform.X: {"api_url": "http://127.0.0.1:9"},
}
_ACCOUNT_CREDS: dict[Platform, dict[str, str]] = {
    Platform.MASTODON: {"access_token": "mastodon-token-123456"},
    Platform.BLUESKY: {"app_password": "app-pass-word-1234"},
    Platform.FACEBOOK: {"page_access_token": "fb-page-token-abcdef"},
    Platform.X: {
        "api_key": "x-api-key-1234",
        "api_key_secret": "x-api-key-secret-5678",
        "access_token": "x-access-token-9012",
        "access_token_secret": "x-access-token-secret-3456",
    },
}


def make_social_account(
    session: Session,
    platform: Platform = Platform.MASTODON,
    name: str = "Local Offer",
    **kw: Any,
) -> SocialAccount:
    """An account made through the service (credentials encrypted, audit logged)."""
    settings = {**_ACCOUNT_SETTINGS[platform], **kw.pop("settings", {})}
    creds = {**_ACCOUNT_CREDS[platform], **kw.pop("creds", {})}
    return create_account(session, None, platform, name, settings, creds, **kw)


def drafted_post(
    session: Session,
    account: SocialAccount,
    name: str = "Sunny Days Play Group",
    entry_id: str = "svc-1",
    **kw: Any,
) -> Post:
    """A draft made the way the service makes them: from an 'added' change."""
    source = make_source(session, name=f"src-{account.id}-{entry_id}")
    entry = make_entry(session, source, entry_id, name, **kw)
    change = record_change(session, entry, ChangeKind.ADDED)
    session.commit()
    draft_posts([change.id])
    return session.scalars(
        select(Post)
        .join(PostChange, PostChange.post_id == Post.id)
        .where(PostChange.change_id == change.id, Post.account_id == account.id)
    ).one()
