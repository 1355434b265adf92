"""An inline SVG bar chart of a histogram of money deltas (no script, no external resource)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from policy_engine.diff.histogram import Bin

__all__ = ("histogram_svg",)

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 64, 28, 80


def _nice_max(value: int) -> int:
    """A round number at least ``value`` for the top of the axis."""
    if value <= 5:
        return max(value, 1)
    magnitude: int = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 5, 10):
        top = step * magnitude
        if top >= value:
            return top
    return value


def histogram_svg(bins: Sequence[Bin], title: str) -> str:
    """The chart: one bar per bin, its height the number of decisions; increases blue, decreases orange."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_max(max((b.count for b in bins), default=0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
        f'<text x="{LEFT}" y="18" class="chart-title">{escape(title)}</text>',
    ]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{value:,.0f}</text>'
        )
    slot = plot_w / max(len(bins), 1)
    bar_w = max(slot * 0.8, 1.0)
    for index, item in enumerate(bins):
        height = plot_h * item.count / top
        x = LEFT + slot * index + (slot - bar_w) / 2
        y = TOP + plot_h - height
        tone = "up" if item.high > 0 else "down"
        label = escape(item.label)
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" class="bar {tone}">'
            f"<title>{label}: {item.count:,} decision(s)</title></rect>"
        )
        cx, ly = x + bar_w / 2, TOP + plot_h + 10
        parts.append(
            f'<text x="{cx:.1f}" y="{ly:.1f}" transform="rotate(45 {cx:.1f} {ly:.1f})" class="tick">'
            f"{escape(item.short_label)}</text>"
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" class="axis"/>'
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle" class="axis-label">'
        "delta per decision (yuan; a range is labelled by where it starts)</text>"
        f'<text x="14" y="{TOP + plot_h / 2:.1f}" transform="rotate(-90 14 {TOP + plot_h / 2:.1f})" '
        'text-anchor="middle" class="axis-label">decisions</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
