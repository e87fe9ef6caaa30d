"""Bluesky facets index UTF-8 bytes: whatever comes before the link (accents, CJK, emoji,
combining marks), the facet's byte slice is exactly the link."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.social.adapters.bluesky import facets, new_tid

LINK = "https://localoffer.example.gov.uk/services/abc-123"
# Text that cannot itself form a URL or a hashtag.
words = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="#:/h"),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(before=words, after=words)
def test_link_facet_slices_to_the_link(before: str, after: str) -> None:
    text = f"{before} {LINK} {after} #LocalOffer"
    raw = text.encode("utf-8")
    found = {f.features[0].py_type: f for f in facets(text, LINK)}
    link = found["app.bsky.richtext.facet#link"]
    assert raw[link.index.byte_start : link.index.byte_end].decode() == LINK
    assert link.features[0].uri == LINK
    tag = found["app.bsky.richtext.facet#tag"]
    assert raw[tag.index.byte_start : tag.index.byte_end].decode() == "#LocalOffer"


def test_tids_are_13_sortable_characters_and_increase() -> None:
    tids = [new_tid() for _ in range(1000)]
    assert all(len(t) == 13 and set(t) <= set("234567abcdefghijklmnopqrstuvwxyz") for t in tids)
    assert tids == sorted(tids) and len(set(tids)) == len(tids)
