"""The posting guidance, and each platform's limits, checked before anyone may approve.

Each platform's limit and how it counts come from its description in
``publisher.social.platforms`` (Mastodon: a URL counts 23; Bluesky: graphemes and bytes;
X: twitter-text's weighted length; Facebook: characters). Guidance (Government
Communication Service): one link, at most two hashtags at the end in CamelCase, alt text on
every image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import regex

from publisher.models.social import Platform
from publisher.social.platforms import describe

URL_RE = regex.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'’]")
HASHTAG_RE = regex.compile(r"(?<![\w#])#(\w+)")
MAX_HASHTAGS = 2


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def urls(text: str) -> list[str]:
    return [m.group(0) for m in URL_RE.finditer(text)]


def without_urls(text: str) -> str:
    """The text with each URL blanked out (same length), so a "#fragment" in a link is not
    taken for a hashtag."""
    blanked: str = URL_RE.sub(lambda m: " " * len(m.group(0)), text)
    return blanked


def hashtags(text: str) -> list[str]:
    found: list[str] = HASHTAG_RE.findall(without_urls(text))
    return found


def length(platform: Platform, text: str) -> int:
    """The post's length as the platform counts it."""
    return describe(platform).count(text)


@dataclass
class Check:
    platform: Platform
    count: int
    limit: int
    unit: str
    bytes: int
    bytes_limit: int | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform.value,
            "label": describe(self.platform).label,
            "count": self.count,
            "limit": self.limit,
            "remaining": self.limit - self.count,
            "unit": self.unit,
            "bytes": self.bytes,
            "bytes_limit": self.bytes_limit,
            "ok": self.ok,
            "problems": list(self.problems),
        }


def guidance_problems(text: str, image_url: str | None, image_alt: str | None) -> list[str]:
    """Problems that apply on every platform."""
    problems: list[str] = []
    if not text.strip():
        problems.append("The post is empty. Write what you want to say.")
        return problems
    words = HASHTAG_RE.sub(" ", without_urls(text))
    if not regex.search(r"[\p{L}\p{N}]", words):
        problems.append(
            "Say what the post is about in words: emoji or a bare link do not carry the "
            "meaning for everyone (screen readers read emoji by their names)."
        )
    found = urls(text)
    if len(found) > 1:
        problems.append(f"Use one link only. This post has {len(found)}.")
    tags = hashtags(text)
    if len(tags) > MAX_HASHTAGS:
        problems.append(f"Use at most {MAX_HASHTAGS} hashtags. This post has {len(tags)}.")
    if tags:
        # Hashtags belong together at the end, after everything else.
        tail = without_urls(text).rstrip()
        for tag in reversed(tags):
            if not tail.endswith("#" + tag):
                problems.append("Put hashtags together at the end of the post.")
                break
            tail = tail[: -len(tag) - 1].rstrip()
        not_camel = [t for t in tags if not t[:1].isupper() and not t[:1].isdigit()]
        if not_camel:
            problems.append(
                "Write hashtags in CamelCase so screen readers read them well, for example "
                f"#{not_camel[0][:1].upper()}{not_camel[0][1:]}."
            )
    if image_url and not (image_alt or "").strip():
        problems.append("Add alt text that describes the image.")
    return problems


def check(
    platform: Platform,
    text: str,
    *,
    image_url: str | None = None,
    image_alt: str | None = None,
) -> Check:
    described = describe(platform)
    count = described.count(text)
    nbytes = len(text.encode("utf-8"))
    label, limit, unit = described.label, described.limit, described.unit
    result = Check(platform, count, limit, unit, nbytes, described.bytes_limit)
    result.problems.extend(guidance_problems(text, image_url, image_alt))
    if image_url and not described.supports_images:
        result.problems.append(f"Posts to {label} cannot carry an image yet. Remove the image.")
    if count > limit:
        result.problems.append(
            f"Too long for {label}: {count} {unit}, the limit is {limit}. Remove {count - limit}."
        )
    if described.bytes_limit is not None and nbytes > described.bytes_limit:
        result.problems.append(
            f"Too long for {label}: {nbytes} bytes, the limit is {described.bytes_limit}."
        )
    return result
