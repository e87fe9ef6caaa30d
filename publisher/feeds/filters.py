"""Which changes a feed holds: a topic filter read from the query string.

A feed can be narrowed by age band, area of need, category and locality, one value
each, combined with AND (``?age=16-25&need=sensory-physical``). One value per topic
keeps the number of distinct feeds finite, so the cache of built documents cannot be
grown without bound by made-up URLs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from publisher.config import get_settings
from publisher.topics import AGE_BAND_LABELS, AGE_BAND_SLUGS, CATEGORIES, NEEDS, load_mapping

# Query parameter -> the snapshot list it is matched against.
PARAMETERS: dict[str, str] = {
    "age": "age_bands",
    "need": "needs",
    "category": "categories",
    "locality": "localities",
}
# Longest value we quote back in an error message (the rest could be anything).
_ECHO_LIMIT = 60


class FilterError(ValueError):
    """A query string we cannot turn into a feed; the message says what to send instead."""


def vocabulary() -> dict[str, dict[str, str]]:
    """Valid values for each parameter, with their labels, in display order."""
    mapping = load_mapping(get_settings().mapping_path)
    localities = {
        slug: mapping.locality_labels.get(slug, "Out of area") for slug in mapping.locality_slugs
    }
    return {
        "age": {slug: AGE_BAND_LABELS[slug] for slug in AGE_BAND_SLUGS},
        "need": dict(NEEDS),
        "category": dict(CATEGORIES),
        "locality": localities,
    }


@dataclass(frozen=True)
class FeedFilter:
    age: str | None = None
    need: str | None = None
    category: str | None = None
    locality: str | None = None

    def pairs(self) -> list[tuple[str, str]]:
        return [(name, value) for name in PARAMETERS if (value := getattr(self, name)) is not None]

    @property
    def query(self) -> str:
        """The canonical query string (parameters in a fixed order), "" for all changes."""
        return urlencode(self.pairs())

    @property
    def is_all(self) -> bool:
        return not self.pairs()

    @property
    def is_one_topic(self) -> bool:
        """All changes, or one topic: the feeds that are always built."""
        return len(self.pairs()) <= 1

    def matches(self, snapshot: Mapping[str, Any]) -> bool:
        for name, value in self.pairs():
            values = snapshot.get(PARAMETERS[name]) or []
            if value not in values:
                return False
        return True

    def describe(self, vocab: dict[str, dict[str, str]] | None = None) -> str:
        """Plain English: "Ages 16 to 25 and Sensory and physical needs"."""
        vocab = vocab or vocabulary()
        parts = [vocab[name].get(value, value) for name, value in self.pairs()]
        return " and ".join(parts) if parts else "All changes"


def _echo(value: str) -> str:
    return value if len(value) <= _ECHO_LIMIT else value[:_ECHO_LIMIT] + "..."


def parse_filter(args: Iterable[tuple[str, str]]) -> FeedFilter:
    """Read age, need, category and locality from query pairs; other names are ignored
    (feed readers and aggregators add their own, such as cache busters).

    Raises FilterError naming the valid values when a value is unknown or repeated.
    """
    vocab = vocabulary()
    chosen: dict[str, str] = {}
    for name, raw in args:
        if name not in PARAMETERS:
            continue
        value = raw.strip()
        if name in chosen:
            raise FilterError(
                f"Give only one {name} value. To follow several, use one feed for each."
            )
        if value not in vocab[name]:
            valid = ", ".join(vocab[name])
            shown = f"{_echo(value)!r}" if value else "an empty value"
            raise FilterError(f"Unknown {name}: {shown}. Valid {name} values are: {valid}.")
        chosen[name] = value
    return FeedFilter(**chosen)


def single_topic_filters() -> list[FeedFilter]:
    """All changes, and every one-topic feed: the feeds we build before anyone asks."""
    filters = [FeedFilter()]
    for name, values in vocabulary().items():
        filters.extend(FeedFilter(**{name: value}) for value in values)
    return filters


def filter_from_query(query: str) -> FeedFilter:
    from urllib.parse import parse_qsl

    return parse_filter(parse_qsl(query, keep_blank_values=True))
