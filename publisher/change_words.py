"""What changed in an entry, in plain words a parent understands.

Two halves, both pure functions (no database, no network):

- ``details_for`` runs at crawl time and keeps, beside the list of changed fields, just
  enough of the difference to tell it later: old and new values for short fields, what
  was added to and taken out of list fields (costs, addresses, areas, kinds of service),
  and a word-level difference of long text (the description), each capped so that a
  rewritten description cannot bloat the change log.
- ``sentences`` (emails and feeds) and ``post_sentence`` (social posts) turn those
  details into words: "Ages 14 to 25 (was 16 to 25)." rather than "What changed: ages".

Changes logged before the details existed carry only the field names; they still read
sensibly ("The description has changed.").

Values come from the directory and are hostile: callers escape them for HTML (Jinja
autoescape) and the words here never build markup.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

# Old and new values kept whole (they are short by nature).
SHORT_FIELDS: frozenset[str] = frozenset(
    {
        "name",
        "url",
        "email",
        "status",
        "minimum_age",
        "maximum_age",
        "assured_date",
        "organisation",
        "opening_times",
    }
)
# Lists kept as what was added and what was taken away.
LIST_FIELDS: frozenset[str] = frozenset(
    {"addresses", "postcodes", "service_areas", "costs", "taxonomy_terms"}
)
# Long text kept as a word-level difference.
TEXT_FIELDS: frozenset[str] = frozenset({"summary"})

# Caps: what is stored in the change log, and what a reader is shown.
LIST_ITEMS_KEPT = 5
ITEM_CHARS_KEPT = 200
# Sentences of a description kept each way, and words kept of each.
STRETCHES_KEPT = 3
STRETCH_WORDS_KEPT = 30
VALUE_CHARS_SHOWN = 90
# Opening times are read whole in emails and feeds (a cut line of hours misleads), and
# shorter in posts, which drop the old hours when the sentence would not fit.
HOURS_CHARS_SHOWN = 200
HOURS_CHARS_POSTED = 80
POST_SENTENCE_MAX = 200
STRETCH_WORDS_SHOWN = 20
SENTENCES_SHOWN = 4

# The order a parent cares about: can my child still go, who for, what it costs, where.
ORDER: tuple[str, ...] = (
    "status",
    "ages",
    "costs",
    "opening_times",
    "addresses",
    "organisation",
    "name",
    "email",
    "url",
    "service_areas",
    "taxonomy_terms",
    "summary",
)
# What to say of a field when a change carries no details (logged before they were kept).
FIELD_CHANGED: dict[str, str] = {
    "status": "Whether it is open has changed",
    "ages": "The ages it is for have changed",
    "costs": "The cost has changed",
    "opening_times": "The opening times have changed",
    "addresses": "The address has changed",
    "organisation": "Who runs it has changed",
    "name": "The name has changed",
    "email": "The email address has changed",
    "url": "The website has changed",
    "service_areas": "The areas it covers have changed",
    "taxonomy_terms": "The kind of service has changed",
    "summary": "The description has changed",
}
STATUS_WORDS: dict[str, str] = {
    "active": "open",
    "inactive": "closed",
    "defunct": "closed for good",
    "temporarily closed": "closed for a while",
}


# --------------------------------------------------------------------------- storing


def _clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def list_difference(old: Sequence[Any] | None, new: Sequence[Any] | None) -> dict[str, Any]:
    """What was added to and taken out of a list, each capped."""
    old_items = [" ".join(str(v).split()) for v in old or ()]
    new_items = [" ".join(str(v).split()) for v in new or ()]
    added = [v for v in new_items if v and v not in old_items]
    removed = [v for v in old_items if v and v not in new_items]
    return {
        "added": [_clip(v, ITEM_CHARS_KEPT) for v in added[:LIST_ITEMS_KEPT]],
        "removed": [_clip(v, ITEM_CHARS_KEPT) for v in removed[:LIST_ITEMS_KEPT]],
        "more": max(len(added) - LIST_ITEMS_KEPT, 0) + max(len(removed) - LIST_ITEMS_KEPT, 0),
    }


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _sentences_of(text: str) -> list[list[str]]:
    return [part.split() for part in _SENTENCE_END.split(" ".join(text.split())) if part.strip()]


def _capped(words: Sequence[str]) -> str:
    if len(words) <= STRETCH_WORDS_KEPT:
        return " ".join(words)
    return " ".join(words[:STRETCH_WORDS_KEPT]) + " …"


def text_difference(old: str | None, new: str | None) -> dict[str, Any]:
    """A word-level difference told as whole sentences: those of the new text with words
    added, and those of the old text with words taken out (the first few, capped), and
    how many words each way. A changed word means little out of its sentence."""
    old_sents, new_sents = _sentences_of(old or ""), _sentences_of(new or "")
    old_words = [(i, w) for i, sent in enumerate(old_sents) for w in sent]
    new_words = [(i, w) for i, sent in enumerate(new_sents) for w in sent]
    matcher = difflib.SequenceMatcher(
        a=[w for _, w in old_words], b=[w for _, w in new_words], autojunk=False
    )
    touched_old: set[int] = set()
    touched_new: set[int] = set()
    words_added = words_removed = 0
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op in ("replace", "delete"):
            touched_old.update(i for i, _ in old_words[a1:a2])
            words_removed += a2 - a1
        if op in ("replace", "insert"):
            touched_new.update(i for i, _ in new_words[b1:b2])
            words_added += b2 - b1
    return {
        "added": [_capped(new_sents[i]) for i in sorted(touched_new)[:STRETCHES_KEPT]],
        "removed": [_capped(old_sents[i]) for i in sorted(touched_old)[:STRETCHES_KEPT]],
        "words_added": words_added,
        "words_removed": words_removed,
    }


def details_for(
    old: Mapping[str, Any], new: Mapping[str, Any], changed: Sequence[str]
) -> dict[str, Any]:
    """The details a change keeps for each changed field."""
    details: dict[str, Any] = {}
    for name in changed:
        if name in SHORT_FIELDS:
            details[name] = {"old": _jsonable(old.get(name)), "new": _jsonable(new.get(name))}
        elif name in LIST_FIELDS:
            details[name] = list_difference(old.get(name), new.get(name))
        elif name in TEXT_FIELDS:
            details[name] = text_difference(old.get(name), new.get(name))
    return details


def merge_details(history: Sequence[tuple[Sequence[str], Mapping[str, Any]]]) -> dict[str, Any]:
    """Several updates to one entry told as one: short fields go from the first old value
    to the last new one; lists and text keep their latest difference."""
    merged: dict[str, Any] = {}
    for _, details in history:
        for name, value in (details or {}).items():
            if name in SHORT_FIELDS and name in merged and isinstance(value, Mapping):
                merged[name] = {"old": merged[name].get("old"), "new": value.get("new")}
            else:
                merged[name] = value
    # A field changed back to where it started is no change at all.
    return {
        k: v
        for k, v in merged.items()
        if not (k in SHORT_FIELDS and isinstance(v, Mapping) and v.get("old") == v.get("new"))
    }


# --------------------------------------------------------------------------- telling


def _ages(low: Any, high: Any) -> str:
    if low is None and high is None:
        return "any age"
    if low is None:
        return f"up to {high}"
    if high is None:
        return f"{low} and over"
    return f"{low} to {high}"


def _value(value: Any) -> str:
    return _clip(str(value), VALUE_CHARS_SHOWN) if value not in (None, "") else ""


def _quoted(stretches: Sequence[str]) -> str:
    shown = []
    for text in stretches[:2]:
        words = str(text).split()
        clip = " ".join(words[:STRETCH_WORDS_SHOWN]) + (
            " …" if len(words) > STRETCH_WORDS_SHOWN else ""
        )
        shown.append(f"“{clip}”")
    return " and ".join(shown)


def _short(name: str, old: Any, new: Any) -> str | None:
    new_s, old_s = _value(new), _value(old)
    if name == "status":
        new_w = STATUS_WORDS.get(str(new), _value(new))
        old_w = STATUS_WORDS.get(str(old), _value(old))
        return f"Now {new_w}" + (f" (was {old_w})" if old_w else "")
    # Each reads as a phrase, so that a post can follow a service's name with it.
    labels = {
        "name": "Now called",
        "email": "Email now",
        "url": "Website now",
        "organisation": "Now run by",
    }
    gone = {"name": "Name", "email": "Email", "url": "Website", "organisation": "Who runs it"}
    if name not in labels:
        return None
    if not new_s:
        return f"{gone[name]} no longer given (was {old_s})" if old_s else None
    return f"{labels[name]} {new_s}" + (f" (was {old_s})" if old_s else "")


def _clip_hours(value: Any, limit: int) -> str:
    """Hours cut between days where they can be ("Monday, 9am to 5pm …"), not mid-time."""
    if value in (None, ""):
        return ""
    text = " ".join(str(value).split())
    if len(text) <= limit:
        return text
    kept: list[str] = []
    for part in text.split("; "):
        if len("; ".join([*kept, part])) > limit - 2:
            break
        kept.append(part)
    return "; ".join(kept) + " …" if kept else _clip(text, limit)


def _hours(old: Any, new: Any, limit: int) -> str | None:
    new_s, old_s = _clip_hours(new, limit), _clip_hours(old, limit)
    if not new_s:
        return f"Opening times no longer given (was {old_s})" if old_s else None
    return f"Opening times now {new_s}" + (f" (was {old_s})" if old_s else "")


def _listed(name: str, diff: Mapping[str, Any]) -> str | None:
    added = [_value(v) for v in diff.get("added") or []]
    removed = [_value(v) for v in diff.get("removed") or []]
    added, removed = [a for a in added if a], [r for r in removed if r]
    if not added and not removed:
        return None
    new, old = "; ".join(added[:2]), "; ".join(removed[:2])
    if name in ("costs", "addresses", "postcodes"):
        label = {"costs": "Cost", "addresses": "Address", "postcodes": "Postcode"}[name]
        if added and removed:
            return f"{label} now {new} (was {old})"
        if added:
            return f"{label} now {new} (none given before)"
        return f"{label} no longer given (was {old})"
    if name == "service_areas":
        parts = ([f"Now covers {new}"] if added else []) + (
            [f"no longer covers {old}"] if removed else []
        )
    else:
        parts = ([f"Now listed as {new}"] if added else []) + (
            [f"no longer listed as {old}"] if removed else []
        )
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def _text(diff: Mapping[str, Any]) -> str | None:
    added, removed = diff.get("added") or [], diff.get("removed") or []
    if added and removed:
        return f"The description now says {_quoted(added)} instead of {_quoted(removed)}"
    if added:
        return f"The description now also says {_quoted(added)}"
    if removed:
        return f"The description no longer says {_quoted(removed)}"
    return None


def _phrases(
    changed: Sequence[str], details: Mapping[str, Any], snapshot: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """(field, phrase) for each change, most important first, without a full stop."""
    fields = set(changed) | set(details)
    if fields & {"minimum_age", "maximum_age"}:
        fields.add("ages")
    if "postcodes" in fields and "addresses" not in fields:
        fields.add("addresses")
    found: list[tuple[str, str]] = []
    for name in ORDER:
        if name not in fields:
            continue
        phrase: str | None = None
        if name == "ages":
            lo, hi = details.get("minimum_age"), details.get("maximum_age")
            if lo is not None or hi is not None:
                new_lo = lo["new"] if lo else snapshot.get("minimum_age")
                new_hi = hi["new"] if hi else snapshot.get("maximum_age")
                old_lo = lo["old"] if lo else snapshot.get("minimum_age")
                old_hi = hi["old"] if hi else snapshot.get("maximum_age")
                phrase = f"Now for ages {_ages(new_lo, new_hi)} (was {_ages(old_lo, old_hi)})"
        elif name == "addresses":
            diff = details.get("addresses") or details.get("postcodes")
            phrase = _listed("addresses", diff) if isinstance(diff, Mapping) else None
        elif name == "opening_times" and isinstance(details.get(name), Mapping):
            hours = details[name]
            phrase = _hours(hours.get("old"), hours.get("new"), HOURS_CHARS_SHOWN)
        elif name in SHORT_FIELDS and isinstance(details.get(name), Mapping):
            phrase = _short(name, details[name].get("old"), details[name].get("new"))
        elif name in LIST_FIELDS and isinstance(details.get(name), Mapping):
            phrase = _listed(name, details[name])
        elif name in TEXT_FIELDS and isinstance(details.get(name), Mapping):
            phrase = _text(details[name])
        if phrase is None:
            phrase = FIELD_CHANGED[name]
        found.append((name, phrase))
    return found


def sentences(
    changed: Sequence[str], details: Mapping[str, Any], snapshot: Mapping[str, Any]
) -> list[str]:
    """What changed, one sentence per field, most important first, capped."""
    phrases = [p for _, p in _phrases(changed, details, snapshot)]
    shown = [p if p.endswith((".", "”", "…")) else p + "." for p in phrases[:SENTENCES_SHOWN]]
    if len(phrases) > SENTENCES_SHOWN:
        shown.append("Other details have changed too.")
    return shown


def post_sentence(
    name: str, changed: Sequence[str], details: Mapping[str, Any], snapshot: Mapping[str, Any]
) -> str:
    """One sentence for a social post: the most important change, named."""
    # A change we can tell in full beats one we can only name.
    vague = set(FIELD_CHANGED.values())
    phrases = sorted(_phrases(changed, details, snapshot), key=lambda fp: fp[1] in vague)
    if not phrases:
        return f"{name} has new details on the Local Offer."
    field, first = phrases[0]
    more = ", and other details" if len(phrases) > 1 else ""
    told = f"{name} on the Local Offer: {first[0].lower()}{first[1:]}{more}"
    hours = details.get("opening_times")
    if (
        field == "opening_times"
        and isinstance(hours, Mapping)
        and (
            len(told) > POST_SENTENCE_MAX
            or any(len(str(hours.get(k) or "")) > HOURS_CHARS_POSTED for k in ("old", "new"))
        )
    ):
        # Old and new hours do not both fit whole: the new ones alone, shortened between
        # days (the link tells all).
        first = _hours(None, hours.get("new"), HOURS_CHARS_POSTED) or first
        told = f"{name} on the Local Offer: {first[0].lower()}{first[1:]}{more}"
    return told if told.endswith(("”", "…")) else told + "."
