"""Topic filters from query strings, and which changes are news."""

from __future__ import annotations

import pytest

from publisher.feeds.filters import (
    MAX_VALUES,
    FeedFilter,
    FilterError,
    parse_filter,
    single_topic_filters,
)
from publisher.feeds.items import is_published, summary_for, title_for
from publisher.models import ChangeKind
from publisher.topics import AGE_BAND_SLUGS, CATEGORIES, NEEDS


def test_filters_combine_and_have_one_canonical_query(feed_env):
    flt = parse_filter([("need", "sensory-physical"), ("age", "16-25"), ("utm_source", "x")])
    assert flt == FeedFilter(age=("16-25",), need=("sensory-physical",))
    assert flt.query == "age=16-25&need=sensory-physical"
    assert flt.matches({"age_bands": ["11-16", "16-25"], "needs": ["sensory-physical"]})
    assert not flt.matches({"age_bands": ["16-25"], "needs": ["cognition-learning"]})
    assert not flt.matches({"age_bands": ["0-5"], "needs": ["sensory-physical"]})
    assert parse_filter([]).is_all


def test_several_values_of_a_topic_are_alternatives(feed_env):
    flt = parse_filter([("age", "0-5"), ("age", "5-11"), ("need", "sensory-physical")])
    assert flt.matches({"age_bands": ["0-5"], "needs": ["sensory-physical"]})
    assert flt.matches({"age_bands": ["5-11"], "needs": ["sensory-physical"]})
    assert not flt.matches({"age_bands": ["11-16"], "needs": ["sensory-physical"]})
    # Across topics all must still match.
    assert not flt.matches({"age_bands": ["0-5"], "needs": ["cognition-learning"]})
    assert flt.describe() == "Ages 0 to 5 or Ages 5 to 11, and Sensory and physical needs"
    assert not flt.is_one_topic


def test_topics_match_as_emails_do(feed_env):
    """One rule for feeds and emails: an entry that names no age, need or area is open
    to all of them; one that names no category is not in a category's feed."""
    from publisher.subscriptions.matching import Preferences, matches

    flt = parse_filter([("age", "0-5"), ("need", "sensory-physical"), ("category", "leisure")])
    prefs = Preferences(
        age_bands=frozenset({"0-5"}),
        needs=frozenset({"sensory-physical"}),
        categories=frozenset({"leisure"}),
    )
    snapshots = [
        {"age_bands": ["0-5"], "needs": [], "categories": ["leisure"], "localities": []},
        {"age_bands": [], "needs": ["sensory-physical"], "categories": ["leisure"]},
        {"age_bands": ["0-5"], "needs": ["sensory-physical"], "categories": []},
        {"age_bands": ["5-11"], "needs": [], "categories": ["leisure"]},
    ]
    assert [flt.matches(s) for s in snapshots] == [True, True, False, False]
    assert [flt.matches(s) for s in snapshots] == [matches(prefs, s) for s in snapshots]


def test_the_canonical_query_does_not_depend_on_order(feed_env):
    given = [("need", "sensory-physical"), ("age", "5-11"), ("age", "0-5"), ("age", "0-5")]
    flt = parse_filter(given)
    assert flt.query == "age=0-5&age=5-11&need=sensory-physical"
    assert parse_filter(reversed(given)) == flt
    assert parse_filter(reversed(given)).query == flt.query
    # Ages in their own order (0-5 before 16-25), not in the order of the letters.
    assert parse_filter([("age", "16-25"), ("age", "5-11")]).query == "age=5-11&age=16-25"
    assert FeedFilter(age=("5-11", "0-5")) == FeedFilter(age=("0-5", "5-11"))


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("age", "12-14")], "Valid age values are: 0-5, 5-11, 11-16, 16-25."),
        ([("need", "")], "Unknown need: an empty value."),
        ([("category", "x" * 500)], "..."),
        ([("locality", "mars")], "Valid locality values are: out-of-area."),
        ([("age", "0-5"), ("age", "5-12")], "Unknown age: '5-12'."),
        (
            [("age", a) for a in AGE_BAND_SLUGS]
            + [("need", n) for n in NEEDS]
            + [("category", c) for c in list(CATEGORIES)[:5]],
            f"give at most {MAX_VALUES} values in all",
        ),
    ],
)
def test_bad_filters_say_what_is_valid(feed_env, pairs, expected):
    with pytest.raises(FilterError) as info:
        parse_filter(pairs)
    message = str(info.value)
    assert expected in message
    assert len(message) < 600  # long input is not echoed back whole


def test_as_many_values_as_allowed_are_accepted(feed_env):
    pairs = [("age", a) for a in AGE_BAND_SLUGS] + [("need", n) for n in NEEDS]
    pairs += [("category", c) for c in list(CATEGORIES)[: MAX_VALUES - len(pairs)]]
    assert len(parse_filter(pairs).pairs()) == MAX_VALUES


def test_single_topic_filters_cover_every_topic(feed_env):
    filters = single_topic_filters()
    assert filters[0].is_all
    # Default mapping: no localities of its own, so only "out of area".
    assert len(filters) == 1 + len(AGE_BAND_SLUGS) + len(NEEDS) + len(CATEGORIES) + 1
    assert len(set(filters)) == len(filters)


@pytest.mark.parametrize(
    ("kind", "notable", "stale", "published"),
    [
        (ChangeKind.ADDED, True, False, True),
        (ChangeKind.REOPENED, True, False, True),
        (ChangeKind.REMOVED, True, False, True),
        (ChangeKind.UPDATED, True, False, True),
        (ChangeKind.UPDATED, False, False, False),
        (ChangeKind.BECAME_STALE, True, True, False),
        (ChangeKind.BECAME_STALE, True, False, False),
        (ChangeKind.ADDED, True, True, False),
        (ChangeKind.UPDATED, True, True, False),
    ],
)
def test_which_changes_are_news(kind, notable, stale, published):
    assert is_published(kind, notable, {"stale": stale}) is published


def test_titles_and_summaries_read_plainly():
    snap = {
        "name": "  Sensory\nplay group ",
        "localities": ["scunthorpe"],
        "summary": "Fun.",
        "minimum_age": 0,
        "maximum_age": 5,
    }
    labels = {"scunthorpe": "Scunthorpe"}
    assert title_for(ChangeKind.ADDED, snap, labels) == "New: Sensory play group in Scunthorpe"
    assert title_for(ChangeKind.REOPENED, {"name": "Swim"}, labels) == "Back again: Swim"
    assert title_for(ChangeKind.UPDATED, {"name": ""}, labels) == "Updated: A service"
    assert title_for(ChangeKind.REMOVED, {"name": "Swim", "localities": ["a", "b"]}, labels) == (
        "No longer available: Swim"
    )
    assert summary_for(ChangeKind.ADDED, snap, []) == "Fun. For ages 0 to 5."
    assert summary_for(ChangeKind.UPDATED, snap, ["minimum_age", "maximum_age", "costs"]) == (
        "What changed: The ages it is for have changed. The cost has changed. Fun. For ages 0 to 5."
    )
    assert summary_for(ChangeKind.REMOVED, snap, []).startswith("This service has been taken off")
    long = summary_for(ChangeKind.ADDED, {"summary": "word " * 500}, [])
    assert len(long) < 420 and long.endswith("…")
