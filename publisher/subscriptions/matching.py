"""Which changes a subscriber wants: one pure function, used by the edition builder.

Rules (issue 3):
- within one preference (say age bands) any chosen value matches;
- across preferences all must match;
- a preference left empty matches everything;
- items about paid or third-party services go only to those who opted in to them;
- a stale entry is never news.

Our reading where the entry, not the subscriber, says nothing: an entry that names no
locality is treated as available across the area (countywide and online services), and
one that names no area of need as open to all needs, so a family that chose a place or a
need still hears about them. An entry with no category does not match a chosen category:
we cannot tell what kind of service it is. Entries with unknown ages already carry every
age band (``publisher.topics.age_bands``); an empty list is read the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# Snapshot fields where an empty value means "applies to all" rather than "unknown kind".
_EMPTY_MEANS_ALL: frozenset[str] = frozenset({"age_bands", "needs", "localities"})
DIMENSIONS: tuple[str, ...] = ("age_bands", "needs", "categories", "localities")


class PreferenceLike(Protocol):
    """Anything with the preference attributes: a ``Subscriber`` row or ``Preferences``."""

    @property
    def age_bands(self) -> Any: ...
    @property
    def needs(self) -> Any: ...
    @property
    def categories(self) -> Any: ...
    @property
    def localities(self) -> Any: ...
    @property
    def paid_opt_in(self) -> bool: ...


@dataclass(frozen=True)
class Preferences:
    """Hashable preferences: subscribers with equal ``Preferences`` get the same changes,
    so an edition builder can match (and render) once per distinct value."""

    age_bands: frozenset[str] = frozenset()
    needs: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    localities: frozenset[str] = frozenset()
    paid_opt_in: bool = False
    # "Follow this service" (issue 14): item keys of single services this person follows,
    # and whether they also want topic news (False: only what they follow).
    follows: frozenset[str] = frozenset()
    topic_news: bool = True
    you_said_we_did: bool = False

    @classmethod
    def of(cls, prefs: PreferenceLike) -> Preferences:
        return cls(
            age_bands=frozenset(prefs.age_bands or ()),
            needs=frozenset(prefs.needs or ()),
            categories=frozenset(prefs.categories or ()),
            localities=frozenset(prefs.localities or ()),
            paid_opt_in=bool(prefs.paid_opt_in),
            follows=frozenset(getattr(prefs, "follows", None) or ()),
            # None on a row not yet stored: the column's default (True) applies.
            topic_news=getattr(prefs, "topic_news", True) is not False,
            you_said_we_did=bool(getattr(prefs, "you_said_we_did", False)),
        )


def _values(raw: Any) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if isinstance(raw, str):
        return frozenset({raw})
    if isinstance(raw, Iterable):
        return frozenset(str(v) for v in raw)
    return frozenset()


def matches(prefs: PreferenceLike, snapshot: Mapping[str, Any]) -> bool:
    """True when a change whose snapshot is ``snapshot`` belongs in this subscriber's email."""
    if snapshot.get("stale"):
        return False
    key = snapshot.get("key")
    if key is not None and key in (getattr(prefs, "follows", None) or ()):
        return True  # asked for by name: every change to it, paid or not
    if getattr(prefs, "topic_news", True) is False:
        return False
    if snapshot.get("optin") == "you_said_we_did":
        # Issue 14: only for those who asked for "You said, we did" answers.
        return bool(getattr(prefs, "you_said_we_did", False))
    if snapshot.get("paid") and not prefs.paid_opt_in:
        return False
    return topics_match({d: getattr(prefs, d) for d in DIMENSIONS}, snapshot)


def topics_match(chosen: Mapping[str, Any], snapshot: Mapping[str, Any]) -> bool:
    """The topic part of the rules above, on its own: ``chosen`` maps a dimension (say
    "needs") to the values picked for it. The public feeds use it too (issue 13), so a
    feed and an email with the same choices hold the same services."""
    for dimension in DIMENSIONS:
        wanted = _values(chosen.get(dimension))
        if not wanted:
            continue
        offered = _values(snapshot.get(dimension))
        if not offered:
            if dimension in _EMPTY_MEANS_ALL:
                continue
            return False
        if wanted.isdisjoint(offered):
            return False
    return True


def matching(
    prefs: PreferenceLike, snapshots: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The snapshots ``prefs`` wants, in the order given."""
    return [s for s in snapshots if matches(prefs, s)]
