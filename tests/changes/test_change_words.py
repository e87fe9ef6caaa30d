"""What changed, in plain words: the difference kept at crawl time, told to families."""

from __future__ import annotations

from publisher.change_words import (
    POST_SENTENCE_MAX,
    SENTENCES_SHOWN,
    STRETCH_WORDS_KEPT,
    details_for,
    merge_details,
    post_sentence,
    sentences,
)

OLD = {
    "minimum_age": 16,
    "maximum_age": 25,
    "costs": ["Free"],
    "summary": "We run a weekly club for young people with autism. "
    "Sessions are on Tuesday evenings at the library.",
    "email": "a@x.org",
    "addresses": ["1 High Street, Brigg"],
    "status": "active",
}
NEW = {
    "minimum_age": 14,
    "maximum_age": 25,
    "costs": ["£5 a session"],
    "summary": "We run a weekly club for young people with autism. "
    "Sessions are on Thursday evenings at the town hall. Bring a packed lunch.",
    "email": "b@x.org",
    "addresses": ["2 Low Road, Brigg"],
    "status": "temporarily closed",
}


def test_short_fields_say_the_new_value_and_the_old_one() -> None:
    changed = ["minimum_age", "costs", "email", "addresses"]
    told = sentences(changed, details_for(OLD, NEW, changed), NEW)
    assert told == [
        "Now for ages 14 to 25 (was 16 to 25).",
        "Cost now £5 a session (was Free).",
        "Address now 2 Low Road, Brigg (was 1 High Street, Brigg).",
        "Email now b@x.org (was a@x.org).",
    ]


def test_long_text_is_told_as_the_sentences_added_and_taken_out() -> None:
    details = details_for(OLD, NEW, ["summary"])
    assert details["summary"]["added"] == [
        "Sessions are on Thursday evenings at the town hall.",
        "Bring a packed lunch.",
    ]
    assert details["summary"]["removed"] == ["Sessions are on Tuesday evenings at the library."]
    assert sentences(["summary"], details, NEW) == [
        "The description now says “Sessions are on Thursday evenings at the town hall.” and "
        "“Bring a packed lunch.” instead of “Sessions are on Tuesday evenings at the library.”"
    ]


def test_a_rewritten_description_is_capped_when_kept_and_when_shown() -> None:
    old = {"summary": " ".join(f"old{i}" for i in range(5000)) + "."}
    new = {"summary": ". ".join(" ".join(f"new{i}x{j}" for j in range(80)) for i in range(50))}
    details = details_for(old, new, ["summary"])
    kept = details["summary"]
    assert len(kept["added"]) == 3 and len(kept["removed"]) == 1
    assert all(len(s.split()) <= STRETCH_WORDS_KEPT + 1 for s in kept["added"] + kept["removed"])
    assert kept["words_removed"] == 5000
    (told,) = sentences(["summary"], details, new)
    assert len(told) < 600 and "…" in told


def test_the_most_important_changes_come_first_and_the_rest_are_summed_up() -> None:
    changed = list(OLD)
    told = sentences(changed, details_for(OLD, NEW, changed), NEW)
    assert told[0] == "Now closed for a while (was open)."
    assert told[1] == "Now for ages 14 to 25 (was 16 to 25)."
    assert len(told) == SENTENCES_SHOWN + 1
    assert told[-1] == "Other details have changed too."


def test_changes_logged_without_details_still_read_as_sentences() -> None:
    assert sentences(["minimum_age", "maximum_age", "costs", "summary"], {}, NEW) == [
        "The ages it is for have changed.",
        "The cost has changed.",
        "The description has changed.",
    ]


def test_lists_say_what_was_added_and_what_was_taken_away() -> None:
    old = {"service_areas": ["Brigg", "Scunthorpe"], "costs": ["£2"]}
    new = {"service_areas": ["Scunthorpe", "Barton"], "costs": []}
    changed = ["service_areas", "costs"]
    assert sentences(changed, details_for(old, new, changed), new) == [
        "Cost no longer given (was £2).",
        "Now covers Barton; no longer covers Brigg.",
    ]


