"""What "You said, we did" shows in public: the topics a person can choose and the words
that may be published. Apart from the service so that editions can read them without
reaching the console's workflow."""

from __future__ import annotations

from publisher.models import Feedback

TOPICS: dict[str, str] = {
    "missing": "Something is missing",
    "wrong": "Something is wrong or out of date",
    "hard-to-use": "Something is hard to find or use",
    "other": "Something else",
}


def said(f: Feedback) -> str:
    """The public "You said": their words only if they agreed."""
    if f.you_said:
        return f.you_said
    return f.words if f.consent_to_publish else ""
