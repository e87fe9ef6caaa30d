"""Which of an edition's items each set of preferences gets, fast.

``publisher.subscriptions.matching.matches`` is the definition. Calling it for every
(distinct preferences, item) pair costs seconds at 100,000 subscribers and 500 items, so
we ask it once per (preference value, item) instead and keep the answers as bit sets (one
Python int per value, bit i = item i). The rules make this exact: within a preference any
chosen value matches (a union), across preferences all must match (an intersection), an
empty preference matches everything, and stale and paid items are decided by the base
set. tests/newsletters/test_targeting.py checks it against ``matches`` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from publisher.newsletters.items import needs_note_applies
from publisher.subscriptions.matching import DIMENSIONS, Preferences, matches


def _mask(items: Sequence[Mapping[str, Any]], test: Callable[[Mapping[str, Any]], bool]) -> int:
    """The items that pass ``test``, as bits by position."""
    bits = 0
    for i, item in enumerate(items):
        if test(item):
            bits |= 1 << i
    return bits


class ItemIndex:
    def __init__(self, items: Sequence[Mapping[str, Any]]) -> None:
        self.items = items
        self.base_without_paid = self._bits(Preferences())
        self.base_with_paid = self._bits(Preferences(paid_opt_in=True))
        self._values: dict[tuple[str, str], int] = {}
        # "You said, we did" items go to those who asked for them, whatever their topics.
        self.you_said_we_did = _mask(items, lambda item: item.get("optin") == "you_said_we_did")
        # Items that never make an email on their own ("Did you know?", issue 14) are
        # left out of ``counted``.
        self.counted = _mask(items, lambda item: not item.get("extra"))
        # Services that name no need: a reader who chose a need is told why they are there.
        self.untagged = _mask(items, needs_note_applies)
        # Followed services (issue 14): bits by item key, never for stale items.
        self._keys: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.get("key") is not None and not item.get("stale"):
                self._keys[str(item["key"])] = self._keys.get(str(item["key"]), 0) | 1 << i

    def _bits(self, prefs: Preferences) -> int:
        return _mask(self.items, lambda item: matches(prefs, item))

    def _value_bits(self, dimension: str, value: str) -> int:
        key = (dimension, value)
        found = self._values.get(key)
        if found is None:
            one: dict[str, Any] = {dimension: frozenset({value})}
            found = self._bits(Preferences(paid_opt_in=True, **one))
            self._values[key] = found
        return found

    def select(self, prefs: Preferences) -> int:
        """Bit set of the items ``prefs`` gets."""
        followed = 0
        for key in prefs.follows:
            followed |= self._keys.get(key, 0)
        if not prefs.topic_news:
            return followed
        asked = self.you_said_we_did if prefs.you_said_we_did else 0
        return self._topic_bits(prefs) | followed | asked

    def needs_note(self, prefs: Preferences, bits: int) -> bool:
        """Whether the email of ``prefs`` with items ``bits`` explains the items that name
        no need: only to a reader who chose a need, and only if there is such an item (so
        a reader whose items all name a need shares the email of one who chose none)."""
        return bool(prefs.needs) and bool(bits & self.untagged)

    def _topic_bits(self, prefs: Preferences) -> int:
        bits = self.base_with_paid if prefs.paid_opt_in else self.base_without_paid
        for dimension in DIMENSIONS:
            wanted = getattr(prefs, dimension)
            if not wanted:
                continue
            union = 0
            for value in wanted:
                union |= self._value_bits(dimension, value)
            bits &= union
            if not bits:
                break
        return bits


def indexes(bits: int) -> tuple[int, ...]:
    out = []
    i = 0
    while bits:
        if bits & 1:
            out.append(i)
        bits >>= 1
        i += 1
    return tuple(out)
