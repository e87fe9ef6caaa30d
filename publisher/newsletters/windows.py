"""Where an edition's window ends, and the window in words: each frequency's rule from
``publisher.newsletters.frequencies``, by frequency.

Windows are contiguous: each edition starts where the previous one of its frequency
ended (see building.py); these functions only say where a window ends.
"""

from __future__ import annotations

import datetime as dt

from publisher.config import EditionSettings
from publisher.models import Frequency
from publisher.newsletters.frequencies import frequency_rule
from publisher.uk_time import LONDON

__all__ = ["LONDON", "describe", "latest_close", "previous_close"]


def latest_close(frequency: Frequency, now: dt.datetime, settings: EditionSettings) -> dt.datetime:
    """The most recent scheduled close at or before ``now`` (UTC in, UTC out)."""
    return frequency_rule(frequency).latest_close(now, settings)


def previous_close(
    frequency: Frequency, close: dt.datetime, settings: EditionSettings
) -> dt.datetime:
    """The scheduled close one period before ``close`` (for a frequency's first edition)."""
    return frequency_rule(frequency).previous_close(close, settings)


def describe(frequency: Frequency, start: dt.datetime, end: dt.datetime) -> str:
    """A window in words, local time: "7 to 14 November 2026"."""
    return frequency_rule(frequency).describe(start, end)
