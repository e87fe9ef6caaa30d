"""A subscriber's choices read back in words ("you are signed up" page, the welcome
email, the manage page). Apart from publisher.subscriptions.preferences because it
needs the newsletters' frequency wording, which the feeds must not reach."""

from __future__ import annotations

from publisher.config import get_settings
from publisher.models import EmailFormat
from publisher.newsletters.frequencies import frequency_rule
from publisher.subscriptions.preferences import Choice, vocabulary

# What each preference is called when a choice is read back to the person who made it.
SUMMARY_HEADINGS = {
    "age_bands": "Ages",
    "needs": "Needs",
    "categories": "Types of service",
    "localities": "Areas",
}
ALL_WORDS = {
    "age_bands": "All ages",
    "needs": "All needs",
    "categories": "All types of service",
    "localities": "All areas",
}


def choice_summary(choice: Choice) -> list[tuple[str, str]]:
    """(heading, words) for each part of a choice, in the order of the form, as the
    "you are signed up" page, the welcome email and the manage page read them back."""
    vocab = vocabulary()
    rows: list[tuple[str, str]] = []
    for name, heading in SUMMARY_HEADINGS.items():
        chosen: list[str] = getattr(choice, name)
        words = [vocab[name].get(s, s) for s in chosen]
        rows.append((heading, ", ".join(words) if words else ALL_WORDS[name]))
    rows.append(("How often", frequency_rule(choice.frequency).choice(get_settings().editions)))
    rows.append(("Email type", "Plain text only" if choice.format is EmailFormat.TEXT else "HTML"))
    rows.append(
        (
            "Services that cost money",
            "Included" if choice.paid_opt_in else "Not included (free services only)",
        )
    )
    return rows
