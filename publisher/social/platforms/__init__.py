"""One description per social platform, which everything else reads.

A platform's module in this package holds its ``DESCRIPTION``: the stored name (a member of
``publisher.models.social.Platform``), the label people see, the length limit and how the
platform counts, the fields an admin fills in (with plain-English labels and hints), and
where its adapter is. The rules, the account checks, the console's forms and labels, the
drafting templates (``templates/social/<name>.txt``) and publishing all read it from here.

The modules are found by listing this package, so a new platform is one module here (plus
its drafting template and its name in ``Platform``): nothing else needs to know about it.
Descriptions load cheaply; an adapter and its SDK are imported only when a post is sent.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from publisher.models.social import Platform
from publisher.social.adapters.base import Adapter


@dataclass(frozen=True)
class Field:
    """One box in the account form."""

    name: str  # the key in the account's settings, or in its credentials when secret
    label: str
    hint: str = ""
    # Secrets are stored encrypted with the credentials and only ever shown masked.
    secret: bool = False
    required: bool = True
    kind: Literal["text", "url"] = "text"
    default: str = ""


@dataclass(frozen=True)
class Description:
    platform: Platform
    label: str
    limit: int
    # The post's length as the platform counts it.
    count: Callable[[str], int]
    # How it counts, in plain words, for the console.
    counting: str
    fields: tuple[Field, ...]
    # Imports the adapter's module (and its SDK) only when called.
    load_adapter: Callable[[], Adapter]
    # What makes publishing exactly once on this platform, in plain words (README too).
    guarantee: str
    unit: str = "characters"
    bytes_limit: int | None = None
    # A key chosen and committed before the first call, for platforms that let the
    # client name the post (Bluesky's record key). None: the platform names it.
    new_key: Callable[[], str] | None = None
    supports_images: bool = True

    @property
    def name(self) -> str:
        return self.platform.value

    @property
    def template(self) -> str:
        """The drafting template, under templates/."""
        return f"social/{self.platform.value}.txt"

    @property
    def setting_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.secret)

    @property
    def credential_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.secret)

    def adapter(self) -> Adapter:
        return self.load_adapter()


@functools.cache
def _registry() -> dict[Platform, Description]:
    # Found on first use, not at import: the platform modules import the rules, which
    # import this package.
    found: dict[Platform, Description] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        description = getattr(module, "DESCRIPTION", None)
        if not isinstance(description, Description):
            raise TypeError(f"{module.__name__} has no DESCRIPTION (a platforms.Description)")
        if description.platform in found:
            raise ValueError(f"Two descriptions for {description.platform.value}")
        found[description.platform] = description
    missing = [p.value for p in Platform if p not in found]
    if missing:
        raise LookupError(f"No description in publisher/social/platforms for: {missing}")
    return {p: found[p] for p in Platform}


def describe(platform: Platform | str) -> Description:
    return _registry()[Platform(platform)]


def descriptions() -> list[Description]:
    """Every platform, in the order of ``Platform``."""
    return list(_registry().values())


__all__ = ["Description", "Field", "describe", "descriptions"]
