"""Position sizing: what fraction of equity a new position may take, and how many units that is.

Pure functions of the configuration and the signal, so the caps can be property-tested: the
fraction is never negative and never above ``min(max_size_pct, max_position_size_pct)``, and the
unit count is rounded *down* so its value never exceeds the fraction either.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Final

from autotrader.model import ZERO
from autotrader.strategy.config import PositionSizingConfig, RiskControlsConfig

__all__ = ["QUANTITY_STEP", "kelly_bet", "size_fraction", "units_for"]

QUANTITY_STEP: Final = Decimal("1e-8")
"""Sizes are rounded down to this step; the engine rounds further to the instrument's lot size."""

_ONE: Final = Decimal(1)


def _dec(value: float) -> Decimal:
    return Decimal(repr(value))


def kelly_bet(win_probability: float, payoff_ratio: float) -> Decimal:
    """The full Kelly fraction ``p - (1 - p) / b``, or 0 when there is no edge."""
    p = _dec(win_probability)
    bet = p - (_ONE - p) / _dec(payoff_ratio)
    return max(bet, ZERO)


def size_fraction(
    sizing: PositionSizingConfig,
    limits: RiskControlsConfig,
    *,
    win_probability: float,
    volatility: float | None = None,
    payoff_ratio: float | None = None,
) -> Decimal:
    """The fraction of equity for a new position in the signal's direction.

    ``win_probability`` is the probability of the chosen direction (``1 - p`` for a short).
    Without a usable ``volatility`` the volatility-scaled method falls back to ``base_size_pct``.
    """
    payoff = payoff_ratio if payoff_ratio is not None and payoff_ratio > 0 else sizing.payoff_ratio
    kelly = sizing.kelly_fraction * kelly_bet(win_probability, payoff)
    if sizing.method == "kelly":
        fraction = kelly
    elif sizing.method == "volatility_scaled" and volatility is not None and volatility > 0:
        fraction = sizing.base_size_pct * _dec(sizing.target_volatility) / _dec(volatility)
    else:
        fraction = sizing.base_size_pct
    if sizing.use_kelly:
        fraction = min(fraction, kelly)
    cap = min(sizing.max_size_pct, limits.max_position_size_pct)
    return min(max(fraction, ZERO), cap)


def units_for(equity: Decimal, fraction: Decimal, price: Decimal) -> Decimal:
    """How many units ``fraction`` of ``equity`` buys at ``price``, rounded down to QUANTITY_STEP."""
    if equity <= 0 or fraction <= 0 or price <= 0:
        return ZERO
    units = (equity * fraction / price).quantize(QUANTITY_STEP, rounding=ROUND_DOWN)
    return units.normalize() if units else ZERO
