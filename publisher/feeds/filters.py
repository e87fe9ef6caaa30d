"""Which changes a feed holds: a topic filter read from the query string.

A feed can be narrowed by age band, area of need, category and locality. A topic may be
given several times: its values are alternatives (``?age=0-5&age=5-11`` is "ages 0 to 5
or 5 to 11"), and different topics must all match (``&need=sensory-physical``), the
rule emails use (``publisher.subscriptions.matching.topics_match``, which this reuses).
The canonical query lists topics in a fixed order and values in vocabulary order, so
the same choices in any order are one feed (one stored document, one ETag). At most
``MAX_VALUES`` values in all keeps the number of feeds, and their addresses, bounded;
combinations nobody reads are dropped by the rebuild (``FEED_UNUSED_DAYS``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from publisher.config import get_settings
from publisher.subscriptions.matching import topics_match
from publisher.topics import AGE_BAND_LABELS, AGE_BAND_SLUGS, CATEGORIES, NEEDS, load_mapping

# Query parameter -> the snapshot list it is matched against.
PARAMETERS: dict[str, str] = {
    "age": "age_bands",
    "need": "needs",
    "category": "categories",
    "locality": "localities",
}
# Values in all topics together. Enough for any real family's choices (every age band
# and need at once is 8); the stored query (FeedDocument.query) holds 490 characters.
MAX_VALUES = 12
_QUERY_LIMIT = 490
# Longest value we quote back in an error message (the rest could be anything).
_ECHO_LIMIT = 60
# Display order of the fixed vocabularies; localities (from the mapping) sort by name.
_ORDER: dict[str, dict[str, int]] = {
    "age": {slug: i for i, slug in enumerate(AGE_BAND_SLUGS)},
    "need": {slug: i for i, slug in enumerate(NEEDS)},
    "category": {slug: i for i, slug in enumerate(CATEGORIES)},
    "locality": {},
}

Values = tuple[str, ...]


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


def _canonical(name: str, raw: str | Iterable[str] | None) -> Values:
    values = (raw,) if isinstance(raw, str) else tuple(raw or ())
    order = _ORDER[name]
    return tuple(sorted(set(values), key=lambda v: (order.get(v, len(order)), v)))


@dataclass(frozen=True)
class FeedFilter:
    """Chosen values per topic; an empty tuple means "any". Values are kept in canonical
    order without repeats, however they were given, so equal choices are equal filters."""

    age: Values = ()
    need: Values = ()
    category: Values = ()
    locality: Values = ()

    def __post_init__(self) -> None:
        for name in PARAMETERS:
            object.__setattr__(self, name, _canonical(name, getattr(self, name)))

    def chosen(self, name: str) -> Values:
        values: Values = getattr(self, name)
        return values

    def pairs(self) -> list[tuple[str, str]]:
        return [(name, value) for name in PARAMETERS for value in self.chosen(name)]

    @property
    def query(self) -> str:
        """The canonical query string (parameters in a fixed order), "" for all changes."""
        return urlencode(self.pairs())

    @property
    def is_all(self) -> bool:
        return not self.pairs()

    @property
    def is_one_topic(self) -> bool:
        """All changes, or one value of one topic: the feeds that are always built."""
        return len(self.pairs()) <= 1

    def matches(self, snapshot: Mapping[str, Any]) -> bool:
        return topics_match({PARAMETERS[n]: self.chosen(n) for n in PARAMETERS}, snapshot)

    def describe(self, vocab: dict[str, dict[str, str]] | None = None) -> str:
        """Plain English: "Ages 16 to 25 and Sensory and physical needs", or with several
        values of a topic "Ages 0 to 5 or Ages 5 to 11, and Sensory and physical needs"."""
        vocab = vocab or vocabulary()
        parts = [
            " or ".join(vocab[name].get(value, value) for value in values)
            for name in PARAMETERS
            if (values := self.chosen(name))
        ]
        several = any(len(self.chosen(name)) > 1 for name in PARAMETERS)
        return (", and " if several else " and ").join(parts) if parts else "All changes"


def _echo(value: str) -> str:
    return value if len(value) <= _ECHO_LIMIT else value[:_ECHO_LIMIT] + "..."


def parse_filter(args: Iterable[tuple[str, str]]) -> FeedFilter:
    """Read age, need, category and locality from query pairs; other names are ignored
    (feed readers and aggregators add their own, such as cache busters). A name given
    more than once adds alternatives; a value given twice counts once.

    Raises FilterError naming the valid values when a value is unknown, and when there
    are more than MAX_VALUES values in all.
    """
    vocab = vocabulary()
    chosen: dict[str, set[str]] = {name: set() for name in PARAMETERS}
    for name, raw in args:
        if name not in PARAMETERS:
            continue
        value = raw.strip()
        if value not in vocab[name]:
            valid = ", ".join(vocab[name])
            shown = f"{_echo(value)!r}" if value else "an empty value"
            raise FilterError(f"Unknown {name}: {shown}. Valid {name} values are: {valid}.")
        chosen[name].add(value)
        if sum(map(len, chosen.values())) > MAX_VALUES:
            raise FilterError(
                f"Too many choices: give at most {MAX_VALUES} values in all. "
                "To follow more, use more than one feed."
            )
    flt = FeedFilter(**{name: tuple(values) for name, values in chosen.items()})
    if len(flt.query) > _QUERY_LIMIT:  # long locality names: the address would not fit
        raise FilterError("Too many choices: choose fewer areas, or use more than one feed.")
    return flt


def single_topic_filters() -> list[FeedFilter]:
    """All changes, and every one-topic feed: the feeds we build before anyone asks."""
    filters = [FeedFilter()]
    for name, values in vocabulary().items():
        filters.extend(FeedFilter(**{name: (value,)}) for value in values)
    return filters


def filter_from_query(query: str) -> FeedFilter:
    from urllib.parse import parse_qsl

    return parse_filter(parse_qsl(query, keep_blank_values=True))
