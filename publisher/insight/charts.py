"""Charts as SVG made on the server: no script, no library, readable at 320 px.

Each chart is drawn in a 320-unit-wide viewBox and scales to its box, so at 320 px one
unit is one pixel and its 12-unit text is 12 px; on a wide screen it grows. Every chart
carries a <title> and <desc> (role="img"); pages put the same numbers in a table beside
it and say what matters in words, so no chart is the only way to get a number.
Colours have at least 3:1 contrast with white (WCAG 1.4.11), and series differ by more
than colour (labels, patterns, markers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 320
FONT = 12
INK = "#0b0c0c"
GRID = "#6f777b"
BLUE = "#1d4f91"
# One colour per series, each >= 3:1 against white, told apart by the legend's labels too.
SERIES_COLOURS = ("#1d4f91", "#00703c", "#b1290a", "#6f3092", "#594d00", "#505a5f")


def _svg(height: int, ident: str, title: str, desc: str, body: str) -> Markup:
    # Every text in ``body`` went through escape() (see _text); numbers are ours.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'font-family="Arial, Helvetica, sans-serif" font-size="{FONT}" class="chart">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
        f"{body}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{INK}"{extra}>'
        f"{escape(text)}</text>"
    )


def line_chart(
    ident: str, labels: Sequence[str], values: Sequence[float | None], *, title: str, desc: str
) -> Markup:
    """A percentage over time (0 to 100); a missing value leaves a gap."""
    left, right, top, bottom = 40, 12, 10, 34
    height = 200
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    parts = []
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(
            f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="{1 if pct else 2}" '
            f'stroke-dasharray="{"none" if pct == 0 else "2 3"}"/>'
        )
        parts.append(_text(left - 4, y + 4, f"{pct}%", "end"))
    n = len(values)
    step = plot_w / max(n - 1, 1)
    segment: list[str] = []
    segments = []
    for i, value in enumerate(values):
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        x, y = left + i * step, top + plot_h * (1 - max(0.0, min(value, 100.0)) / 100)
        segment.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{BLUE}"/>')
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) > 1:
            parts.append(
                f'<polyline points="{" ".join(seg)}" fill="none" stroke="{BLUE}" stroke-width="3"/>'
            )
    for i in sorted({0, n // 2, n - 1}) if n else []:
        anchor = "start" if i == 0 else ("end" if i == n - 1 else "middle")
        parts.append(_text(left + i * step, height - bottom + 18, labels[i], anchor))
    return _svg(height, ident, title, desc, "".join(parts))


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]


def stacked_bars(
    ident: str, labels: Sequence[str], series: Sequence[Series], *, title: str, desc: str
) -> Markup:
    """Counts per period, one stacked bar per period (the legend is beside, in HTML)."""
    left, right, top, bottom = 40, 8, 10, 34
    height = 210
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top_value = _nice_max(max(totals, default=0))
    parts = []
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}" '
            f'stroke-width="{2 if frac == 0 else 1}"/>'
        )
        parts.append(_text(left - 4, y + 4, f"{round(top_value * frac):,}", "end"))
    n = max(len(labels), 1)
    slot = plot_w / n
    bar = max(slot * 0.7, 2)
    for i in range(len(labels)):
        x = left + i * slot + (slot - bar) / 2
        base = float(top + plot_h)
        for k, s in enumerate(series):
            value = s.values[i]
            if not value:
                continue
            h = plot_h * value / top_value
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{SERIES_COLOURS[k % len(SERIES_COLOURS)]}" stroke="#fff" stroke-width="1"/>'
            )
    every = max(1, -(-len(labels) // 4))  # at most about 4 labels fit at 320 px
    for i in range(0, len(labels), every):
        parts.append(_text(left + i * slot + slot / 2, height - bottom + 18, labels[i], "middle"))
    return _svg(height, ident, title, desc, "".join(parts))


def _nice_max(value: int) -> int:
    if value <= 4:
        return 4
    for step in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if value <= step * 4:
            return -(-value // step) * step
    return value


@dataclass(frozen=True)
class Cell:
    count: int
    level: str  # "empty", "thin" or "ok"


def heat_grid(
    ident: str,
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[Cell]],
    *,
    title: str,
    desc: str,
) -> Markup:
    """A grid of counts: darker for more; thin cells hatched, empty cells crossed out."""
    label_w, cell_h, head = 112, 40, 22
    cell_w = (WIDTH - label_w - 4) / max(len(columns), 1)
    height = head + cell_h * len(rows) + 4
    high = max((c.count for row in cells for c in row), default=0) or 1
    parts = [_hatch(ident)]
    for j, col in enumerate(columns):
        parts.append(
            _text(label_w + j * cell_w + cell_w / 2, 15, col, "middle", font_weight="bold")
        )
    for i, row in enumerate(rows):
        y = head + i * cell_h
        words = row.split()
        first, second = _two_lines(words)
        parts.append(_text(0, y + (16 if second else 24), first))
        if second:
            parts.append(_text(0, y + 30, second))
        for j, cell in enumerate(cells[i]):
            x = label_w + j * cell_w
            if cell.level == "empty":
                fill, text_fill = "#fff", INK
            elif cell.level == "thin":
                fill, text_fill = f"url(#{ident}-hatch)", INK
            else:
                share = cell.count / high
                fill, text_fill = ("#1d4f91", "#fff") if share > 0.5 else ("#c6d6ea", INK)
            empty = cell.level == "empty"
            outline = (
                'stroke="#b1290a" stroke-width="2" stroke-dasharray="4 3"'
                if empty
                else f'stroke="{INK}" stroke-width="1"'
            )
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{y + 1}" width="{cell_w - 2:.1f}" '
                f'height="{cell_h - 2}" fill="{fill}" {outline}/>'
            )
            label = "none" if empty else f"{cell.count:,}"
            weight = "bold" if cell.level != "ok" else "normal"
            halo = (
                ' paint-order="stroke" stroke="#fff" stroke-width="3"'
                if cell.level == "thin"
                else ""
            )
            parts.append(
                f'<text x="{x + cell_w / 2:.1f}" y="{y + cell_h / 2 + 4}" text-anchor="middle" '
                f'fill="{text_fill}" font-weight="{weight}"{halo}>{escape(label)}</text>'
            )
    return _svg(height, ident, title, desc, "".join(parts))


def _hatch(ident: str) -> str:
    """Red diagonal lines on white: how thin cells and bars are marked (not colour alone)."""
    return (
        f'<defs><pattern id="{ident}-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#fff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#b1290a" stroke-width="2"/></pattern></defs>'
    )


def _two_lines(words: list[str], width: int = 16) -> tuple[str, str]:
    first: list[str] = []
    for n, word in enumerate(words):
        if first and len(" ".join([*first, word])) > width:
            rest = " ".join(words[n:])
            return " ".join(first), (rest if len(rest) <= width + 2 else rest[:width] + "…")
        first.append(word)
    return " ".join(first), ""


def bar_list(
    ident: str,
    labels: Sequence[str],
    values: Sequence[int],
    levels: Sequence[str],
    *,
    title: str,
    desc: str,
) -> Markup:
    """Horizontal bars, the label above each, the count after it; thin bars hatched."""
    row_h = 38
    height = row_h * len(labels) + 6
    top_value = max(values, default=0) or 1
    span = WIDTH - 60
    parts = [_hatch(ident)]
    for i, (label, value, level) in enumerate(zip(labels, values, levels, strict=True)):
        y = i * row_h
        parts.append(_text(0, y + 13, label))
        w = max(span * value / top_value, 3)
        fill = BLUE if level == "ok" else f"url(#{ident}-hatch)"
        stroke = INK if level != "empty" else "#b1290a"
        parts.append(
            f'<rect x="0" y="{y + 18}" width="{w:.1f}" height="14" '
            f'fill="{fill}" stroke="{stroke}"/>'
        )
        shown = "none" if level == "empty" else f"{value:,}"
        parts.append(_text(w + 6, y + 30, shown, font_weight="bold" if level != "ok" else "normal"))
    return _svg(height, ident, title, desc, "".join(parts))
