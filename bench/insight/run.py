"""Open-data pages against a primary-key lookup, on a large change log (issue 15).

    .venv/bin/python bench/insight/run.py                                   # issue sizes, PostgreSQL
    .venv/bin/python bench/insight/run.py --changes 200000 --entries 20000 --subscribers 50000
    .venv/bin/python bench/insight/run.py --database sqlite

Makes a database of its own (PostgreSQL on 127.0.0.1:5432, dropped afterwards; or a
temporary SQLite file), fills it with ``--entries`` entries, ``--changes`` change-log rows
over three years and ``--subscribers`` subscribers, builds the summaries with the real
upkeep (timed: that is what ``publisher insight rebuild`` costs), then asks the app
(in-process, through its WSGI stack, one request at a time) for each page ``--requests``
times, interleaved with the baseline: a route added to the same app for this run that
opens a session, fetches one summary row by primary key and answers JSON. It prints p50
and p95 of each page and its ratio to the baseline's. Last, a crawl of 100 changes is
written and the summary upkeep the crawl queues (``refresh_changes`` and
``refresh_entries``) is timed.

Nothing here asserts a timing; the figures are for bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

AGES = ["0-5", "5-11", "11-16", "16-25"]
NEEDS = [
    "communication-interaction",
    "cognition-learning",
    "social-emotional-mental-health",
    "sensory-physical",
]
CATEGORIES = [
    "education",
    "training-employment",
    "health",
    "social-care",
    "leisure",
    "travel-transport",
    "preparing-for-adulthood",
    "childcare",
    "money-benefits",
    "advice-support",
    "assessment-ehc-plans",
    "complaints-disagreements",
]
PLACES = [f"district-{i}" for i in range(1, 9)]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def mapping_file(folder: Path) -> Path:
    text = (ROOT / "publisher" / "data" / "default_mapping.toml").read_text(encoding="utf-8")
    extra = "".join(
        f'\n[localities.{p}]\nlabel = "District {p[-1]}"\npostcode_districts = ["DN{10 + i}"]\n'
        for i, p in enumerate(PLACES)
    )
    path = folder / "mapping.toml"
    path.write_text(text.replace("[council]", extra + "\n[council]", 1), encoding="utf-8")
    return path


def pick(rng: random.Random, values: list[str], low: int, high: int) -> list[str]:
    return sorted(rng.sample(values, rng.randint(low, high)))


def fill(session: Any, args: argparse.Namespace) -> None:
    from sqlalchemy import insert, select

    from publisher.models import (
        Change,
        ChangeKind,
        Entry,
        Frequency,
        Source,
        SourceKind,
        Subscriber,
        SubscriberStatus,
    )

    rng = random.Random(15)
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    source = Source(
        name="bench",
        location="file:bench",
        kind=SourceKind.FILE,
        page_url_template="https://localoffer.example.gov.uk/services/{id}",
    )
    session.add(source)
    session.flush()
    started = time.perf_counter()
    topics = []
    for start in range(0, args.entries, 5000):
        rows = []
        for i in range(start, min(start + 5000, args.entries)):
            stale = rng.random() < 0.12
            t = {
                "age_bands": AGES if rng.random() < 0.1 else pick(rng, AGES, 1, 2),
                "needs": pick(rng, NEEDS, 0, 2),
                "categories": pick(rng, CATEGORIES, 1, 2),
                "localities": pick(rng, PLACES, 0, 1),
            }
            topics.append((f"e{i}", f"Service {i}", stale, t))
            rows.append(
                {
                    "source_id": source.id,
                    "entry_id": f"e{i}",
                    "name": f"Service {i}",
                    "summary": f"About service {i}.",
                    "status": "active",
                    "content_hash": hashlib.sha256(str(i).encode()).hexdigest(),
                    "first_seen_at": now - dt.timedelta(days=1100),
                    "last_changed_at": now,
                    "present": rng.random() > 0.03,
                    "stale": stale,
                    "missing_crawls": 0,
                    "paid": False,
                    "addresses": [],
                    "postcodes": [],
                    "service_areas": [],
                    "costs": [],
                    "taxonomy_terms": [],
                    "record": {},
                    "assured_date": today
                    - dt.timedelta(days=rng.randint(400, 900) if stale else rng.randint(0, 360)),
                    **t,
                }
            )
        session.execute(insert(Entry), rows)
    pks = dict(session.execute(select(Entry.entry_id, Entry.id)).tuples().all())
    print(f"entries: {args.entries:,} in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    kinds = [
        (ChangeKind.ADDED, True, 30),
        (ChangeKind.UPDATED, True, 35),
        (ChangeKind.UPDATED, False, 15),
        (ChangeKind.REMOVED, True, 7),
        (ChangeKind.REOPENED, True, 3),
        (ChangeKind.BECAME_STALE, True, 10),
    ]
    weights = [k[2] for k in kinds]
    span = 3 * 365 * 24 * 3600
    times = sorted(rng.random() * span for _ in range(args.changes))
    for start in range(0, args.changes, 5000):
        rows = []
        for n in range(start, min(start + 5000, args.changes)):
            entry_id, name, stale, t = topics[rng.randrange(len(topics))]
            kind, notable, _ = rng.choices(kinds, weights)[0]
            snapshot = {
                "source": "bench",
                "entry_id": entry_id,
                "name": name,
                "summary": f"About {name}.",
                "url": None,
                "page_url": f"https://localoffer.example.gov.uk/services/{entry_id}",
                "status": "active",
                "minimum_age": None,
                "maximum_age": None,
                "stale": kind is ChangeKind.BECAME_STALE or (stale and rng.random() < 0.5),
                "present": kind is not ChangeKind.REMOVED,
                "paid": False,
                **t,
            }
            rows.append(
                {
                    "source_id": source.id,
                    "entry_pk": pks[entry_id],
                    "entry_id": entry_id,
                    "kind": kind,
                    "occurred_at": now - dt.timedelta(seconds=span - times[n]),
                    "name": name,
                    "changed_fields": ["name"] if notable else ["assured_date"],
                    "details": {},
                    "notable": notable,
                    "snapshot": snapshot,
                }
            )
        session.execute(insert(Change), rows)
        if start % 100000 == 0:
            session.commit()
            print(f"  changes: {start + len(rows):,}", flush=True)
    session.commit()
    print(f"changes: {args.changes:,} in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    freqs = list(Frequency)
    for start in range(0, args.subscribers, 5000):
        rows = [
            {
                "email": f"person{i}@example.org",
                "status": SubscriberStatus.ACTIVE if rng.random() < 0.9 else SubscriberStatus.ENDED,
                "created_at": now - dt.timedelta(days=rng.randint(0, 700)),
                "requested_at": now,
                "token_version": 1,
                "frequency": rng.choice(freqs),
                "format": "html",
                "paid_opt_in": False,
                "age_bands": pick(rng, AGES, 0, 2),
                "needs": pick(rng, NEEDS, 0, 2),
                "categories": pick(rng, CATEGORIES, 0, 3),
                "localities": pick(rng, PLACES, 0, 1),
            }
            for i in range(start, min(start + 5000, args.subscribers))
        ]
        session.execute(insert(Subscriber), rows)
    session.commit()
    print(f"subscribers: {args.subscribers:,} in {time.perf_counter() - started:.1f} s", flush=True)


def history(session: Any) -> None:
    """Two years of daily snapshots, as two years of refreshes would have left."""
    from sqlalchemy import insert, select

    from publisher.models import InsightCount, InsightSnapshot

    today = dt.date.today()
    current = session.execute(
        select(InsightSnapshot.metric, InsightSnapshot.key, InsightSnapshot.count).where(
            InsightSnapshot.day == today
        )
    ).all()
    rows = []
    for back in range(1, 730):
        day = today - dt.timedelta(days=back)
        rows += [
            {"day": day, "metric": m, "key": k, "count": max(0, c - back // 10)}
            for m, k, c in current
        ]
        if len(rows) > 20000:
            session.execute(insert(InsightSnapshot), rows)
            rows = []
    if rows:
        session.execute(insert(InsightSnapshot), rows)
    feed = [
        {
            "metric": "feed_requests",
            "period": (today - dt.timedelta(days=b)).isoformat(),
            "key": k,
            "count": 500 + b,
        }
        for b in range(400)
        for k in ("full", "conditional")
    ]
    session.execute(insert(InsightCount), feed)
    session.commit()


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def measure(args: argparse.Namespace, url: str, folder: Path) -> None:
    os.environ.update(
        DATABASE_URL=url,
        PUBLISHER_DATA_DIR=str(folder / "data"),
        TOPIC_MAPPING=str(mapping_file(folder)),
        PUBLIC_BASE_URL="https://news.example.gov.uk",
        COUNCIL_CONTACT_EMAIL="localoffer@council.example",
    )
    from publisher import db as dbmod
    from publisher.migrate import upgrade

    engine = dbmod.make_engine(url)
    upgrade(engine)
    dbmod.set_engine(engine)
    if args.reuse:
        print("reusing the kept database: no fill, no rebuild of the summaries", flush=True)
    else:
        build(args)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    timed_pages(args, engine)


def build(args: argparse.Namespace) -> None:
    from publisher import db as dbmod
    from publisher.console.users import create_user
    from publisher.insight import upkeep

    with dbmod.session_scope() as session:
        fill(session, args)
    started = time.perf_counter()
    seen = published = 0
    while True:  # what `publisher insight refresh` does from an empty start, in steps
        with dbmod.session_scope() as session:
            step = upkeep.refresh_changes(session, limit=100_000)
        seen, published = seen + step.changes_seen, published + step.changes_published
        print(f"  summarised {seen:,} changes, {time.perf_counter() - started:.0f} s", flush=True)
        if not step.changes_seen:
            break
    with dbmod.session_scope() as session:
        upkeep.refresh_entries(session)
        upkeep.refresh_reach(session)
    print(
        f"summaries built from an empty start: {time.perf_counter() - started:.1f} s,"
        f" {published:,} published of {seen:,}",
        flush=True,
    )
    with dbmod.session_scope() as session:
        history(session)
        create_user(session, "bench@council.example", "editor", "bench password 12345")


def timed_pages(args: argparse.Namespace, engine: Any) -> None:
    from flask import jsonify
    from sqlalchemy import func, select

    from publisher import db as dbmod
    from publisher.insight import memo
    from publisher.insight.events import SIGNUPS, record_subscription_event
    from publisher.insight.selection import Cursor
    from publisher.models import InsightChange
    from publisher.tasks.insight import build_public_pages
    from publisher.web import create_app

    build_public_pages()  # what the worker does after every refresh
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False})

    @app.get("/bench/pk/<int:change_id>")
    def pk_lookup(change_id: int) -> Any:  # the baseline: one indexed primary-key lookup
        with dbmod.session_factory()() as s:
            row = s.get(InsightChange, change_id)
            return jsonify(
                {"id": row.change_id if row else None, "title": row.title if row else ""}
            )

    client = app.test_client()
    client.post(
        "/console/login",
        data={"email": "bench@council.example", "password": "bench password 12345"},
    )
    with dbmod.session_scope() as session:
        ids = session.scalars(select(InsightChange.change_id)).all()
        count = len(ids)
        mid = session.scalars(
            select(InsightChange)
            .order_by(InsightChange.occurred_at.desc(), InsightChange.change_id.desc())
            .offset(count // 2)
            .limit(1)
        ).one()
        cursor = Cursor(mid.occurred_at, mid.change_id).token()
        first = session.scalar(select(func.min(InsightChange.occurred_at)))
    rng = random.Random(1)
    year_ago = (dt.date.today() - dt.timedelta(days=365)).isoformat()
    pages = {
        "/health": "/health",
        "/changes": "/changes",
        "/changes, 2 topics": "/changes?age=0-5&need=sensory-physical",
        "/changes, rare mix": "/changes?age=16-25&need=sensory-physical&category=childcare"
        "&locality=district-3&kind=reopened",
        "/changes, date range": f"/changes?category=health&from={year_ago}&to={year_ago}",
        "/changes, middle page": f"/changes?after={cursor}",
        "/changes, 2 topics, middle": f"/changes?need=cognition-learning&age=5-11&after={cursor}",
        "/api/changes": "/api/changes",
        "/api/changes, topic, middle": f"/api/changes?locality=district-2&cursor={cursor}",
        "/console/reach": "/console/reach",
    }
    # "cold": the answer for this address is forgotten first (publisher.insight.memo), so
    # the figure is the database and the rendering: an address nobody asked for since the
    # last refresh. What every answer of a refresh shares (each topic's count, read by the
    # first page built after it) is kept; "first after a refresh" forgets that too.
    # "warm": as served between two refreshes, when people ask for the same address again.
    refreshed = "/changes, 2 topics"
    names = ["baseline: PK lookup"]
    for name in pages:
        names += [f"{name} (cold)", f"{name} (warm)"]
    names.insert(names.index(f"{refreshed} (cold)"), f"{refreshed} (first after a refresh)")
    names.insert(names.index("/console/reach (warm)"), "/console/reach (cold, after a sign-up)")
    timings: dict[str, list[float]] = {name: [] for name in names}
    for name, path in pages.items():  # warm up, and check every page answers
        status = client.get(path).status_code
        assert status == 200, (name, status)
    for _ in range(args.requests):
        for name, path in pages.items():
            runs = [
                ("baseline: PK lookup", f"/bench/pk/{rng.choice(ids)}", "keep"),
                (f"{name} (cold)", path, "answers"),
                (f"{name} (warm)", path, "keep"),
            ]
            if name == refreshed:
                runs.insert(2, (f"{name} (first after a refresh)", path, "all"))
            if name == "/console/reach":
                runs.insert(2, (f"{name} (cold, after a sign-up)", path, "sign-up"))
            for label, target, forget in runs:
                if forget == "sign-up":  # counted as it happens: the kept page is out of date
                    with dbmod.session_scope() as session:
                        record_subscription_event(session, SIGNUPS)
                if forget != "keep":
                    memo.clear_all(keep_shared=forget == "answers")
                t0 = time.perf_counter()
                client.get(target)
                timings[label].append(time.perf_counter() - t0)
    base50, base95 = percentiles(timings["baseline: PK lookup"])
    print(
        f"\n{engine.dialect.name}: {args.changes:,} changes ({count:,} published, from "
        f"{first:%Y-%m-%d}), {args.entries:,} entries, {args.subscribers:,} subscribers, "
        f"{args.requests} requests per page\n"
    )
    print("| page | p50 ms | p95 ms | p50 / baseline p50 | p95 / baseline p95 |")
    print("|---|---:|---:|---:|---:|")
    for name, values in timings.items():
        p50, p95 = percentiles(values)
        print(
            f"| {name} | {p50 * 1000:.2f} | {p95 * 1000:.2f} | {p50 / base50:.2f} | "
            f"{p95 / base95:.2f} |"
        )
    crawl_upkeep(engine)
    engine.dispose()


def crawl_upkeep(engine: Any) -> None:
    """A crawl of 100 changes, then what the crawl queues (timed, 3 rounds)."""
    from sqlalchemy import insert, select

    from publisher import db as dbmod
    from publisher.changes import snapshot_of
    from publisher.insight import upkeep
    from publisher.models import Change, ChangeKind, Entry, Source

    for round_ in range(3):
        with dbmod.session_scope() as session:
            source = session.scalars(select(Source)).one()
            entries = session.scalars(
                select(Entry).order_by(Entry.id).offset(round_ * 100).limit(100)
            ).all()
            now = dt.datetime.now(dt.UTC)
            session.execute(
                insert(Change),
                [
                    {
                        "source_id": e.source_id,
                        "entry_pk": e.id,
                        "entry_id": e.entry_id,
                        "kind": ChangeKind.UPDATED,
                        "occurred_at": now,
                        "name": e.name,
                        "changed_fields": ["name"],
                        "details": {},
                        "notable": True,
                        "snapshot": snapshot_of(e, source),
                    }
                    for e in entries
                ],
            )
        started = time.perf_counter()
        with dbmod.session_scope() as session:
            changes = upkeep.refresh_changes(session)
            middle = time.perf_counter()
            upkeep.refresh_entries(session)
        done = time.perf_counter()
        print(
            f"upkeep after a crawl of 100 changes, round {round_ + 1}: {done - started:.3f} s "
            f"(new changes {middle - started:.3f} s for {changes.changes_seen}; freshness, "
            f"coverage and supply {done - middle:.3f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="PostgreSQL only: keep the database under this name, and reuse it when it exists"
        " (skips the fill and the summary build, so a change to a page can be timed again"
        " in minutes; drop it with dropdb when done)",
    )
    args = parser.parse_args()
    args.reuse = False
    folder = Path(tempfile.mkdtemp(prefix="bench-insight-"))
    if args.database == "sqlite":
        measure(args, f"sqlite:///{folder / 'bench.sqlite3'}", folder)
        return
    from sqlalchemy import create_engine, text

    name = args.keep or f"bench_insight_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        args.reuse = bool(
            conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        )
        if not args.reuse:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        measure(args, PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", folder)
    finally:
        from publisher import db as dbmod

        dbmod.set_engine(None)
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
