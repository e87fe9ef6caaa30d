"""Moves a test's child Python process (a worker, the CLI) as far ahead as the test.

tests/clock.py puts this folder on PYTHONPATH when TEST_CLOCK_SHIFT_DAYS is set; Python
imports ``sitecustomize`` at start-up, so the child's wall clock (time.time, datetime) is
moved with the same tool the test process uses, time-machine. Monotonic clocks and sleeps
stay real, which Celery, requests and our deadlines rely on.
"""

from __future__ import annotations

import datetime as _dt
import os as _os

_days = _os.environ.get("TEST_CLOCK_SHIFT_DAYS", "").strip()
if _days:
    import time_machine as _time_machine

    _time_machine.travel(
        _dt.datetime.now(_dt.UTC) + _dt.timedelta(days=int(_days)), tick=True
    ).start()
