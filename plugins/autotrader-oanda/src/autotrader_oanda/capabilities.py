"""What the OANDA adapter can do (importable without oandapyV20, for plugin discovery)."""

from __future__ import annotations

from autotrader.capabilities import Capabilities
from autotrader.model import OrderType, TimeInForce

__all__ = ["CAPABILITIES"]

CAPABILITIES = Capabilities(
    order_types={OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT},
    time_in_force={TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK},
    market_time_in_force={TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK},
    async_backends={"asyncio", "trio"},
    modify=True,
    short_selling=True,
    streaming=True,
    partial_fills=True,
    market_data=True,
)
