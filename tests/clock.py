"""The one way tests fix or move the clock: time-machine, used the same way everywhere.

Two uses:

- ``clock`` (a fixture): ``clock.set(moment)`` fixes this process's clock at ``moment``
  (it keeps ticking from there, so timeouts still work); ``clock.move(delta)`` jumps it.
  A module whose tests are written around a fixed ``NOW`` sets it in an autouse fixture,
  so the code under test and the test agree on "today" whatever the real date is.
- ``TEST_CLOCK_SHIFT_DAYS=N`` moves every test's clock N days past the real date. The
  check that no test depends on today's date runs the tests marked ``date_sensitive``
  this way (.ci/test, a year ahead). Python processes started by a test (workers, the
  CLI) get the same shift: ``subprocess_clock_env()`` puts tests/clockshift on their
  PYTHONPATH, whose ``sitecustomize`` starts time-machine before anything else runs.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine

SITECUSTOMIZE_DIR = Path(__file__).parent / "clockshift"


def shift_days() -> int:
    raw = os.environ.get("TEST_CLOCK_SHIFT_DAYS", "").strip()
    return int(raw) if raw else 0


def subprocess_clock_env() -> dict[str, str]:
    """Environment that moves a child process's clock as far as this one's is moved."""
    days = shift_days()
    if not days:
        return {}
    path = [str(SITECUSTOMIZE_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"TEST_CLOCK_SHIFT_DAYS": str(days), "PYTHONPATH": os.pathsep.join(path)}


class Clock:
    """This process's clock for one test."""

    def __init__(self) -> None:
        self._travellers: list[time_machine.travel] = []

    def set(self, moment: dt.datetime, *, tick: bool = True) -> None:
        if moment.tzinfo is None:
            raise ValueError("give the clock an aware datetime")
        traveller = time_machine.travel(moment, tick=tick)
        traveller.start()
        self._travellers.append(traveller)

    def move(self, delta: dt.timedelta) -> None:
        self.set(dt.datetime.now(dt.UTC) + delta)

    def stop(self) -> None:
        while self._travellers:
            self._travellers.pop().stop()


@pytest.fixture()
def clock() -> Iterator[Clock]:
    c = Clock()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(autouse=True)
def _shifted_clock() -> Iterator[None]:
    """Move the whole test a set number of days ahead when TEST_CLOCK_SHIFT_DAYS is set."""
    days = shift_days()
    if not days:
        yield
        return
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=days), tick=True):
        yield
