"""The small-number rule: any count under 10 is shown as "fewer than 10", in pages and
exports alike, so that nobody can be picked out from a count of people (ONS and NHS
statistical disclosure practice uses the same threshold).

A total beside a hidden part would give the part away by subtraction, so a total is
shown only when none of its parts is hidden.
"""

from __future__ import annotations

from collections.abc import Iterable

SMALL = 10
FEWER = "fewer than 10"
HIDDEN_TOTAL = "not shown"


def shown(count: int) -> str:
    """A count as people read it: "fewer than 10", or the number with thousands commas."""
    return FEWER if count < SMALL else f"{count:,}"


def total(parts: Iterable[int]) -> str:
    values = list(parts)
    if any(v < SMALL for v in values):
        return HIDDEN_TOTAL
    return shown(sum(values))


def for_chart(count: int) -> int:
    """Charts draw hidden counts as nothing (a bar's height would tell the number)."""
    return 0 if count < SMALL else count