def test_several_updates_run_from_the_first_old_value_to_the_last_new_one() -> None:
    first = details_for({"maximum_age": 25}, {"maximum_age": 19}, ["maximum_age"])
    second = details_for({"maximum_age": 19}, {"maximum_age": 18}, ["maximum_age"])
    merged = merge_details([(["maximum_age"], first), (["maximum_age"], second)])
    snapshot = {"minimum_age": 11, "maximum_age": 18}
    assert sentences(["maximum_age"], merged, snapshot) == ["Now for ages 11 to 18 (was 11 to 25)."]
    back = details_for({"maximum_age": 18}, {"maximum_age": 25}, ["maximum_age"])
    assert merge_details([(["maximum_age"], first), (["maximum_age"], back)]) == {}


def test_a_post_says_the_most_important_change_in_one_sentence() -> None:
    changed = ["minimum_age"]
    one = post_sentence("Teen Club", changed, details_for(OLD, NEW, changed), NEW)
    assert one == "Teen Club on the Local Offer: now for ages 14 to 25 (was 16 to 25)."
    many = post_sentence("Teen Club", list(OLD), details_for(OLD, NEW, list(OLD)), NEW)
    assert many == (
        "Teen Club on the Local Offer: now closed for a while (was open), and other details."
    )
    assert many.count(".") == 1


HOURS_OLD = "Monday to Friday, 9am to 5pm"
HOURS_NEW = "Monday to Thursday, 9am to 5pm"


def test_opening_times_say_the_new_hours_and_the_old_ones() -> None:
    old, new = {"opening_times": HOURS_OLD}, {"opening_times": HOURS_NEW}
    details = details_for(old, new, ["opening_times"])
    assert details == {"opening_times": {"old": HOURS_OLD, "new": HOURS_NEW}}
    assert sentences(["opening_times"], details, new) == [
        f"Opening times now {HOURS_NEW} (was {HOURS_OLD})."
    ]
    assert post_sentence("Teen Club", ["opening_times"], details, new) == (
        f"Teen Club on the Local Offer: opening times now {HOURS_NEW} (was {HOURS_OLD})."
    )
    gone = details_for(old, {"opening_times": ""}, ["opening_times"])
    assert sentences(["opening_times"], gone, {}) == [
        f"Opening times no longer given (was {HOURS_OLD})."
    ]
    first = details_for({"opening_times": ""}, new, ["opening_times"])
    assert sentences(["opening_times"], first, new) == [f"Opening times now {HOURS_NEW}."]
    assert sentences(["opening_times"], {}, new) == ["The opening times have changed."]


def test_opening_times_come_after_cost_and_before_address() -> None:
    old = {**OLD, "opening_times": HOURS_OLD}
    new = {**NEW, "opening_times": HOURS_NEW}
    changed = ["costs", "addresses", "opening_times"]
    assert sentences(changed, details_for(old, new, changed), new) == [
        "Cost now £5 a session (was Free).",
        f"Opening times now {HOURS_NEW} (was {HOURS_OLD}).",
        "Address now 2 Low Road, Brigg (was 1 High Street, Brigg).",
    ]


def test_long_opening_times_are_read_whole_in_emails_and_shortened_in_posts() -> None:
    long_old = "; ".join(f"{d}, 9:30am to 12:15pm and 1:45pm to 4:30pm" for d in "ABC")
    long_new = long_old.replace("4:30pm", "5pm")
    old, new = {"opening_times": long_old}, {"opening_times": long_new}
    details = details_for(old, new, ["opening_times"])
    (told,) = sentences(["opening_times"], details, new)
    assert told == f"Opening times now {long_new} (was {long_old})."
    post = post_sentence("Bright Lights Sensory Play", ["opening_times"], details, new)
    # Too long with both: the new hours alone, shortened.
    assert post.startswith("Bright Lights Sensory Play on the Local Offer: opening times now")
    assert post == (
        "Bright Lights Sensory Play on the Local Offer: opening times now "
        "A, 9:30am to 12:15pm and 1:45pm to 5pm; B, 9:30am to 12:15pm and 1:45pm to 5pm …"
    )
    assert len(post) <= POST_SENTENCE_MAX
