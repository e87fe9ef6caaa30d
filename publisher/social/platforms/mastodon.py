"""Mastodon: 500 characters, each link counted as 23 (Mastodon's StatusLengthValidator)."""

from __future__ import annotations

from publisher.models.social import Platform
from publisher.social import rules
from publisher.social.adapters.base import Adapter
from publisher.social.platforms import Description, Field

URL_WEIGHT = 23


def count(text: str) -> int:
    return rules.graphemes(rules.URL_RE.sub("x" * URL_WEIGHT, text))


def _adapter() -> Adapter:
    from publisher.social.adapters.mastodon import MastodonAdapter

    return MastodonAdapter()


DESCRIPTION = Description(
    platform=Platform.MASTODON,
    label="Mastodon",
    limit=500,
    count=count,
    counting="A link counts as 23 characters, however long it is.",
    fields=(
        Field(
            "api_base_url",
            "Server address",
            "The web address of the Mastodon server the account is on, "
            "like https://mastodon.social.",
            kind="url",
        ),
        Field(
            "access_token",
            "Access token (optional)",
            "Easiest: leave this empty, save, then press \u201cConnect with Mastodon\u201d "
            "and sign in on your server. Or, on the Mastodon server: Preferences, "
            "Development, New application; tick write:statuses and write:media, save, then "
            "copy \u201cYour access token\u201d.",
            secret=True,
            required=False,
        ),
    ),
    load_adapter=_adapter,
    guarantee=(
        "Every attempt sends the same Idempotency-Key, so Mastodon returns the first post "
        "instead of making another. Mastodon remembers a key for an hour: a later attempt "
        "after one that may have gone through first looks for the post on the account."
    ),
)
