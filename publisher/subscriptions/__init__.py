"""Subscriptions: subscribing with double opt-in, managing and leaving, consent and retention.

Public surface for other areas:
- ``publisher.subscriptions.matching``: ``matches(prefs, snapshot)``, ``Preferences``,
  ``topics_match(chosen, snapshot)`` (the topic rule alone, which the feeds share).
- ``publisher.subscriptions.links``: ``manage_url(subscriber)``, ``unsubscribe_url(subscriber)``.
- ``publisher.subscriptions.lifecycle``: ``end_subscription(session, subscriber, reason)``,
  ``is_suppressed(session, email)``.
"""
