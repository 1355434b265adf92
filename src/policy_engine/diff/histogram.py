"""Bins of per-decision money deltas, for the report's chart and ``--json``.

With few distinct deltas (a cap that moved, a floor that rose) every delta gets its own bar; otherwise the
range is cut into at most about 20 equal bins of a round width (1, 2, 2.5 or 5 times a power of ten yuan),
starting at a multiple of that width.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

__all__ = ("MAX_BINS", "Bin", "bins")

MAX_BINS = 20
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Bin:
    """Decisions whose delta is in ``[low, high)``; a bin of one value has ``low == high``."""

    low: Decimal
    high: Decimal
    count: int

    @property
    def label(self) -> str:
        """``+70.00`` for one value, ``+10.00 … +15.00`` for a range."""
        if self.low == self.high:
            return f"{self.low:+,.2f}"
        return f"{self.low:+,.2f} … {self.high:+,.2f}"

    @property
    def short_label(self) -> str:
        """The value, or where the range starts (an axis label)."""
        return f"{self.low:+,.2f}"

    def to_json(self) -> dict[str, object]:
        """The bin as data."""
        return {"from": f"{self.low:.2f}", "to": f"{self.high:.2f}", "count": self.count}


def _round_width(raw: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 × 10^k (k ≥ -2) that is at least ``raw``."""
    magnitude = _CENT
    while True:
        for step in (1, 2, Decimal("2.5"), 5):
            width = magnitude * step
            if width >= raw:
                return width
        magnitude *= 10


def bins(deltas: Counter[Decimal], max_bins: int = MAX_BINS) -> list[Bin]:
    """Histogram bins of the deltas (each delta → how many decisions), ordered from low to high."""
    values = sorted(v for v, n in deltas.items() if n > 0)
    if not values:
        return []
    if len(values) <= max_bins:
        return [Bin(v, v, deltas[v]) for v in values]
    low, high = values[0], values[-1]
    width = _round_width((high - low) / max_bins)
    start = (low / width).to_integral_value(rounding=ROUND_FLOOR) * width
    count = int((high - start) // width) + 1
    counts = [0] * count
    for value, n in deltas.items():
        counts[min(int((value - start) // width), count - 1)] += n
    return [Bin(start + width * i, start + width * (i + 1), counts[i]) for i in range(count)]
