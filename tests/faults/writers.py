"""Run ``tests.faults.busy_writer`` beside a test: a second process writing all the time."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def busy_writer(database_url: str, tmp_path: Path, seconds: float = 600) -> Iterator[None]:
    """Yields once the writer has committed; on leaving, stops it and checks that none of
    its own writes failed (a second process must be able to write too)."""
    ready = tmp_path / f"writer-ready-{time.monotonic_ns()}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.busy_writer", database_url, str(seconds), str(ready)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None, proc.communicate()[0].decode()
            assert time.monotonic() < deadline, "the busy writer never wrote"
            time.sleep(0.05)
        yield
        assert proc.poll() is None, f"the busy writer stopped early: {proc.communicate()[0]!r}"
    finally:
        if proc.poll() is None:
            proc.terminate()
        out = proc.communicate(timeout=30)[0].decode()
    assert "failed" not in out, out
