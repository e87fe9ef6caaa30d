"""The adapter interface; ``adapter_for`` gives a platform's adapter (see
``publisher.social.platforms``)."""

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


def adapter_for(platform: Platform) -> Adapter:
    """The platform's adapter, from its description (its SDK is imported now, not before)."""
    from publisher.social.platforms import describe

    return describe(platform).adapter()


__all__ = [
    "Adapter",
    "Outgoing",
    "Permanent",
    "PublishError",
    "Published",
    "Retryable",
    "adapter_for",
]
