"""What each email says: rendered once per distinct content, personalised by links only.

Three templates in templates/email/edition/: subject.txt and body.txt rendered with
autoescape OFF (so "&" stays "&" in text/plain), body.html with autoescape on. The HTML
template's CSS is inlined once, when the template is loaded, with css-inline, not once
per message. A variant's body is rendered with placeholder links; each subscriber's
message only swaps in their own manage and unsubscribe links.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import escape

from publisher.config import get_settings
from publisher.models import Frequency
from publisher.newsletters.items import CHANGED, NEW, REMOVED
from publisher.newsletters.windows import describe

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
FOLDER = "email/edition"
MANAGE = "@@LOP_MANAGE_URL@@"
UNSUBSCRIBE = "@@LOP_UNSUBSCRIBE_URL@@"
HEADINGS = {
    "adulthood": "16-25: preparing for adulthood",
    NEW: "New services",
    CHANGED: "Services that have changed",
    REMOVED: "Services no longer available",
}
FREQUENCY_WORDS = {
    Frequency.IMMEDIATE: "",
    Frequency.WEEKLY: "this week",
    Frequency.MONTHLY: "this month",
}


@functools.cache
def _templates() -> tuple[Template, Template, Template]:
    loader = FileSystemLoader(str(TEMPLATES))
    text_env = Environment(
        loader=loader,
        autoescape=False,  # noqa: S701
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    html_env = Environment(loader=loader, autoescape=True, undefined=StrictUndefined)
    source = (TEMPLATES / FOLDER / "body.html").read_text(encoding="utf-8")
    # Inline the CSS into the template once: the Jinja tags sit in text positions and
    # attribute values, which the inliner leaves as they are.
    inlined = css_inline.inline(source)
    return (
        text_env.get_template(f"{FOLDER}/subject.txt"),
        text_env.get_template(f"{FOLDER}/body.txt"),
        html_env.from_string(inlined),
    )


@dataclass(frozen=True)
class EditionView:
    """What every variant of one edition shares."""

    edition_id: int
    frequency: Frequency
    period: str
    web_url: str
    items: list[dict[str, Any]]


def edition_view(
    edition_id: int, frequency: Frequency, start: Any, end: Any, items: list[dict[str, Any]]
) -> EditionView:
    base = get_settings().public_base_url
    return EditionView(
        edition_id=edition_id,
        frequency=frequency,
        period=describe(frequency, start, end),
        web_url=f"{base}/newsletters/{edition_id}",
        items=items,
    )


def sections_for(
    items: list[dict[str, Any]], adulthood_section: bool, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Sections in display order, at most ``limit`` items in all; and how many were left out."""
    groups: dict[str, list[dict[str, Any]]] = {"adulthood": [], NEW: [], CHANGED: [], REMOVED: []}
    for item in items:
        if adulthood_section and item.get("adulthood") and item["group"] != REMOVED:
            groups["adulthood"].append(item)
        else:
            groups[item["group"]].append(item)
    sections = []
    shown = 0
    for kind in ("adulthood", NEW, CHANGED, REMOVED):
        chosen = groups[kind][: max(0, limit - shown)]
        shown += len(chosen)
        if chosen:
            sections.append({"kind": kind, "heading": HEADINGS[kind], "entries": chosen})
    return sections, len(items) - shown


def headline(items: list[dict[str, Any]]) -> str:
    """Key fact first: "2 new services and 1 change"."""
    new = sum(1 for i in items if i["group"] == NEW)
    changed = sum(1 for i in items if i["group"] == CHANGED)
    gone = sum(1 for i in items if i["group"] == REMOVED)
    parts = []
    if new:
        parts.append(f"{new} new service{'s' if new != 1 else ''}")
    if changed:
        parts.append(f"{changed} change{'s' if changed != 1 else ''}")
    if gone:
        parts.append(f"{gone} service{'s' if gone != 1 else ''} gone")
    if not parts:
        return "No news"
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return text[0].upper() + text[1:]


@dataclass(frozen=True)
class RenderedVariant:
    subject: str
    text: str
    html: str | None

    def personalise(self, manage_url: str, unsubscribe_url: str) -> tuple[str, str | None]:
        text = self.text.replace(MANAGE, manage_url).replace(UNSUBSCRIBE, unsubscribe_url)
        html = None
        if self.html is not None:
            html = self.html.replace(MANAGE, str(escape(manage_url))).replace(
                UNSUBSCRIBE, str(escape(unsubscribe_url))
            )
        return text, html


def render_variant(
    view: EditionView, item_indexes: list[int], adulthood_section: bool, limit: int, with_html: bool
) -> RenderedVariant:
    items = [view.items[i] for i in item_indexes]
    sections, more = sections_for(items, adulthood_section, limit)
    context = {
        "council_name": get_settings().council_name,
        "headline": headline(items),
        "period": view.period,
        "web_url": view.web_url,
        "sections": sections,
        "more": more,
        "manage_url": MANAGE,
        "unsubscribe_url": UNSUBSCRIBE,
    }
    subject_t, text_t, html_t = _templates()
    subject = " ".join(subject_t.render(context).split())
    text = text_t.render(context)
    html = html_t.render(context) if with_html else None
    return RenderedVariant(subject=subject, text=text, html=html)
