"""What each email says: rendered once per distinct content, personalised by links only.

Three templates in templates/email/edition/: subject.txt and body.txt rendered with
autoescape OFF (so "&" stays "&" in text/plain), body.html with autoescape on. The HTML
template's CSS is inlined once, when the template is loaded, with css-inline, not once
per message. A variant's body is rendered with placeholder links; each subscriber's
message only swaps in their own manage and unsubscribe links.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup, escape

from publisher.config import get_settings
from publisher.mail.message import PIECE, EncodedParts, QpTemplate, encode_open
from publisher.models import Frequency
from publisher.newsletters.items import CHANGED, NEW, REMOVED, needs_note_applies
from publisher.newsletters.windows import describe

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
FOLDER = "email/edition"
MANAGE = "@@LOP_MANAGE_URL@@"
UNSUBSCRIBE = "@@LOP_UNSUBSCRIBE_URL@@"
HOLES = (MANAGE, UNSUBSCRIBE)
BULLETIN = "bulletin"  # written by the council (publisher.bulletins), always first
DID_YOU_KNOW = "didyouknow"  # one existing service in monthly emails, always last
YOU_SAID_WE_DID = "yswd"  # families' comments and the council's answers, if asked for
HEADINGS = {
    YOU_SAID_WE_DID: "You said, we did",
    DID_YOU_KNOW: "Did you know?",
    BULLETIN: "From the Local Offer team",
    "adulthood": "16-25: preparing for adulthood",
    NEW: "New services",
    CHANGED: "Services that have changed",
    REMOVED: "Services no longer available",
}


@dataclass(frozen=True)
class Templates:
    subject: Template
    body_text: Template
    body_html: Template
    item_text: Template
    item_html: Template


@functools.cache
def _templates() -> Templates:
    loader = FileSystemLoader(str(TEMPLATES))
    # Plain text: autoescape would put &lt; into text/plain.
    text_env = Environment(
        loader=loader,
        autoescape=False,  # noqa: S701
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    html_env = Environment(loader=loader, autoescape=True, undefined=StrictUndefined)
    body = (TEMPLATES / FOLDER / "body.html").read_text(encoding="utf-8")
    item = (TEMPLATES / FOLDER / "item.html").read_text(encoding="utf-8")
    # Inline the CSS into the templates once, not into each message: the Jinja tags sit
    # in text positions and attribute values, which the inliner leaves as they are. Items
    # are inlined with the stylesheet of body.html, so there is one stylesheet.
    css = "\n".join(re.findall(r"<style>(.*?)</style>", body, flags=re.S))
    return Templates(
        subject=text_env.get_template(f"{FOLDER}/subject.txt"),
        body_text=text_env.get_template(f"{FOLDER}/body.txt"),
        body_html=html_env.from_string(css_inline.inline(body)),
        item_text=text_env.get_template(f"{FOLDER}/item.txt"),
        item_html=html_env.from_string(css_inline.inline_fragment(item, css)),
    )


@dataclass(frozen=True)
class EditionView:
    """What every variant of one edition shares."""

    edition_id: int
    frequency: Frequency
    period: str
    web_url: str
    items: list[dict[str, Any]]
    # Each item rendered once per edition (and per process), keyed by (index, adulthood,
    # needs note): a variant's body is then a join of fragments, whatever its subscribers
    # chose. The needs note is True only for an item that shows it (needs_note_applies).
    fragments: dict[tuple[int, bool, bool], tuple[str, Markup]] = field(default_factory=dict)
    # The same fragments in quoted-printable (publisher.mail.message.encode_open), keyed
    # by (fragment number, HTML?): a variant's encoded body reuses them.
    encoded: dict[tuple[int, bool], bytes] = field(default_factory=dict)

    def fragment(self, index: int, adulthood: bool, needs_note: bool = False) -> tuple[str, Markup]:
        """Item ``index`` as text and HTML; ``needs_note`` for readers who chose a need
        (the item then says why it is there if it names no need)."""
        key = (index, adulthood, needs_note and self.shows_note(index))
        found = self.fragments.get(key)
        if found is None:
            t = _templates()
            item = self.items[index]
            context = {
                "item": item,
                "adulthood": adulthood,
                "needs_note": key[2],
                # Parents' "Is this wrong? Tell us" (issue 9, publisher.web.report).
                "report_url": f"{get_settings().public_base_url}/report/{item.get('change_id')}",
            }
            # Safe: the output of our own autoescaping template.
            found = (t.item_text.render(context), Markup(t.item_html.render(context)))  # noqa: S704
            self.fragments[key] = found
        return found

    def shows_note(self, index: int) -> bool:
        return needs_note_applies(self.items[index])

    # Variants are rendered with a marker per fragment ("\x00<number>\x00", the number
    # being 4 * item index + 2 * needs note + adulthood), not the fragment itself.
    def marker(self, index: int, adulthood: bool, needs_note: bool = False) -> str:
        note = needs_note and self.shows_note(index)
        return f"\x00{4 * index + 2 * int(note) + int(adulthood)}\x00"

    def _by_number(self, number: int) -> tuple[str, Markup]:
        return self.fragment(number // 4, bool(number & 1), bool(number & 2))

    def piece(self, number: int, html: bool) -> bytes:
        """Fragment ``number`` (text or HTML), encoded once for the whole edition."""
        key = (number, html)
        found = self.encoded.get(key)
        if found is None:
            found = self.encoded[key] = encode_open(self._by_number(number)[int(html)])
        return found

    def expand(self, marked: str, html: bool) -> str:
        """A variant's text with every marker replaced by its fragment."""
        return PIECE.sub(lambda m: self._by_number(int(m.group(1)))[int(html)], marked)


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
    """Sections in display order, at most ``limit`` items in all; and how many were left out.
    Each section's ``entries`` are (position in ``items``, item) pairs."""
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {
        BULLETIN: [],
        "adulthood": [],
        NEW: [],
        CHANGED: [],
        REMOVED: [],
        YOU_SAID_WE_DID: [],
        DID_YOU_KNOW: [],
    }
    for position, item in enumerate(items):
        if adulthood_section and item.get("adulthood") and item["group"] != REMOVED:
            groups["adulthood"].append((position, item))
        else:
            groups[item["group"]].append((position, item))
    sections = []
    shown = 0
    for kind in (BULLETIN, "adulthood", NEW, CHANGED, REMOVED, YOU_SAID_WE_DID, DID_YOU_KNOW):
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
    told = sum(1 for i in items if i["group"] == BULLETIN)
    parts = []
    if told:
        parts.append(f"{told} message{'s' if told != 1 else ''} from the Local Offer team")
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
    """One variant's subject and bodies, with a marker for each item's fragment (see
    EditionView.marker) and placeholders for the subscriber's own links."""

    subject: str
    text: str
    html: str | None
    view: EditionView = field(compare=False, repr=False)

    def personalise(self, manage_url: str, unsubscribe_url: str) -> tuple[str, str | None]:
        """Text and HTML with this subscriber's links (for Notify, which wants text)."""
        text = self.view.expand(self.text, html=False)
        text = text.replace(MANAGE, manage_url).replace(UNSUBSCRIBE, unsubscribe_url)
        html = None
        if self.html is not None:
            html = self.view.expand(self.html, html=True)
            html = html.replace(MANAGE, str(escape(manage_url))).replace(
                UNSUBSCRIBE, str(escape(unsubscribe_url))
            )
        return text, html

    def encoded(self, manage_url: str, unsubscribe_url: str) -> EncodedParts:
        """Both parts with this subscriber's links, already quoted-printable (for SMTP
        and the outbox): the variant is encoded once, only the links per message."""
        text = self._text_qp.fill({MANAGE: manage_url, UNSUBSCRIBE: unsubscribe_url})
        if self._html_qp is None:
            return EncodedParts(text)
        html = self._html_qp.fill(
            {MANAGE: str(escape(manage_url)), UNSUBSCRIBE: str(escape(unsubscribe_url))}
        )
        return EncodedParts(text, html)

    # Built on first use, then kept with the variant (cached_property writes the
    # instance's __dict__, which a frozen dataclass allows).
    @functools.cached_property
    def _text_qp(self) -> QpTemplate:
        return QpTemplate(self.text, HOLES, functools.partial(self.view.piece, html=False))

    @functools.cached_property
    def _html_qp(self) -> QpTemplate | None:
        if self.html is None:
            return None
        return QpTemplate(self.html, HOLES, functools.partial(self.view.piece, html=True))


def render_variant(
    view: EditionView,
    item_indexes: list[int],
    adulthood_section: bool,
    limit: int,
    with_html: bool,
    needs_note: bool = False,
) -> RenderedVariant:
    """One variant's email; ``needs_note`` (the variant's readers chose a need) makes each
    service that names no need say why it is there."""
    items = [view.items[i] for i in item_indexes]
    sections, more = sections_for(items, adulthood_section, limit)
    for section in sections:
        in_adulthood = section["kind"] == "adulthood"
        markers = [
            view.marker(item_indexes[pos], in_adulthood, needs_note)
            for pos, _ in section["entries"]
        ]
        section["text"] = markers
        section["html"] = [Markup(m) for m in markers]  # noqa: S704 (digits and NUL only)
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
    t = _templates()
    subject = " ".join(t.subject.render(context).split())
    text = t.body_text.render(context)
    html = t.body_html.render(context) if with_html else None
    return RenderedVariant(subject=subject, text=text, html=html, view=view)
