"""Who a bulletin is for, read with the subscriptions' own matching rules.

An audience is the same four choices a subscriber makes (age bands, needs, categories,
localities), each a list of slugs, empty meaning "all". A bulletin reaches a subscriber
when ``publisher.subscriptions.matching.matches`` says the subscriber wants an entry
that offers exactly the audience: within a choice any value matches, across choices all
must, and a subscriber's empty choice matches everything. An audience that names no
category stands for every category (an entry with no category would match no one who
chose one). People who only follow single services get no bulletins: they asked for
news of those services only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from publisher.subscriptions.matching import DIMENSIONS, PreferenceLike, matches
from publisher.subscriptions.preferences import FIELD_NAMES, vocabulary


class AudienceError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def parse_audience(form: Mapping[str, Any]) -> dict[str, list[str]]:
    """The audience from a form (``getlist`` values) or JSON; unknown values refused."""
    vocab = vocabulary()
    errors: dict[str, str] = {}
    audience: dict[str, list[str]] = {}
    for dimension in DIMENSIONS:
        raw = form.get(dimension) or []
        values = [raw] if isinstance(raw, str) else list(raw)
        chosen = [v for v in dict.fromkeys(str(v) for v in values) if v]
        unknown = [v for v in chosen if v not in vocab[dimension]]
        if unknown:
            errors[dimension] = f"Choose an {FIELD_NAMES[dimension]} from the list."
        audience[dimension] = [v for v in vocab[dimension] if v in chosen]
    if errors:
        raise AudienceError(errors)
    return audience


def for_matching(audience: Mapping[str, Any]) -> dict[str, Any]:
    """The audience as an entry snapshot that ``matches`` reads."""
    snapshot: dict[str, Any] = {d: list(audience.get(d) or []) for d in DIMENSIONS}
    if not snapshot["categories"]:
        snapshot["categories"] = list(vocabulary()["categories"])
    return snapshot


def reaches(subscriber: PreferenceLike, audience: Mapping[str, Any], topic_news: bool) -> bool:
    return topic_news and matches(subscriber, for_matching(audience))


def describe(audience: Mapping[str, Any]) -> str:
    """In words, for the console: "Everyone" or "16-25; Sensory and/or physical"."""
    vocab = vocabulary()
    parts = []
    for dimension in DIMENSIONS:
        values = audience.get(dimension) or []
        if values:
            labels = [vocab[dimension].get(v, v) for v in values]
            parts.append(f"{FIELD_NAMES[dimension].capitalize()}: {', '.join(labels)}")
    return "; ".join(parts) if parts else "Everyone"
