"""The fast matcher (bit sets per preference value) agrees with the definition,
``publisher.subscriptions.matching.matches``, on random items and preferences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.newsletters.targeting import ItemIndex, indexes
from publisher.subscriptions.matching import Preferences, matches

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive

BANDS = ["0-5", "5-11", "11-16", "16-25"]
NEEDS = ["communication-interaction", "cognition-learning", "sensory-physical"]
CATS = ["education", "health", "leisure", "preparing-for-adulthood"]
PLACES = ["north", "south", "out-of-area"]


def subset(values: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), unique=True, max_size=len(values))


items = st.fixed_dictionaries(
    {
        "age_bands": subset(BANDS),
        "needs": subset(NEEDS),
        "categories": subset(CATS),
        "localities": subset(PLACES),
        "paid": st.booleans(),
        "stale": st.booleans(),
    }
)
prefs = st.builds(
    Preferences,
    age_bands=subset(BANDS).map(frozenset),
    needs=subset(NEEDS).map(frozenset),
    categories=subset(CATS).map(frozenset),
    localities=subset(PLACES).map(frozenset),
    paid_opt_in=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(items, max_size=40), st.lists(prefs, min_size=1, max_size=10))
def test_bit_sets_agree_with_matches(
    edition_items: list[dict[str, object]], people: list[Preferences]
) -> None:
    index = ItemIndex(edition_items)
    for person in people:
        expected = tuple(i for i, item in enumerate(edition_items) if matches(person, item))
        assert indexes(index.select(person)) == expected
