"""Plain text from the HTML and mojibake that real directories publish."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import ftfy

# Tags that end a line of text; everything else is inline.
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "blockquote",
        "section",
        "article",
        "header",
        "footer",
        "dd",
        "dt",
        "pre",
        "hr",
    }
)
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            # Newlines in HTML text are layout, like spaces; blocks make the lines.
            self.parts.append(data.replace("\n", " "))


def clean_text(value: str) -> str:
    """Repair mojibake (``Â£`` -> ``£``) and entities, and tidy the spaces."""
    fixed = ftfy.fix_text(value, unescape_html=True, normalization="NFC")
    lines = [_SPACES.sub(" ", line).strip() for line in fixed.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# Characters that change how text around them is shown rather than being text: C0 and C1
# controls (a newline in a name would put "Bcc: ..." lines into emails and posts), line
# and paragraph separators, and bidirectional overrides and isolates (U+202E shows
# "exe.txt" as "txt.exe"). Zero-width joiners stay: emoji sequences need them.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
ELLIPSIS = "\u2026"
# Longest name or short field we keep (feed titles, subject lines, posts, the console).
SHORT_FIELD_MAX = 200
# Longest description we keep; longer ones end with an ellipsis.
DESCRIPTION_MAX = 5000


def without_invisible(value: str) -> str:
    """``value`` with control, separator and bidi characters removed (newlines kept)."""
    return _INVISIBLE.sub("", value)


def cap(value: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word where possible, ending with "…"."""
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + ELLIPSIS


def single_line(value: str, limit: int = SHORT_FIELD_MAX) -> str:
    """A name or short field from a directory, safe to put in a header, a title, a post
    or a CSV cell: repaired, one line, no control or bidi characters, at most ``limit``
    characters."""
    text = without_invisible(clean_text(without_invisible(value.replace("\n", " "))))
    return cap(" ".join(text.split()), limit)


def description_text(value: str, limit: int = DESCRIPTION_MAX) -> str:
    """A description: lines and paragraphs kept, control and bidi characters removed,
    at most ``limit`` characters."""
    return cap(without_invisible(html_to_text(without_invisible(value))), limit)


def html_to_text(value: str) -> str:
    """Text of an HTML fragment: one blank line between blocks, markup and scripts gone.

    The same words in different markup give the same text, so a redesign of the
    provider's description is not reported as a change.
    """
    if "<" not in value and "&" not in value:
        return clean_text(value)
    collector = _TextCollector()
    try:
        collector.feed(value)
        collector.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        return clean_text(re.sub(r"<[^>]*>", " ", value))
    blocks = (_SPACES.sub(" ", b).strip() for b in "".join(collector.parts).split("\n"))
    return clean_text("\n\n".join(b for b in blocks if b))
