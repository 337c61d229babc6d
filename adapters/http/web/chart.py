"""A story's sends per second, as a small SVG drawn on the server.

No chart library and no script: bars as rects, two axis labels, a title
that says the figures in words. Styled only through classes (the page's
Content-Security-Policy allows no inline style).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape

MIN_BARS = 10
BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)


def _bucket(span: float, max_bars: int) -> int:
    for seconds in BUCKETS:
        if span / seconds < max_bars:
            return seconds
    return BUCKETS[-1] * math.ceil(span / (BUCKETS[-1] * max_bars))


def _per(seconds: int) -> str:
    if seconds == 1:
        return "per second"
    if seconds == 60:
        return "per minute"
    if seconds % 3600 == 0:
        return f"per {seconds // 3600} h"
    if seconds % 60 == 0:
        return f"per {seconds // 60} min"
    return f"per {seconds} s"


def _span_words(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def sends_chart_svg(sent_at: Sequence[datetime], *, width: int = 640, height: int = 180, max_bars: int = 120) -> str:
    """`sent_at`: when each push went out, in any order."""
    if not sent_at:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} 40" role="img" aria-labelledby="chart-title">'
            '<title id="chart-title">Nothing sent yet</title>'
            f'<text class="label" x="{width // 2}" y="24" text-anchor="middle">Nothing sent yet</text></svg>'
        )
    moments = sorted(sent_at)
    first = moments[0]
    span = (moments[-1] - first).total_seconds() + 1
    bucket = _bucket(span, max_bars)
    # At least MIN_BARS slots, so that a fan-out of a second or two is a bar, not a wall.
    counts = [0] * max(MIN_BARS, math.ceil(span / bucket))
    for moment in moments:
        counts[min(len(counts) - 1, int((moment - first).total_seconds() // bucket))] += 1
    peak = max(counts)
    left, right, top, bottom = 44, 8, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / len(counts)
    per = _per(bucket)
    title = f"Sends {per}: {len(moments):,} in {_span_words(span)}, peak {peak:,} {per}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        'aria-labelledby="chart-title">',
        f'<title id="chart-title">{escape(title)}</title>',
    ]
    for i, count in enumerate(counts):
        if not count:
            continue
        bar_h = plot_h * count / peak
        parts.append(
            f'<rect class="bar" x="{left + i * step:.2f}" y="{top + plot_h - bar_h:.2f}" '
            f'width="{max(step - 1, 0.5):.2f}" height="{bar_h:.2f}"><title>{count:,}</title></rect>'
        )
    base = top + plot_h
    parts += [
        f'<path class="axis" d="M{left} {top} V{base} H{width - right}"></path>',
        f'<text class="label" x="{left - 6}" y="{top + 8}" text-anchor="end">{peak:,}</text>',
        f'<text class="label" x="{left - 6}" y="{base}" text-anchor="end">0</text>',
        f'<text class="label" x="{left}" y="{height - 8}">{escape(first.strftime("%H:%M:%S"))} UTC</text>',
        f'<text class="label" x="{width - right}" y="{height - 8}" text-anchor="end">'
        f"+{escape(_span_words(span))} · {escape(per)}</text>",
        "</svg>",
    ]
    return "".join(parts)
