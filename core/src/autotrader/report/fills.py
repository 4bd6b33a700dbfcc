"""Which bar each fill happened in, so fills can be marked on the price chart.

A :class:`~autotrader.model.Fill` carries the venue's wall-clock time, not the replayed bar's
time, so the bar is recovered from the per-bar position samples: fills arrive in order, and the
position sampled after bar *i* equals the running sum of the signed fills so far.  Each bar whose
position moved takes the fills up to the first point where that running sum reaches the sampled
position.  Fills that no bar accounts for (the flattening orders after the last bar) are placed at
the last bar, which is when they happened.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs

from autotrader.model import ZERO, Fill
from autotrader.runner import RunRecord

__all__ = ["PlacedFill", "place_fills"]


@attrs.frozen
class PlacedFill:
    bar_time: Any
    fill: Fill


def place_fills(record: RunRecord) -> list[PlacedFill]:
    """Every fill of a symbol with recorded positions, paired with the bar time it happened in."""
    by_symbol: dict[str, list[Fill]] = {}
    for fill in record.fills:
        by_symbol.setdefault(fill.symbol, []).append(fill)
    placed: list[PlacedFill] = []
    for symbol, fills in by_symbol.items():
        samples = record.positions.get(symbol, [])
        if samples:
            placed.extend(_place_symbol(fills, samples))
    return placed


def _place_symbol(fills: Sequence[Fill], samples: Sequence[tuple[Any, Decimal]]) -> list[PlacedFill]:
    running = [ZERO]
    for fill in fills:
        running.append(running[-1] + fill.side.sign * fill.quantity)
    reached: dict[Decimal, list[int]] = {}
    for count, position in enumerate(running):
        reached.setdefault(position, []).append(count)
    placed: list[PlacedFill] = []
    consumed = 0
    for bar_time, position in samples:
        if position == running[consumed]:
            continue
        counts = reached.get(position, [])
        index = bisect.bisect_right(counts, consumed)
        if index == len(counts):
            continue  # no run of the remaining fills reaches this position (a position from before the run)
        upto = counts[index]
        placed.extend(PlacedFill(bar_time, fill) for fill in fills[consumed:upto])
        consumed = upto
    last_bar = samples[-1][0]
    placed.extend(PlacedFill(last_bar, fill) for fill in fills[consumed:])
    return placed
