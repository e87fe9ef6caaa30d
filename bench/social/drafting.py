"""What drafting posts from the change log costs, and the per-platform length checks.

Builds N entries with an 'added' change each in a fresh SQLite file (or DATABASE_URL),
with three accounts (Mastodon, Bluesky, X), then times in the same run:
- baseline: inserting the same number of post rows (and their change links) with a fixed
  text, in one transaction: the database's share of the work;
- ``draft_for_changes``: templates, shortening to fit, length checks, rows, withdrawal
  sweep;
- the length check alone (``rules.check``) on each platform, per post.

    .venv/bin/python bench/social/drafting.py [changes]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, select

from publisher import db as dbmod
from publisher.changes import snapshot_of
from publisher.migrate import upgrade
from publisher.models import (
    Change,
    ChangeKind,
    Entry,
    Platform,
    Post,
    PostChange,
    PostState,
    SocialAccount,
    Source,
    SourceKind,
)
from publisher.social import rules
from publisher.social.drafting import draft_for_changes

SUMMARY = (
    "A friendly weekly group for children with additional needs and their families, with "
    "sensory play, music and a quiet room. Free, no need to book; siblings welcome. "
)


def build(session, n: int) -> list[int]:
    source = Source(
        name="bench",
        location="file:bench",
        kind=SourceKind.FILE,
        page_url_template="https://localoffer.example.gov.uk/services/{id}",
    )
    session.add(source)
    session.flush()
    for platform in (Platform.MASTODON, Platform.BLUESKY, Platform.X):
        session.add(
            SocialAccount(
                platform=platform,
                name=platform.value,
                settings={},
                created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
            )
        )
    ids = []
    for i in range(n):
        entry = Entry(
            source_id=source.id,
            entry_id=f"e{i}",
            name=f"Rainbow Play Group {i}",
            summary=SUMMARY * (1 + i % 3),
            status="active",
            minimum_age=0,
            maximum_age=5,
            content_hash=hashlib.sha256(str(i).encode()).hexdigest(),
        )
        session.add(entry)
        session.flush()
        change = Change(
            source_id=source.id,
            entry_pk=entry.id,
            entry_id=entry.entry_id,
            kind=ChangeKind.ADDED,
            name=entry.name,
            snapshot=snapshot_of(entry, source),
        )
        session.add(change)
        session.flush()
        ids.append(change.id)
    session.commit()
    return ids


def baseline(session, change_ids: list[int]) -> None:
    accounts = session.scalars(select(SocialAccount.id)).all()
    changes = session.execute(
        select(Change.id, Change.entry_pk).where(Change.id.in_(change_ids))
    ).all()
    now = dt.datetime.now(dt.UTC)
    for account_id in accounts:
        for change_id, entry_pk in changes:
            post_id = session.execute(
                insert(Post).values(
                    account_id=account_id,
                    state=PostState.DRAFT,
                    kind="added",
                    group_key=f"base:{change_id}",
                    text="fixed text",
                    hashtags=[],
                    change_ids=[],
                    entry_refs=[],
                    idempotency_key=uuid.uuid4().hex,
                    created_at=now,
                    updated_at=now,
                    attempts=0,
                )
            ).inserted_primary_key[0]
            session.execute(
                insert(PostChange).values(
                    post_id=post_id, account_id=account_id, change_id=change_id, entry_pk=entry_pk
                )
            )
    session.rollback()  # leave the tables as they were for the real run


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    url = os.environ.get("DATABASE_URL")
    tmp = None
    if not url:
        tmp = tempfile.mkdtemp(prefix="bench-social-")
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
    engine = dbmod.make_engine(url)
    upgrade(engine)
    dbmod.set_engine(engine)
    factory = dbmod.session_factory()
    with factory() as session:
        ids = build(session, n)
    with factory() as session:
        t0 = time.perf_counter()
        baseline(session, ids)
        base = time.perf_counter() - t0
    with factory() as session:
        t0 = time.perf_counter()
        made = draft_for_changes(session, ids)
        session.commit()
        drafted = time.perf_counter() - t0
        texts = [p.text for p in session.scalars(select(Post))]
    t0 = time.perf_counter()
    for text in texts:
        for platform in Platform:
            rules.check(platform, text)
    checks = time.perf_counter() - t0
    per_platform = {}
    for platform in Platform:
        t0 = time.perf_counter()
        for text in texts:
            rules.length(platform, text)
        per_platform[platform.value] = (time.perf_counter() - t0) / len(texts) * 1e6
    rows = len(made)
    print(f"changes: {n:,}, posts drafted: {rows:,} (3 accounts), database: {engine.dialect.name}")
    print(
        f"baseline (insert {rows:,} fixed rows): {base * 1000:,.0f} ms "
        f"({base / rows * 1e6:,.0f} µs a post)"
    )
    print(
        f"draft_for_changes:                {drafted * 1000:,.0f} ms "
        f"({drafted / rows * 1e6:,.0f} µs a post)"
    )
    print(
        f"rules.check, 4 platforms:         {checks * 1000:,.0f} ms "
        f"({checks / len(texts) * 1e6:,.0f} µs a post)"
    )
    print(
        "rules.length per platform, µs a post: "
        + ", ".join(f"{k} {v:,.0f}" for k, v in per_platform.items())
    )
    engine.dispose()


if __name__ == "__main__":
    main()
