"""Bluesky: 300 graphemes and 3,000 UTF-8 bytes (the app.bsky.feed.post lexicon)."""

from __future__ import annotations

from publisher.models.social import Platform
from publisher.social import rules
from publisher.social.adapters.base import Adapter
from publisher.social.platforms import Description, Field


def _adapter() -> Adapter:
    from publisher.social.adapters.bluesky import BlueskyAdapter

    return BlueskyAdapter()


def _new_key() -> str:
    from publisher.social.adapters.bluesky import new_tid

    return new_tid()


DESCRIPTION = Description(
    platform=Platform.BLUESKY,
    label="Bluesky",
    limit=300,
    bytes_limit=3000,
    count=rules.graphemes,
    counting="Every letter, space and emoji counts as one. A link counts in full.",
    fields=(
        Field(
            "service_url",
            "Server address",
            "Where the account lives. For most accounts this is https://bsky.social.",
            kind="url",
            default="https://bsky.social",
        ),
        Field("handle", "Handle", "The account's name on Bluesky, like council.bsky.social."),
        Field(
            "app_password",
            "App password",
            "In Bluesky: Settings, Privacy and security, App passwords, Add App Password. "
            "Never use the account's own password.",
            secret=True,
        ),
    ),
    load_adapter=_adapter,
    new_key=_new_key,
    guarantee=(
        "The post's record key is chosen and saved before the first attempt. Each attempt "
        "first asks for the record at that key, and the server refuses a second record "
        "with the same key, so a post cannot appear twice."
    ),
)
