"""How long the stale report's chart takes to compute from the change log.

Builds a directory of N entries with a realistic history in a fresh SQLite file (or
DATABASE_URL), then times ``publisher.console.stale.history`` (12 weekly points) beside a
baseline measured in the same run: reading the same change rows with no computation.

    .venv/bin/python bench/console/stale_history.py [entries] [changes_per_entry]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

from publisher import db as dbmod
from publisher.console.stale import history
from publisher.migrate import upgrade
from publisher.models import Change, ChangeKind, Entry, Source, SourceKind


def build(session, entries: int, per_entry: int) -> int:
    rng = random.Random(5)
    now = dt.datetime.now(dt.UTC)
    source = Source(name="bench", location="file:bench", kind=SourceKind.FILE)
    session.add(source)
    session.flush()
    rows = []
    for i in range(entries):
        rows.append(
            {
                "source_id": source.id,
                "entry_id": f"e{i}",
                "name": f"Entry {i}",
                "summary": "",
                "status": "active",
                "content_hash": hashlib.sha256(str(i).encode()).hexdigest(),
                "first_seen_at": now - dt.timedelta(days=200),
                "last_changed_at": now,
                "present": True,
                "stale": False,
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
                "record": {},
            }
        )
    session.execute(insert(Entry), rows)
    ids = session.scalars(select(Entry.id).order_by(Entry.id)).all()
    changes = []
    for pk in ids:
        stale = False
        present = True
        for j in range(per_entry):
            at = now - dt.timedelta(
                days=200 - (j + 1) * (190 // per_entry), minutes=rng.randint(0, 600)
            )
            kind = rng.choice([ChangeKind.UPDATED, ChangeKind.BECAME_STALE, ChangeKind.REMOVED])
            if kind is ChangeKind.BECAME_STALE:
                stale = True
            elif kind is ChangeKind.REMOVED:
                present = False
            else:
                stale, present = False, True
            changes.append(
                {
                    "source_id": source.id,
                    "entry_pk": pk,
                    "entry_id": f"e{pk}",
                    "kind": kind,
                    "occurred_at": at,
                    "name": "x",
                    "changed_fields": [],
                    "details": {},
                    "notable": True,
                    "snapshot": {"stale": stale, "present": present, "name": "x"},
                }
            )
    for start in range(0, len(changes), 5000):
        session.execute(insert(Change), changes[start : start + 5000])
    session.commit()
    return len(changes)


def main() -> None:
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    per_entry = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    with tempfile.TemporaryDirectory() as tmp:
        engine = dbmod.make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        upgrade(engine)
        dbmod.set_engine(engine)
        with dbmod.session_scope() as session:
            n_changes = build(session, entries, per_entry)
        with dbmod.session_scope() as session:
            t0 = time.perf_counter()
            rows = session.execute(
                select(Change.entry_pk, Change.occurred_at, Change.snapshot).order_by(
                    Change.entry_pk, Change.occurred_at, Change.id
                )
            ).all()
            baseline = time.perf_counter() - t0
            t0 = time.perf_counter()
            points = history(session, weeks=12)
            took = time.perf_counter() - t0
        dbmod.set_engine(None)
    print(f"entries={entries} changes={n_changes} points={len(points)}")
    print(f"baseline: read {len(rows)} change rows, no computation: {baseline * 1000:.0f} ms")
    print(f"history(weeks=12): {took * 1000:.0f} ms ({took / baseline:.1f}x baseline)")
    print(f"last point: active={points[-1].active} stale={points[-1].stale}")


if __name__ == "__main__":
    main()
