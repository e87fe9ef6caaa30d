"""Facebook Pages: 63,206 characters."""

from __future__ import annotations

from publisher.models.social import Platform
from publisher.social.adapters.base import Adapter
from publisher.social.platforms import Description, Field


def _adapter() -> Adapter:
    from publisher.social.adapters.facebook import FacebookAdapter

    return FacebookAdapter()


DESCRIPTION = Description(
    platform=Platform.FACEBOOK,
    label="Facebook",
    limit=63_206,
    count=len,
    counting="Every character counts as one.",
    fields=(
        Field(
            "page_id",
            "Page ID",
            "A long number. On your Facebook Page: About, then Page transparency.",
        ),
        Field(
            "page_access_token",
            "Page access token",
            "From Meta's Graph API Explorer or your Meta app, for this Page, with the "
            "pages_manage_posts permission.",
            secret=True,
        ),
    ),
    load_adapter=_adapter,
    guarantee=(
        "Facebook has no idempotency key. After an attempt that may have gone through, the "
        "next one first looks for the same message on the Page's feed and records it "
        "instead of posting again."
    ),
)
