"""The services a subscriber follows (issue 14): a short list of "source:entry id" keys.
Its own module because both confirming a sign-up (lifecycle) and following (follows)
change it."""

from __future__ import annotations

from publisher.models import Subscriber

MAX_FOLLOWS = 50


def add_follow(subscriber: Subscriber, key: str) -> None:
    follows = list(subscriber.follows or [])
    if key not in follows:
        # The oldest follow makes way: a person may follow at most MAX_FOLLOWS services.
        subscriber.follows = ([*follows, key])[-MAX_FOLLOWS:]
