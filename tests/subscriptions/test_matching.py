"""The matching rules the edition builder relies on."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher.models import Subscriber
from publisher.subscriptions.matching import Preferences, matches, matching
from publisher.topics import AGE_BAND_SLUGS, CATEGORIES, NEEDS

# Editions, windows, staleness or tokens: also run a year ahead (tests/clock.py).
pytestmark = pytest.mark.date_sensitive


def snap(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Swim club",
        "age_bands": ["5-11"],
        "needs": ["sensory-physical"],
        "categories": ["leisure"],
        "localities": ["north"],
        "paid": False,
        "stale": False,
    }
    base.update(kw)
    return base


def prefs(**kw: Any) -> Preferences:
    fields: dict[str, Any] = {k: frozenset(v) if isinstance(v, list) else v for k, v in kw.items()}
    return Preferences(**fields)


def test_empty_preferences_match_everything_that_is_not_stale_or_paid():
    assert matches(prefs(), snap())
    assert not matches(prefs(), snap(stale=True))
    assert not matches(prefs(), snap(paid=True))


def test_any_value_within_one_preference_matches():
    assert matches(prefs(age_bands=["0-5", "5-11"]), snap())
    assert not matches(prefs(age_bands=["0-5", "16-25"]), snap())


def test_every_chosen_preference_must_match():
    both = prefs(age_bands=["5-11"], categories=["leisure"])
    assert matches(both, snap())
    assert not matches(both, snap(categories=["health"]))
    assert not matches(prefs(age_bands=["5-11"], needs=["cognition-learning"]), snap())


def test_paid_items_only_for_those_who_opted_in():
    assert matches(prefs(paid_opt_in=True), snap(paid=True))
    assert not matches(prefs(paid_opt_in=False), snap(paid=True))


def test_stale_never_matches_even_for_everything():
    assert not matches(prefs(paid_opt_in=True), snap(stale=True))


def test_entry_without_locality_or_need_reaches_those_who_chose_one():
    # Countywide or online services name no locality; general services name no need.
    assert matches(prefs(localities=["north"]), snap(localities=[]))
    assert matches(prefs(needs=["cognition-learning"]), snap(needs=[]))
    # But an entry with no category is not "health" news.
    assert not matches(prefs(categories=["health"]), snap(categories=[]))


def test_subscriber_rows_work_directly_and_as_hashable_preferences():
    row = Subscriber(age_bands=["16-25"], needs=[], categories=[], localities=[], paid_opt_in=False)
    assert not matches(row, snap())
    assert matches(row, snap(age_bands=["11-16", "16-25"]))
    assert Preferences.of(row) == prefs(age_bands=["16-25"])
    assert hash(Preferences.of(row)) == hash(prefs(age_bands=["16-25"]))
    assert [
        s["name"] for s in matching(row, [snap(name="a"), snap(name="b", age_bands=["16-25"])])
    ] == ["b"]


lists = lambda values: st.lists(st.sampled_from(values), unique=True, max_size=3)  # noqa: E731


@given(
    bands=lists(AGE_BAND_SLUGS),
    needs=lists(list(NEEDS)),
    cats=lists(list(CATEGORIES)),
    entry_bands=lists(AGE_BAND_SLUGS),
    entry_needs=lists(list(NEEDS)),
    entry_cats=lists(list(CATEGORIES)),
    paid=st.booleans(),
    opted=st.booleans(),
    stale=st.booleans(),
)
def test_rules_hold_for_any_combination(
    bands, needs, cats, entry_bands, entry_needs, entry_cats, paid, opted, stale
):
    p = prefs(age_bands=bands, needs=needs, categories=cats, paid_opt_in=opted)
    s = snap(
        age_bands=entry_bands,
        needs=entry_needs,
        categories=entry_cats,
        paid=paid,
        stale=stale,
        localities=[],
    )

    def dim(chosen: list[str], offered: list[str], empty_means_all: bool) -> bool:
        if not chosen:
            return True
        if not offered:
            return empty_means_all
        return bool(set(chosen) & set(offered))

    expected = (
        not stale
        and (opted or not paid)
        and dim(bands, entry_bands, True)
        and dim(needs, entry_needs, True)
        and dim(cats, entry_cats, False)
    )
    assert matches(p, s) is expected
