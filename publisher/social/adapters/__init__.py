"""One adapter per platform; ``adapter_for`` picks it."""

from __future__ import annotations

from publisher.models.social import Platform
from publisher.social.adapters.base import (
    Adapter,
    Outgoing,
    Permanent,
    Published,
    PublishError,
    Retryable,
)


class NotSupported:
    """X: drafts and length checks work, but posting needs X's paid API; an officer posts
    these by hand for now."""

    def publish(self, outgoing: Outgoing) -> Published:
        raise Permanent(
            "Posting to X automatically is not available yet. Copy the text and post it by "
            "hand, then withdraw this post."
        )


def adapter_for(platform: Platform) -> Adapter:
    from publisher.social.adapters.bluesky import BlueskyAdapter
    from publisher.social.adapters.facebook import FacebookAdapter
    from publisher.social.adapters.mastodon import MastodonAdapter

    adapters: dict[Platform, Adapter] = {
        Platform.MASTODON: MastodonAdapter(),
        Platform.BLUESKY: BlueskyAdapter(),
        Platform.FACEBOOK: FacebookAdapter(),
        Platform.X: NotSupported(),
    }
    return adapters[platform]


__all__ = [
    "Adapter",
    "Outgoing",
    "Permanent",
    "PublishError",
    "Published",
    "Retryable",
    "adapter_for",
]
