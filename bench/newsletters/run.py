"""Benchmark: a weekly edition to N subscribers through Celery workers on Redis to an
aiosmtpd sink on loopback, on SQLite and PostgreSQL, beside a baseline replaying the very
same messages through one smtplib connection per worker process to the same sink.

    .venv/bin/python bench/newsletters/run.py --sizes 10000,100000 --database sqlite,postgresql

Needs Redis on 127.0.0.1:6379 and (for postgresql) PostgreSQL on 127.0.0.1:5432.
Prints one line per phase and a summary table; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import random
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sink import SinkProcess, read_spool  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_ADMIN = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BANDS = ["0-5", "5-11", "11-16", "16-25"]
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
LOCALITIES = ["north", "south", "east", "west", "central"]
WORDS = (
    "friendly group support families children young people learning play sensory quiet "
    "session weekly term time trained staff outdoor indoor music art swimming advice help "
    "drop-in appointment referral free parents carers"
).split()


def _sample(rng: random.Random, values: list[str], weights: list[float]) -> list[str]:
    """0..len(weights)-1 distinct values, with the given chance of each count."""
    k = rng.choices(range(len(weights)), weights=weights)[0]
    return sorted(rng.sample(values, k))


def seed(n_subscribers: int, n_changes: int, rng: random.Random) -> None:
    from sqlalchemy import insert

    from publisher.changes import snapshot_of
    from publisher.db import session_scope, utcnow
    from publisher.models import (
        Change,
        ChangeKind,
        EmailFormat,
        Entry,
        Frequency,
        Source,
        SourceKind,
        Subscriber,
        SubscriberStatus,
    )
    from publisher.topics import age_bands

    now = utcnow()
    with session_scope() as session:
        source = Source(
            name="bench",
            location="https://directory.example.org",
            kind=SourceKind.FILE,
            page_url_template="https://localoffer.example.gov.uk/services/{id}",
            baseline_at=now - dt.timedelta(days=60),
        )
        session.add(source)
        session.flush()
        kinds = (
            [ChangeKind.ADDED] * 55
            + [ChangeKind.UPDATED] * 30
            + [ChangeKind.REMOVED] * 8
            + [ChangeKind.REOPENED] * 2
            + [ChangeKind.BECAME_STALE] * 5
        )
        entries: list[Entry] = []
        for i in range(n_changes):
            # Some entries change more than once in the week (they collapse into one item).
            if entries and rng.random() < 0.1:
                entry = rng.choice(entries)
                kind = ChangeKind.UPDATED
            else:
                lo = rng.choice([0, 0, 2, 5, 8, 11, 14, 16, 18])
                hi = min(25, lo + rng.choice([3, 5, 7, 10, 25]))
                entry = Entry(
                    source_id=source.id,
                    entry_id=f"svc-{i}",
                    name=f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {i}",
                    summary=" ".join(rng.choices(WORDS, k=rng.randint(20, 60))),
                    url=f"https://provider.example.org/{i}",
                    status="active",
                    minimum_age=lo,
                    maximum_age=hi,
                    age_bands=age_bands(lo, hi),
                    needs=_sample(rng, NEEDS, [30, 40, 20, 10]),
                    categories=_sample(rng, CATEGORIES, [5, 60, 30, 5]),
                    localities=_sample(rng, LOCALITIES, [30, 55, 15]),
                    paid=rng.random() < 0.15,
                    stale=rng.random() < 0.05,
                    content_hash=uuid.uuid4().hex,
                )
                session.add(entry)
                session.flush()
                entries.append(entry)
                kind = rng.choice(kinds)
            session.add(
                Change(
                    source_id=source.id,
                    entry_pk=entry.id,
                    entry_id=entry.entry_id,
                    kind=kind,
                    occurred_at=now - dt.timedelta(minutes=rng.randint(1, 6 * 24 * 60)),
                    name=entry.name,
                    changed_fields=["summary", "email"] if kind is ChangeKind.UPDATED else [],
                    notable=rng.random() > 0.2,
                    snapshot=snapshot_of(entry, source),
                )
            )
    rows = []
    with session_scope() as session:
        for i in range(n_subscribers):
            rows.append(
                {
                    "email": f"parent{i}@example.org",
                    "status": SubscriberStatus.ACTIVE,
                    "created_at": now,
                    "requested_at": now,
                    "confirmed_at": now,
                    "token_version": 1,
                    "age_bands": _sample(rng, BANDS, [30, 50, 17, 3]),
                    "needs": _sample(rng, NEEDS, [45, 35, 15, 5]),
                    "categories": _sample(rng, CATEGORIES, [50, 20, 20, 10]),
                    "localities": _sample(rng, LOCALITIES, [40, 55, 5]),
                    "frequency": Frequency.WEEKLY,
                    "format": EmailFormat.TEXT if rng.random() < 0.15 else EmailFormat.HTML,
                    "paid_opt_in": rng.random() < 0.3,
                }
            )
            if len(rows) == 5000:
                session.execute(insert(Subscriber), rows)
                rows = []
        if rows:
            session.execute(insert(Subscriber), rows)


def start_workers(count: int, env: dict[str, str]) -> list[subprocess.Popen[str]]:
    procs = []
    for i in range(count):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "publisher",
                "worker",
                "-Q",
                "newsletters",
                "--pool",
                "solo",
                "-n",
                f"bench{i}-{uuid.uuid4().hex[:6]}@%h",
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        procs.append(proc)
    for proc in procs:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "ready." in line:
                break
        # Keep draining so the worker never blocks on a full pipe.
        threading.Thread(target=lambda p=proc: [None for _ in p.stderr], daemon=True).start()
    return procs


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu() -> dict[int, float]:
    """CPU seconds of every PostgreSQL server process now (pid -> seconds)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                out[int(entry.name)] = cpu_seconds(int(entry.name))
        except OSError:
            continue
    return out


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _replay(chunk_path: str, url_port: int, barrier: Any, out: Any, index: int) -> None:
    messages = read_spool(chunk_path)
    conn = smtplib.SMTP("127.0.0.1", url_port)
    conn.ehlo()
    barrier.wait()
    start = time.perf_counter()
    for rcpt, data in messages:
        conn.sendmail("localoffer@example.gov.uk", [rcpt], data)
    out[index] = time.perf_counter() - start
    conn.quit()


