"""Feeds benchmark: 20,000 change events, 200 topic feeds (x 3 formats).

Prints:
  - time to build every feed the first time, and to rebuild everything after one new
    change (several single changes, median and worst);
  - requests per second from gunicorn (the real app, 2 workers) for full 200 responses
    and for 304 responses, under wrk (or a bounded Python load generator if wrk is
    missing), beside the same feed bytes served as a static file by
    ``python -m http.server`` with the same load generator (the baseline).

Everything runs on 127.0.0.1 in a temporary directory; loops are bounded.

    .venv/bin/python bench/feeds/run.py [--postgresql] [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import email.utils
import http.client
import itertools
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

LOCALITIES = ["ashby", "barton", "brigg", "crowle", "epworth", "kirton", "scunthorpe", "winterton"]
MAPPING = "\n".join(
    f'[localities.{slug}]\nlabel = "{slug.title()}"\npostcode_districts = ["DN{i + 1}"]\n'
    for i, slug in enumerate(LOCALITIES)
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, path: str = "/", timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered on 127.0.0.1:{port}")


def seed(n_changes: int, rng: random.Random) -> None:
    from sqlalchemy import insert

    from publisher.db import get_engine, session_scope
    from publisher.models import Change, Entry
    from publisher.topics import AGE_BAND_SLUGS, CATEGORIES, NEEDS
    from tests.factories import make_source

    with session_scope() as session:
        source_id = make_source(session, "bench").id
    n_entries = n_changes // 4
    kinds = (
        ["added"] * 60
        + ["updated"] * 25
        + ["removed"] * 5
        + ["reopened"] * 3
        + ["became_stale"] * 7
    )
    engine = get_engine()
    entries = []
    for i in range(n_entries):
        entries.append(
            {
                "source_id": source_id,
                "entry_id": f"svc-{i}",
                "name": f"Service {i}",
                "summary": f"About service {i}. " * 8,
                "status": "active",
                "content_hash": f"{i:064d}",
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(entries), 1000):
            conn.execute(insert(Entry), entries[start : start + 1000])
    rows = []
    base = time.time() - n_changes * 60
    import datetime as dt

    for i in range(n_changes):
        e = rng.randrange(n_entries)
        kind = rng.choice(kinds)
        lo = rng.choice([0, 0, 3, 5, 8, 11, 14, 16, 18])
        hi = lo + rng.choice([2, 4, 7, 10])
        from publisher.topics import age_bands

        snapshot = {
            "source": "bench",
            "entry_id": f"svc-{e}",
            "name": f"Service {e}",
            "summary": f"About service {e}. " * 8,
            "page_url": f"https://localoffer.example.gov.uk/services/svc-{e}",
            "minimum_age": lo,
            "maximum_age": hi,
            "age_bands": age_bands(lo, hi),
            "needs": rng.sample(list(NEEDS), rng.randint(0, 2)),
            "categories": rng.sample(list(CATEGORIES), rng.randint(1, 2)),
            "localities": rng.sample(LOCALITIES, 1),
            "stale": kind == "became_stale" or rng.random() < 0.05,
            "present": kind != "removed",
        }
        rows.append(
            {
                "source_id": source_id,
                "entry_pk": e + 1,
                "entry_id": f"svc-{e}",
                "kind": kind,
                "occurred_at": dt.datetime.fromtimestamp(base + i * 60, dt.UTC),
                "name": snapshot["name"],
                "changed_fields": ["summary"] if kind == "updated" else [],
                "details": {},
                "notable": rng.random() < 0.8,
                "snapshot": snapshot,
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(rows), 1000):
            conn.execute(insert(Change).values(), rows[start : start + 1000])
    del AGE_BAND_SLUGS


def topic_filters(count: int) -> list:
    from publisher.feeds.filters import FeedFilter, single_topic_filters, vocabulary

    chosen = list(single_topic_filters())
    vocab = vocabulary()
    pairs = [
        ("age", "need"),
        ("age", "category"),
        ("need", "category"),
        ("age", "locality"),
        ("category", "locality"),
    ]
    for a, b in itertools.cycle(pairs):
        if len(chosen) >= count:
            break
        for va in vocab[a]:
            for vb in vocab[b]:
                flt = FeedFilter(**{a: (va,), b: (vb,)})
                if flt not in chosen and len(chosen) < count:
                    chosen.append(flt)
                    break
            if len(chosen) >= count:
                break
        if all(
            FeedFilter(**{a: (va,), b: (vb,)}) in chosen
            for a, b in pairs
            for va in vocab[a]
            for vb in vocab[b]
        ):
            break
    return chosen[:count]


def add_one_change(rng: random.Random) -> None:
    from publisher.db import session_scope
    from publisher.models import Entry, Source
    from tests.factories import make_entry, record_change

    with session_scope() as session:
        source = session.query(Source).filter_by(name="bench").one()
        n = session.query(Entry).count()
        entry = make_entry(
            session,
            source,
            f"new-{n}",
            f"New service {n}",
            minimum_age=rng.choice([0, 5, 11, 16]),
            maximum_age=rng.choice([18, 25]),
            needs=[rng.choice(["sensory-physical", "cognition-learning"])],
            categories=[rng.choice(["leisure", "health", "education"])],
            localities=[rng.choice(LOCALITIES)],
        )
        record_change(session, entry, "added")


def load(
    url_host: int, path: str, headers: dict[str, str], seconds: float, connections: int
) -> tuple[float, dict[int, int]]:
    """Requests per second and status counts, with wrk when installed."""
    if shutil.which("wrk"):
        cmd = ["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency"]
        for k, v in headers.items():
            cmd += ["-H", f"{k}: {v}"]
        cmd.append(f"http://127.0.0.1:{url_host}{path}")
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=seconds + 60, check=True
        ).stdout
        found = re.search(r"Requests/sec:\s+([\d.]+)", out)
        assert found is not None, out
        rps = float(found.group(1))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errors = re.search(r"Socket errors: (.*)", out)
        counts = {0: int(non2xx.group(1)) if non2xx else 0}
        if errors:
            print(f"    wrk socket errors: {errors.group(1)}")
        return rps, counts
    return _python_load(url_host, path, headers, seconds, connections)


def _python_load(
    port: int, path: str, headers: dict[str, str], seconds: float, connections: int
) -> tuple[float, dict[int, int]]:
    counts: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        local: dict[int, int] = {}
        while time.monotonic() < stop:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                local[resp.status] = local.get(resp.status, 0) + 1
            except OSError:
                local[-1] = local.get(-1, 0) + 1
            finally:
                conn.close()
        with lock:
            for k, v in local.items():
                counts[k] = counts.get(k, 0) + v

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts.values()) / (time.monotonic() - start), counts


def check_status(port: int, path: str, headers: dict[str, str], expected: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    if resp.status != expected:
        raise RuntimeError(f"{path} with {headers} answered {resp.status}, expected {expected}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgresql",
        nargs="?",
        const="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        default="",
        metavar="ADMIN_URL",
        help="run on PostgreSQL, in a database of its own made (and dropped) through ADMIN_URL",
    )
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each load run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rebuilds", type=int, default=5, help="single-change rebuilds to time")
    parser.add_argument("--rounds", type=int, default=3, help="load runs per case")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-feeds-"))
    database_url = f"sqlite:///{work / 'bench.sqlite3'}"
    pg_name = ""
    if args.postgresql:
        from sqlalchemy import create_engine, text

        pg_name = f"bench_feeds_{os.getpid()}"
        admin = create_engine(args.postgresql, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        database_url = args.postgresql.rsplit("/", 1)[0] + f"/{pg_name}"
    (work / "mapping.toml").write_text(MAPPING)
    env = {
        "PUBLISHER_DATA_DIR": str(work),
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        "TOPIC_MAPPING": str(work / "mapping.toml"),
        "SECRET_KEY": "bench-only-not-secret-0123456789abcdef0123",
        "WEBSUB_HUB_URL": "",
        "COUNCIL_CONTACT_EMAIL": "bench@example.org",
    }
    os.environ.update(env)
    from publisher.config import reset_settings

    reset_settings()
    from publisher.db import get_engine, session_scope
    from publisher.feeds.service import rebuild_feeds
    from publisher.feeds.store import rebuild_all
    from publisher.migrate import upgrade
    from publisher.models import FeedDocument

    rng = random.Random(4)
    engine = get_engine()
    upgrade(engine)
    t = time.perf_counter()
    seed(args.changes, rng)
    took = time.perf_counter() - t
    print(f"database: {engine.dialect.name}; seeded {args.changes} changes in {took:.1f} s")

    filters = topic_filters(args.feeds)
    t = time.perf_counter()
    with session_scope() as session:  # every one-topic feed, and the 200 asked-for feeds
        rebuild_all(session, also=filters)
    first = time.perf_counter() - t
    with session_scope() as session:
        docs = session.query(FeedDocument).count()
    print(
        f"topic feeds: {len(filters)} ({docs} documents in 3 formats); first build: {first:.2f} s"
    )

    timings = []
    rewritten = []
    for _ in range(args.rebuilds):
        add_one_change(rng)
        t = time.perf_counter()
        result = rebuild_feeds()
        timings.append(time.perf_counter() - t)
        rewritten.append(len(result.rewritten))
    t = time.perf_counter()
    rebuild_feeds()
    idle = time.perf_counter() - t
    print(
        f"rebuild all feeds after one new change: median {statistics.median(timings):.3f} s, "
        f"worst {max(timings):.3f} s over {len(timings)} changes "
        f"(documents rewritten each time: {rewritten}; target < 2 s)"
    )
    print(f"rebuild with nothing new (the beat catch-up when idle): {idle:.3f} s")

    # Serving: the all-changes Atom feed.
    with session_scope() as session:
        doc = session.get(FeedDocument, "atom:")
        assert doc is not None
        body, etag, modified = doc.body, doc.etag, doc.last_modified
    static_dir = work / "static"
    static_dir.mkdir()
    (static_dir / "changes.atom").write_bytes(body)
    stamp = email.utils.format_datetime(modified, usegmt=True)
    os.utime(static_dir / "changes.atom", (modified.timestamp(), modified.timestamp()))
    print(f"feed served: /feeds/changes.atom, {len(body)} bytes, ETag {etag}")

    app_port, static_port = free_port(), free_port()
    gunicorn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{app_port}",
            "--log-level",
            "warning",
            "publisher.web:create_app()",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,
    )
    static = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(static_port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(static_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(app_port, "/feeds/changes.atom")
        wait_for(static_port, "/changes.atom")
        app_path, static_path = "/feeds/changes.atom", "/changes.atom"
        check_status(app_port, app_path, {"If-None-Match": etag}, 304)
        check_status(static_port, static_path, {"If-Modified-Since": stamp}, 304)
        tool = "wrk" if shutil.which("wrk") else "python load generator"
        print(
            f"load: {tool}, {args.connections} connections, {args.seconds:.0f} s per run, "
            f"{args.rounds} rounds, loopback; gunicorn sync workers: {args.workers}"
        )
        runs = [
            ("gunicorn app, 200 full", app_port, app_path, {}),
            ("static server, 200 full", static_port, static_path, {}),
            ("gunicorn app, 304 (If-None-Match)", app_port, app_path, {"If-None-Match": etag}),
            (
                "gunicorn app, 304 (If-Modified-Since)",
                app_port,
                app_path,
                {"If-Modified-Since": stamp},
            ),
            (
                "static server, 304 (If-Modified-Since)",
                static_port,
                static_path,
                {"If-Modified-Since": stamp},
            ),
        ]
        # Rounds alternate app and baseline, and medians are reported: other work on the
        # machine then weighs on both sides alike.
        rates: dict[str, list[float]] = {label: [] for label, *_ in runs}
        for _ in range(args.rounds):
            for label, port, path, headers in runs:
                rps, counts = load(port, path, headers, args.seconds, args.connections)
                rates[label].append(rps)
                if counts.get(0) or counts.get(-1):
                    print(f"    {label}: unexpected responses {counts}")
        for label, values in rates.items():
            shown = ", ".join(f"{v:.0f}" for v in values)
            print(f"  {label:40s} median {statistics.median(values):7.0f} req/s  ({shown})")
        app_304 = statistics.median(rates["gunicorn app, 304 (If-None-Match)"])
        static_304 = statistics.median(rates["static server, 304 (If-Modified-Since)"])
        print(f"304 rate, app / static server: {app_304 / static_304:.2f} (target >= 0.5)")
    finally:
        for proc in (gunicorn, static):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        if pg_name:
            from sqlalchemy import create_engine, text

            from publisher.db import set_engine

            set_engine(None)
            admin = create_engine(args.postgresql, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
