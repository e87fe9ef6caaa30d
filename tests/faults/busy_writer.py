"""A second process that writes to the database all the time, the way a busy worker does:
each transaction reads first, waits a moment, then writes (the pattern SQLite in WAL mode
refused with "database is locked" before every transaction began as a write).

    python -m tests.faults.busy_writer DATABASE_URL SECONDS READY_FILE

It writes one audit event per transaction, touches READY_FILE once it has committed its
first, and exits 0 after SECONDS, or 3 on the first database error (printed).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from publisher import audit
from publisher.db import make_engine, session_scope, set_engine
from publisher.models import AuditEvent


def main(url: str, seconds: float, ready: Path) -> int:
    set_engine(make_engine(url))
    deadline = time.monotonic() + seconds
    done = 0
    try:
        while time.monotonic() < deadline:
            with session_scope() as session:
                seen = session.scalar(select(func.count()).select_from(AuditEvent))
                time.sleep(0.02)  # hold the transaction open, as real work does
                audit.record(session, None, "test.busy", "writer", done, None, {"seen": seen})
            done += 1
            if done == 1:
                ready.touch()
    except Exception as exc:  # reported to the test through the exit code and stderr
        print(f"busy writer failed after {done} writes: {type(exc).__name__}: {exc}")
        return 3
    print(f"busy writer: {done} writes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], float(sys.argv[2]), Path(sys.argv[3])))
