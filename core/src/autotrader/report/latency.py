"""Fill-latency statistics and histogram bins, in a unit that suits the run (µs, ms or s).

The tail of a latency distribution is what matters and also what ruins a histogram's scale, so
with enough samples the bins stop at the 99th percentile and the slower 1 % are counted in the
last bin (its label says so).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

from autotrader.report.svg import Bar

__all__ = ["LatencyHistogram", "latency_histogram"]

_UNITS = (("µs", 1e6), ("ms", 1e3), ("s", 1.0))
_TAIL_SAMPLES = 100
_MAX_BINS = 30


@attrs.frozen
class LatencyHistogram:
    unit: str
    bars: list[Bar]
    stats: list[tuple[str, str]]
    """(name, value with unit): count, p50, p95, p99, max."""


def _unit(largest_seconds: float) -> tuple[str, float]:
    for name, factor in _UNITS:
        if largest_seconds * factor < 1000:
            return name, factor
    return _UNITS[-1]


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latency_histogram(latencies_seconds: Sequence[float]) -> LatencyHistogram:
    values = sorted(v for v in latencies_seconds if math.isfinite(v) and v >= 0)
    if not values:
        return LatencyHistogram(unit="ms", bars=[], stats=[("fills timed", "0")])
    p99 = _percentile(values, 0.99)
    upper = p99 if len(values) >= _TAIL_SAMPLES and p99 > 0 else values[-1]
    unit, factor = _unit(values[-1])
    stats = [("fills timed", str(len(values)))]
    for name, seconds in (
        ("p50", _percentile(values, 0.5)),
        ("p95", _percentile(values, 0.95)),
        ("p99", p99),
        ("max", values[-1]),
    ):
        stats.append((name, f"{seconds * factor:,.3g} {unit}"))
    low = values[0] * factor
    high = upper * factor
    bins = max(1, min(_MAX_BINS, round(math.sqrt(len(values)))))
    if high <= low:
        high = low + 1.0 if low == 0 else low * 1.01
    width = (high - low) / bins
    counts = [0] * bins
    for value in values:
        index = min(bins - 1, int((value * factor - low) / width))
        counts[index] += 1
    overflow = values[-1] > upper
    bars = []
    for i, count in enumerate(counts):
        start, end = low + i * width, low + (i + 1) * width
        more = " or slower" if overflow and i == bins - 1 else ""
        bars.append(Bar(start, end, count, f"{start:,.3g}-{end:,.3g} {unit}{more}: {count} fills"))
    return LatencyHistogram(unit=unit, bars=bars, stats=stats)
