"""Reading the seed's per-symbol market-data dict into typed values, once, at the edge.

Prices and positions become Decimal (a float price is taken by its shortest repr, as people
type them); probabilities, expected values and volatilities stay floats: they are statistics,
not money.  Anything missing or malformed raises :class:`MarketDataError` naming the key.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from autotrader.errors import InvalidOrder
from autotrader.marketdata import MarketDataError, parse_timestamp
from autotrader.model import decimal_from_user

__all__ = ["Signal"]


def _number(market_data: Mapping[str, Any], key: str, *, required: bool) -> float | None:
    value = market_data.get(key)
    if value is None:
        if required:
            raise MarketDataError(key, "missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise MarketDataError(key, f"expected a number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise MarketDataError(key, f"expected a finite number, got {value!r}")
    return number


def _decimal(market_data: Mapping[str, Any], key: str) -> Decimal | None:
    value = market_data.get(key)
    if value is None:
        return None
    try:
        return decimal_from_user(value, key)
    except InvalidOrder as exc:
        raise MarketDataError(key, exc.problem) from None


@attrs.frozen
class Signal:
    """One symbol's market data at one moment, typed and checked."""

    price: Decimal
    probability: float
    expected_value: float
    returns: float | None = None
    volatility: float | None = None
    position: Decimal | None = None
    timestamp: dt.datetime | None = None
    conviction: float | None = None
    payoff_ratio: float | None = None

    @classmethod
    def from_market_data(cls, market_data: Mapping[str, Any]) -> Signal:
        price = _decimal(market_data, "price")
        if price is None:
            raise MarketDataError("price", "missing")
        if price <= 0:
            raise MarketDataError("price", f"must be positive, got {price}")
        probability = _number(market_data, "probability", required=True)
        assert probability is not None
        if not 0.0 <= probability <= 1.0:
            raise MarketDataError("probability", f"must be in [0, 1], got {probability}")
        expected_value = _number(market_data, "expected_value", required=False) or 0.0
        volatility = _number(market_data, "volatility", required=False)
        if volatility is not None and volatility < 0:
            raise MarketDataError("volatility", f"must not be negative, got {volatility}")
        conviction = _number(market_data, "conviction", required=False)
        if conviction is not None and not 0.0 <= conviction <= 1.0:
            raise MarketDataError("conviction", f"must be in [0, 1], got {conviction}")
        raw_time = market_data.get("timestamp")
        return cls(
            price=price,
            probability=probability,
            expected_value=expected_value,
            returns=_number(market_data, "returns", required=False),
            volatility=volatility,
            position=_decimal(market_data, "position"),
            timestamp=None if raw_time is None else parse_timestamp(raw_time, "timestamp"),
            conviction=conviction,
            payoff_ratio=_number(market_data, "payoff_ratio", required=False),
        )
