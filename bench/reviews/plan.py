"""How long planning review requests takes, and its peak memory (issue 9, point 9).

Builds a directory of 20,000 entries from 4,000 providers (most stale; ORUK-shaped raw
records of about 1.5 KB; half the providers give an email on each entry, a third only on
their organisation, the rest none) with 2,000 open reviews due a reminder, in a fresh
SQLite file (or the database named by --database-url). Then, each in a fresh process so
that its peak RSS is its own:

- *baseline*: read the same entry rows the planner reads (ids, names, dates, emails and
  the raw records), streamed, doing nothing with them;
- *plan*: ``publisher.reviews.plan.plan`` with no daily cap (every address planned).

    .venv/bin/python bench/reviews/plan.py [--entries 20000] [--providers 4000]
    .venv/bin/python bench/reviews/plan.py --database-url postgresql+psycopg://postgres@127.0.0.1/x
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from publisher import db as dbmod  # noqa: E402
from publisher.migrate import upgrade  # noqa: E402
from publisher.models import (  # noqa: E402
    Entry,
    MailKind,
    MailStatus,
    Review,
    ReviewMail,
    Source,
    SourceKind,
)


def record(rng: random.Random, i: int, provider: int, kind: str) -> dict[str, object]:
    org: dict[str, object] = {"id": f"org-{provider}", "name": f"Provider {provider}"}
    if kind == "org":
        org["email"] = f"office{provider}@org.example"
    return {
        "id": f"e{i}",
        "name": f"Service {i}",
        "description": "<p>" + " ".join(rng.choice(WORDS) for _ in range(120)) + "</p>",
        "status": "active",
        "organization": org,
        "contacts": [{"name": "Front desk", "phones": [{"number": "0117 000 0000"}]}],
        "regular_schedules": [{"weekday": "Monday", "opens_at": "09:00", "closes_at": "17:00"}],
    }


WORDS = "play group help speech sensory support family club swim art music autism".split()


def build(url: str, entries: int, providers: int) -> None:
    engine = dbmod.make_engine(url)
    upgrade(engine)
    dbmod.set_engine(engine)
    rng = random.Random(9)
    today = dt.date.today()
    now = dt.datetime.now(dt.UTC)
    with dbmod.session_scope() as session:
        source = Source(name="bench", location="file:bench", kind=SourceKind.FILE)
        session.add(source)
        session.flush()
        rows = []
        for i in range(entries):
            provider = i % providers
            kind = ("own", "own", "org", "none")[provider % 4] if provider % 6 else "org"
            assured = today - dt.timedelta(days=rng.randrange(200, 900))
            rows.append(
                {
                    "source_id": source.id,
                    "entry_id": f"e{i}",
                    "name": f"Service {i}",
                    "summary": "",
                    "status": "active",
                    "email": f"team{provider}@provider.example" if kind == "own" else None,
                    "assured_date": assured,
                    "content_hash": hashlib.sha256(str(i).encode()).hexdigest(),
                    "first_seen_at": now,
                    "last_changed_at": now,
                    "present": True,
                    "stale": (today - assured).days > 365,
                    "missing_crawls": 0,
                    "paid": False,
                    "addresses": [],
                    "postcodes": [],
                    "service_areas": [],
                    "costs": [],
                    "taxonomy_terms": [],
                    "age_bands": [],
                    "needs": [],
                    "categories": [],
                    "localities": [],
                    "record": record(rng, i, provider, kind),
                }
            )
            if len(rows) == 2000:
                session.execute(insert(Entry), rows)
                rows = []
        if rows:
            session.execute(insert(Entry), rows)
        # 2,000 open reviews whose request went 15 days ago: each due its first reminder.
        pks = session.scalars(
            select(Entry.id).where(Entry.email.is_not(None)).order_by(Entry.id).limit(2000)
        ).all()
        sent = now - dt.timedelta(days=15)
        emails = {
            row.id: row.email
            for row in session.execute(select(Entry.id, Entry.email).where(Entry.id.in_(pks)))
        }
        session.execute(
            insert(Review),
            [
                {
                    "entry_pk": pk,
                    "source_id": source.id,
                    "entry_id": f"x{pk}",
                    "address": emails[pk],
                    "status": "open",
                    "hash_at_open": "",
                    "opened_at": sent,
                    "first_sent_at": sent,
                    "reply": "none",
                    "reply_fields": {},
                    "directory_fields": {},
                    "reply_note": "",
                }
                for pk in pks
            ],
        )
        review_ids = session.scalars(select(Review.id)).all()
        session.execute(
            insert(ReviewMail),
            [
                {
                    "review_id": rid,
                    "address": "x",
                    "kind": MailKind.REQUEST,
                    "status": MailStatus.SENT,
                    "created_at": sent,
                    "sent_at": sent,
                    "attempts": 1,
                }
                for rid in review_ids
            ],
        )
    dbmod.set_engine(None)
    engine.dispose()


def phase(url: str, which: str) -> None:
    dbmod.set_engine(dbmod.make_engine(url))
    t0 = time.perf_counter()
    with dbmod.session_scope() as session:
        if which == "baseline":
            t = Entry.__table__.c
            n = 0
            for _row in session.connection().execute(
                select(t.id, t.source_id, t.entry_id, t.name, t.assured_date, t.email, t.record)
                .where(t.present.is_(True))
                .order_by(t.id)
                .execution_options(yield_per=2000)
            ):
                n += 1
            detail = f"{n} entry rows read"
        else:
            from publisher.reviews.plan import plan

            result = plan(session, ignore_limit=True)
            reminders = sum(1 for m in result.mails for e in m.entries if e.review_id)
            detail = (
                f"{len(result.mails)} addresses, {result.entry_count} entries "
                f"({reminders} reminders), {len(result.unreachable)} without an address"
            )
    took = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"phase": which, "seconds": took, "peak_mb": peak, "detail": detail}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--providers", type=int, default=4_000)
    parser.add_argument("--database-url")
    parser.add_argument("--phase", choices=["baseline", "plan"])
    args = parser.parse_args()
    if args.phase:
        phase(args.database_url, args.phase)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        t0 = time.perf_counter()
        build(url, args.entries, args.providers)
        print(
            f"built {args.entries} entries from {args.providers} providers "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        for which in ("baseline", "plan", "baseline", "plan"):
            out = subprocess.run(
                [sys.executable, __file__, "--phase", which, "--database-url", url],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            print(
                f"{which:9s} {figures['seconds']:7.2f} s  peak RSS {figures['peak_mb']:6.1f} MB"
                f"  {figures['detail']}"
            )


if __name__ == "__main__":
    main()
