"""A bulletin's body: what an officer types, made safe once (on save), in HTML and text.

Officers type short paragraphs (a blank line between them), lists (lines starting "- ",
"* " or "1. "), links as bare addresses or ``[words](https://...)``. Pasted HTML is
accepted too. Either way the result goes through nh3 with a short list of tags
(paragraphs, lists, links, bold, italic): scripts, styles, event handlers and other
addresses than http(s) and mailto are removed, never shown. The stored HTML is what
emails, pages and feeds use; the plain text is made from it for text/plain parts.
"""

from __future__ import annotations

import html
import re
import textwrap
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

MAX_SOURCE = 5000
MAX_TITLE = 120
TAGS = {"p", "ul", "ol", "li", "a", "strong", "em", "br"}
ATTRIBUTES = {"a": {"href"}}
SCHEMES = {"http", "https", "mailto"}
_HTML_HINT = re.compile(r"<\s*/?\s*(p|ul|ol|li|a|strong|em|br|div|span|b|i|h[1-6])\b[^>]*>", re.I)
_DANGEROUS_BLOCK = re.compile(
    r"<\s*(script|style|iframe|object|embed|template)\b.*?(<\s*/\s*\1\s*>|$)", re.I | re.S
)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>")
_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((https?://[^\s)]{1,2000}|mailto:[^\s)]{1,320})\)")
_BARE = re.compile(r"(?<![\"'=(>])\b(https?://[^\s<]{1,2000}[^\s<.,;:!?)\]])")
_BULLET = re.compile(r"^\s*[-*•]\s+(.*)$")
_NUMBER = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")
_UNSAFE = re.compile(r"<\s*(script|style|iframe|object|embed)|\son\w+\s*=|javascript:", re.I)
WRAP = 72


@dataclass(frozen=True)
class Body:
    source: str
    html: str
    text: str
    removed: bool  # something unsafe (a script, a handler, a javascript: link) was dropped


def _inline(line: str) -> str:
    """One line of typed text as HTML: escaped, with its links made into <a>."""
    out = []
    pos = 0
    for m in _LINK.finditer(line):
        out.append(_bare_links(html.escape(line[pos : m.start()], quote=False)))
        out.append(
            f'<a href="{html.escape(m.group(2))}">{html.escape(m.group(1), quote=False)}</a>'
        )
        pos = m.end()
    out.append(_bare_links(html.escape(line[pos:], quote=False)))
    return "".join(out)


def _bare_links(escaped: str) -> str:
    return _BARE.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', escaped)


def _from_typed(source: str) -> str:
    blocks = re.split(r"\n\s*\n", source.replace("\r\n", "\n").strip())
    parts = []
    for block in blocks:
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if all(_BULLET.match(line) for line in lines):
            items = "".join(f"<li>{_inline(_BULLET.match(x).group(1))}</li>" for x in lines)  # type: ignore[union-attr]
            parts.append(f"<ul>{items}</ul>")
        elif all(_NUMBER.match(line) for line in lines):
            items = "".join(f"<li>{_inline(_NUMBER.match(x).group(1))}</li>" for x in lines)  # type: ignore[union-attr]
            parts.append(f"<ol>{items}</ol>")
        else:
            parts.append("<p>" + "<br>".join(_inline(line.strip()) for line in lines) + "</p>")
    return "".join(parts)


def _clean(markup: str) -> str:
    return nh3.clean(
        markup,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


class _Text(HTMLParser):
    """Safe HTML (our tag list only) to plain text: paragraphs apart, "- " for list
    items, "words (address)" for links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, bool]] = []  # (text, a list item?)
        self.current: list[str] = []
        self.href: str | None = None
        self.link_words: list[str] = []
        self.lists: list[list[int]] = []  # a counter per open list; [-1] when unordered

    def _flush(self, prefix: str = "") -> None:
        words = " ".join("".join(self.current).split())
        if words:
            if prefix:
                indent = " " * len(prefix)
                filled = textwrap.fill(
                    words,
                    WRAP,
                    initial_indent=prefix,
                    subsequent_indent=indent,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
                self.blocks.append((filled, True))
            else:
                self.blocks.append(
                    (
                        textwrap.fill(words, WRAP, break_long_words=False, break_on_hyphens=False),
                        False,
                    )
                )
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"p", "ul", "ol"}:
            self._flush()
        if tag == "ul":
            self.lists.append([-1])
        elif tag == "ol":
            self.lists.append([0])
        elif tag == "li":
            self._flush()
        elif tag == "br":
            self.current.append("\n")
        elif tag == "a":
            self.href = dict(attrs).get("href")
            self.link_words = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            counter = self.lists[-1] if self.lists else [-1]
            if counter[0] >= 0:
                counter[0] += 1
                prefix = f"{counter[0]}. "
            else:
                prefix = "- "
            self._flush(prefix)
        elif tag in {"ul", "ol"}:
            self._flush()
            if self.lists:
                self.lists.pop()
        elif tag == "p":
            self._flush()
        elif tag == "a":
            words = " ".join("".join(self.link_words).split())
            if self.href and words != self.href:
                self.current.append(f" ({self.href})")
            self.href = None

    def handle_data(self, data: str) -> None:
        self.current.append(data)
        if self.href is not None:
            self.link_words.append(data)

    def text(self) -> str:
        self._flush()
        out = ""
        previous_item = False
        for text, item in self.blocks:
            if out:
                out += "\n" if item and previous_item else "\n\n"
            out += text
            previous_item = item
        return out


def to_text(safe_html: str) -> str:
    parser = _Text()
    parser.feed(safe_html)
    parser.close()
    return parser.text()


def make_body(source: str) -> Body:
    """The body from what the officer typed (or pasted). Raises nothing: the caller
    checks the length and that something is left."""
    source = source.replace("\x00", "")
    if _HTML_HINT.search(source):
        # nh3 drops tags it does not allow; a script's contents go with it.
        cleaned = _clean(source)
        removed = bool(_UNSAFE.search(source))
    else:
        # Typed text: drop anything that looks like markup (a script and its contents,
        # any other tag), then escape the rest, so "ages <5" stays as typed.
        typed, blocks = _DANGEROUS_BLOCK.subn("", source)
        typed, tags = _TAG.subn("", typed)
        cleaned = _clean(_from_typed(typed))
        removed = bool(blocks or tags)
    return Body(source=source, html=cleaned, text=to_text(cleaned), removed=removed)


def summary(text: str, limit: int = 280) -> str:
    words = " ".join(text.split())
    if len(words) <= limit:
        return words
    return words[: limit - 1].rsplit(" ", 1)[0] + "…"


def public_url(bulletin_id: int) -> str:
    """Where a bulletin is on the public site (editions, feeds and posts link there)."""
    from publisher.config import get_settings

    return f"{get_settings().public_base_url}/bulletins/{bulletin_id}"
