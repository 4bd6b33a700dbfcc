"""Axis ticks at round values: numbers in steps of 1, 2 or 5 times a power of ten, times at round intervals.

Tick values are :class:`~decimal.Decimal` so a money axis is labelled exactly ("99,800.00", never
"99799.99999999999"); only the pixel position of a tick is computed in float.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_CEILING, Decimal
from typing import Final

__all__ = ["Tick", "number_ticks", "time_ticks"]

Tick = tuple[float, str]
"""A tick's position on the axis (in data units) and its label."""

_MULTIPLIERS: Final = (Decimal(1), Decimal(2), Decimal(5), Decimal(10))

_MINUTE: Final = 60
_HOUR: Final = 3600
_DAY: Final = 86_400
_TIME_STEPS: Final = (
    _MINUTE,
    5 * _MINUTE,
    15 * _MINUTE,
    30 * _MINUTE,
    _HOUR,
    3 * _HOUR,
    6 * _HOUR,
    12 * _HOUR,
    _DAY,
    2 * _DAY,
    7 * _DAY,
    14 * _DAY,
    30 * _DAY,
    91 * _DAY,
    182 * _DAY,
    365 * _DAY,
)


def nice_step(span: Decimal, target: int) -> Decimal:
    """The smallest 1/2/5 x 10^k step that cuts ``span`` into at most about ``target`` pieces."""
    raw = span / Decimal(max(target, 1))
    base = Decimal(1).scaleb(raw.adjusted())
    for multiplier in _MULTIPLIERS:
        if base * multiplier >= raw:
            return base * multiplier
    return base * 10  # pragma: no cover - the loop always returns by multiplier 10


def number_ticks(low: float, high: float, target: int = 6) -> list[Tick]:
    """Round-valued ticks between ``low`` and ``high`` (inclusive), labelled with just enough decimals."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high < low:
        low, high = high, low
    lo, hi = Decimal(repr(low)), Decimal(repr(high))
    if hi == lo:
        return [(low, _number_label(lo, places=_places(lo.normalize())))]
    step = nice_step(hi - lo, target)
    places = _places(step.normalize())
    tick = (lo / step).to_integral_value(rounding=ROUND_CEILING) * step
    ticks: list[Tick] = []
    while tick <= hi:
        ticks.append((float(tick), _number_label(tick, places)))
        tick += step
    return ticks


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _number_label(value: Decimal, places: int) -> str:
    text = f"{value:,.{places}f}"
    return "0" if text.lstrip("-").strip("0.,") == "" else text


def time_ticks(low: float, high: float, target: int = 6) -> list[Tick]:
    """Ticks at round UTC times (whole hours, days, weeks...) between two epoch-second instants."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [(low, _time_label(low, _DAY))] if math.isfinite(low) else []
    span = high - low
    step = next((s for s in _TIME_STEPS if span / s <= target), None)
    if step is None:  # centuries of data: fall back to evenly spaced years
        step = math.ceil(span / target / (365 * _DAY)) * 365 * _DAY
    first = math.ceil(low / step) * step
    return [(float(t), _time_label(t, step)) for t in range(int(first), int(high) + 1, step)]


def _time_label(epoch: float, step: int) -> str:
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    if step >= _DAY:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%m-%d %H:%M")
