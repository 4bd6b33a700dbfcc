"""What the Binance adapter can do (importable without python-binance, for plugin discovery)."""

from __future__ import annotations

from typing import Final

from autotrader.capabilities import Capabilities
from autotrader.model import OrderType, TimeInForce

__all__ = ["CAPABILITIES"]

CAPABILITIES: Final = Capabilities(
    order_types=frozenset({OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT}),
    time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}),
    market_time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC}),
    async_backends=frozenset({"asyncio"}),
    asyncio_only_reason="python-binance is built on asyncio",
    modify=True,
    short_selling=False,
    streaming=True,
    partial_fills=True,
)