def baseline(spool: str, workers: int, sink: SinkProcess, tmp: Path) -> tuple[float, int]:
    """Replay the spooled messages: one smtplib connection per process, `workers` processes."""
    import struct

    messages = read_spool(spool)
    paths = []
    for i in range(workers):
        path = tmp / f"replay-{i}.spool"
        with open(path, "wb") as fh:
            for rcpt, data in messages[i::workers]:
                r = rcpt.encode()
                fh.write(struct.pack("!II", len(r), len(data)) + r + data)
        paths.append(str(path))
    del messages
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers + 1)
    out = ctx.Array("d", workers)
    procs = [
        ctx.Process(target=_replay, args=(p, sink.port, barrier, out, i))
        for i, p in enumerate(paths)
    ]
    for p in procs:
        p.start()
    sink.reset()
    barrier.wait()
    start = time.perf_counter()
    for p in procs:
        p.join()
    return time.perf_counter() - start, sink.count


def start_profilers(procs: list[subprocess.Popen[str]], folder: str, tag: str) -> list[Any]:
    """py-spy (if installed) samples each worker while it holds the GIL (about its CPU
    time); collapsed stacks go to ``folder``."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    Path(folder).mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "--nonblocking",
                "--gil",
                "--format",
                "raw",
                "--rate",
                "200",
                "-o",
                f"{folder}/{tag}-worker{i}.txt",
                "--pid",
                str(p.pid),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i, p in enumerate(procs)
    ]


# Issue 14: a bulletin for about a third of the subscribers (16-25, north or south; with
# the spread above: those who chose no age band or no locality match too).
BULLETIN_AUDIENCE = {"age_bands": ["16-25"], "localities": ["north", "south"]}


def add_bulletin() -> float:
    """An approved bulletin with BULLETIN_AUDIENCE; returns the share it matches."""
    from sqlalchemy import select

    from publisher.bulletins.audience import reaches
    from publisher.bulletins.body import make_body
    from publisher.db import session_scope, utcnow
    from publisher.models import Bulletin, BulletinState, Subscriber
    from publisher.subscriptions.matching import Preferences

    body = make_body(
        "We want to hear about short breaks for young people.\n\n"
        "- Fill in the [survey](https://consult.example.gov.uk/short-breaks)\n"
        "- Come to a drop-in at the library"
    )
    with session_scope() as session:
        session.add(
            Bulletin(
                state=BulletinState.APPROVED,
                title="Have your say on short breaks for 16 to 25",
                body_source=body.source,
                body_html=body.html,
                body_text=body.text,
                audience=BULLETIN_AUDIENCE,
                urgent=False,
                approved_at=utcnow() - dt.timedelta(minutes=1),
            )
        )
        rows = session.execute(select(Subscriber.age_bands, Subscriber.localities)).all()
    hit = sum(
        reaches(
            Preferences(age_bands=frozenset(a or ()), localities=frozenset(loc or ())),
            BULLETIN_AUDIENCE,
            True,
        )
        for a, loc in rows
    )
    return hit / max(1, len(rows))


def run_one(
    database: str,
    n: int,
    n_changes: int,
    workers: int,
    keep: bool,
    profile: str | None = None,
    bulletin: bool = False,
    marks: str = "durable",
) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="lop-bench-"))
    prefix = f"lop-bench-{uuid.uuid4().hex[:8]}:"
    pg_name = None
    if database == "postgresql":
        from sqlalchemy import create_engine, text

        pg_name = f"lop_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
            if marks == "async":
                # How the ledger ran before issue 10.2: "sent" marks committed without
                # waiting for the WAL flush (a database crash could lose the last ones).
                conn.execute(text(f'ALTER DATABASE "{pg_name}" SET synchronous_commit = off'))
        admin.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    spool = str(tmp / "received.spool")
    sink = SinkProcess(spool).start()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PUBLISHER_DATA_DIR": str(tmp / "data"),
        "REDIS_URL": REDIS_URL,
        "CELERY_KEY_PREFIX": prefix,
        "SMTP_URL": sink.url,
        "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
        "PUBLIC_BASE_URL": "https://localoffer-news.example.gov.uk",
        "MAIL_FROM": "Example Council Local Offer <localoffer@example.gov.uk>",
    }
    env.pop("NOTIFY_API_KEY", None)
    os.environ.update(env)
    from publisher import db as dbmod
    from publisher.config import reset_settings
    from publisher.migrate import upgrade

    reset_settings()
    engine = dbmod.make_engine(url)
    dbmod.set_engine(engine)
    upgrade(engine)
    t = time.perf_counter()
    seed(n, n_changes, random.Random(42))
    print(f"[{database} {n}] seeded in {time.perf_counter() - t:.1f} s", flush=True)
    share = add_bulletin() if bulletin else 0.0
    if bulletin:
        print(f"[{database} {n}] bulletin for {100 * share:.0f}% of subscribers", flush=True)

    from celery import Celery
    from sqlalchemy import func, select

    from publisher.db import session_scope
    from publisher.models import Delivery, DeliveryStatus, Frequency
    from publisher.newsletters.building import build_edition
    from publisher.newsletters.sweeping import dispatch

    producer = Celery("bench", broker=REDIS_URL)
    producer.conf.broker_transport_options = {"global_keyprefix": prefix}

    def queue(edition_id: int, ids: list[int]) -> None:
        producer.send_task(
            "publisher.newsletters.send_batch", args=[edition_id, ids], queue="newsletters"
        )

    procs = start_workers(workers, env)
    server_before = server_cpu()
    spies = start_profilers(procs, profile, f"{database}-{n}") if profile else []
    try:
        start = time.perf_counter()
        with session_scope() as session:
            built = build_edition(session, Frequency.WEEKLY, close_now=True)
        built_at = time.perf_counter()
        assert built.edition_id is not None
        with session_scope() as session:
            batches = dispatch(session, built.edition_id, queue)
        dispatched_at = time.perf_counter()
        done = 0
        while True:
            time.sleep(0.5)
            with session_scope() as session:
                done = (
                    session.scalar(
                        select(func.count())
                        .select_from(Delivery)
                        .where(
                            Delivery.edition_id == built.edition_id,
                            Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.FAILED]),
                        )
                    )
                    or 0
                )
            if done >= built.recipients:
                break
        end = time.perf_counter()
        with session_scope() as session:
            variants = session.execute(
                select(func.count()).select_from(
                    __import__("publisher.models", fromlist=["EditionVariant"]).EditionVariant
                )
            ).scalar()
        rss = [peak_rss_mb(p.pid) for p in procs]
        worker_cpu = sum(cpu_seconds(p.pid) for p in procs)
        sink_cpu = cpu_seconds(sink.proc.pid)
        server_after = server_cpu()
        db_cpu = sum(v - server_before.get(k, 0.0) for k, v in server_after.items())
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
            spy.wait(30)
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
    received = sink.count
    sizes = Path(spool).stat().st_size / max(1, received)
    base_time, base_count = baseline(spool, workers, sink, tmp)
    sink.stop()
    dbmod.set_engine(None)
    if pg_name:
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        admin.dispose()
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)
    send_time = end - dispatched_at
    result = {
        "bulletin": f"{100 * share:.0f}%" if bulletin else "none",
        "database": database if marks == "durable" else f"{database} (marks async)",
        "subscribers": n,
        "recipients": built.recipients,
        "items": built.items,
        "variants": variants,
        "received": received,
        "batches": batches,
        "avg_kb": sizes / 1024,
        "build_s": built_at - start,
        "send_s": send_time,
        "wall_s": end - start,
        "rate_e2e": built.recipients / (end - start),
        "rate_send": built.recipients / send_time,
        "rss_mb": rss,
        "base_s": base_time,
        "base_rate": base_count / base_time,
        "worker_ms": 1000 * worker_cpu / max(1, received),
        "sink_ms": 1000 * sink_cpu / max(1, received),
        "db_ms": 1000 * db_cpu / max(1, received),
    }
    r = result
    rss_text = ", ".join(f"{x:.0f}" for x in rss)
    e2e_pct = 100 * r["rate_e2e"] / r["base_rate"]
    send_pct = 100 * r["rate_send"] / r["base_rate"]
    print(
        f"[{database} {n}] recipients {built.recipients:,} ({variants} variants, "
        f"{built.items} items, {r['avg_kb']:.1f} KB avg), received {received:,}; "
        f"build {r['build_s']:.1f} s, send {send_time:.1f} s, wall {r['wall_s']:.1f} s = "
        f"{r['rate_e2e']:.0f} msg/s (send phase {r['rate_send']:.0f} msg/s); "
        f"peak RSS per worker {rss_text} MB; baseline replay {base_count:,} in "
        f"{base_time:.1f} s = {r['base_rate']:.0f} msg/s -> end to end {e2e_pct:.0f}%, "
        f"send phase {send_pct:.0f}% of baseline; CPU per message: "
        f"workers {r['worker_ms']:.2f} ms, sink {r['sink_ms']:.2f} ms, "
        f"PostgreSQL server {r['db_ms']:.2f} ms",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="10000,100000", help="subscriber counts, comma-separated"
    )
    parser.add_argument("--database", default="sqlite,postgresql")
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (pool solo)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each database and size; the table shows the run with the median "
        "end-to-end ratio and the range (the machine's speed drifts between phases)",
    )
    parser.add_argument(
        "--marks",
        default="durable",
        help="durable (every 'sent' mark flushed before the message's final '.', as the "
        "code does) and/or async (PostgreSQL synchronous_commit off for the bench "
        "database: how it ran before, as a baseline), comma-separated; the runs alternate",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--bulletin",
        action="store_true",
        help="issue 14: run each database and size without, then with, a bulletin for "
        "about a third of the subscribers",
    )
    parser.add_argument(
        "--profile", metavar="DIR", help="sample each worker with py-spy into DIR (slows it)"
    )
    args = parser.parse_args()
    results = []
    pairs: list[str] = []
    for database in args.database.split(","):
        for size in args.sizes.split(","):
            modes = args.marks.split(",") if database == "postgresql" else ["durable"]
            cases = [(m, b) for m in modes for b in ((False, True) if args.bulletin else (False,))]
            by_case: dict[tuple[str, bool], list[dict[str, Any]]] = {c: [] for c in cases}
            for _ in range(max(1, args.repeat)):
                for mode, with_bulletin in cases:  # alternate: machine drift hits all alike
                    by_case[(mode, with_bulletin)].append(
                        run_one(
                            database,
                            int(size),
                            args.changes,
                            args.workers,
                            args.keep,
                            args.profile,
                            with_bulletin,
                            mode,
                        )
                    )
            if args.bulletin:
                pairs.extend(pair_differences(by_case, database, int(size)))
            for runs in by_case.values():
                ratios = sorted(r["rate_e2e"] / r["base_rate"] for r in runs)
                median = sorted(runs, key=lambda r: r["rate_e2e"] / r["base_rate"])[len(runs) // 2]
                median["range"] = f"{100 * ratios[0]:.0f}-{100 * ratios[-1]:.0f}%"
                median["runs"] = len(runs)
                results.append(median)
    print()
    print(
        "| bulletin | database | subscribers | recipients | wall s | msg/s end to end | "
        "send-phase msg/s | baseline msg/s | e2e / baseline | range (runs) | "
        "peak RSS per worker MB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(
            f"| {r['bulletin']} | {r['database']} | {r['subscribers']:,} | {r['recipients']:,} | {r['wall_s']:.1f} | "
            f"{r['rate_e2e']:.0f} | {r['rate_send']:.0f} | {r['base_rate']:.0f} | "
            f"{100 * r['rate_e2e'] / r['base_rate']:.0f}% | {r['range']} ({r['runs']}) | "
            f"{', '.join(f'{x:.0f}' for x in r['rss_mb'])} |"
        )
    if pairs:
        # The test is a difference of two ratios; runs in one repeat ran back to
        # back, so each repeat's pair is the fairest comparison the machine allows.
        print()
        print(
            "| database | subscribers | marks | repeat | e2e / baseline without | with | with minus without |"
        )
        print("|---|---:|---|---:|---:|---:|---:|")
        for line in pairs:
            print(line)


def pair_differences(
    by_case: dict[tuple[str, bool], list[dict[str, Any]]], database: str, size: int
) -> list[str]:
    """One table row per repeat and marks mode: the ratio to the sink's raw limit without
    the bulletin, with it, and the difference in points (negative: the bulletin cost)."""
    lines = []
    for (mode, with_bulletin), runs in by_case.items():
        if with_bulletin:
            continue
        for repeat, (plain, bulletin) in enumerate(
            zip(runs, by_case[(mode, True)], strict=True), 1
        ):
            without = 100 * plain["rate_e2e"] / plain["base_rate"]
            with_ = 100 * bulletin["rate_e2e"] / bulletin["base_rate"]
            lines.append(
                f"| {database} | {size:,} | {mode} | {repeat} | {without:.1f}% | "
                f"{with_:.1f}% | {with_ - without:+.1f} points |"
            )
    return lines


if __name__ == "__main__":
    main()
