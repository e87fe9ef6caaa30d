"""Topic filters from query strings, and which changes are news."""

from __future__ import annotations

import pytest

from publisher.feeds.filters import FeedFilter, FilterError, parse_filter, single_topic_filters
from publisher.feeds.items import is_published, summary_for, title_for
from publisher.models import ChangeKind
from publisher.topics import AGE_BAND_SLUGS, CATEGORIES, NEEDS


def test_filters_combine_and_have_one_canonical_query(feed_env):
    flt = parse_filter([("need", "sensory-physical"), ("age", "16-25"), ("utm_source", "x")])
    assert flt == FeedFilter(age="16-25", need="sensory-physical")
    assert flt.query == "age=16-25&need=sensory-physical"
    assert flt.matches({"age_bands": ["11-16", "16-25"], "needs": ["sensory-physical"]})
    assert not flt.matches({"age_bands": ["16-25"], "needs": ["cognition-learning"]})
    assert not flt.matches({})
    assert parse_filter([]).is_all


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("age", "12-14")], "Valid age values are: 0-5, 5-11, 11-16, 16-25."),
        ([("need", "")], "Unknown need: an empty value."),
        ([("category", "x" * 500)], "..."),
        ([("locality", "mars")], "Valid locality values are: out-of-area."),
        ([("age", "0-5"), ("age", "5-11")], "Give only one age value."),
    ],
)
def test_bad_filters_say_what_is_valid(feed_env, pairs, expected):
    with pytest.raises(FilterError) as info:
        parse_filter(pairs)
    message = str(info.value)
    assert expected in message
    assert len(message) < 600  # long input is not echoed back whole


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
