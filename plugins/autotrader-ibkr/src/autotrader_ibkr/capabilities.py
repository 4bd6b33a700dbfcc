"""What the Interactive Brokers adapter can do (importable without the IB library, for discovery)."""

from __future__ import annotations

from autotrader.capabilities import Capabilities
from autotrader.model import OrderType, TimeInForce

__all__ = ["ASYNCIO_ONLY_REASON", "CAPABILITIES"]

ASYNCIO_ONLY_REASON = (
    "the IB client library (ib_async, or ib_insync) is built on asyncio and its event loop; "
    "there is no trio version"
)

CAPABILITIES = Capabilities(
    order_types={OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT},
    time_in_force={TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK},
    market_time_in_force={TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK},
    async_backends={"asyncio"},
    asyncio_only_reason=ASYNCIO_ONLY_REASON,
    modify=True,
    short_selling=True,
    streaming=True,
    partial_fills=True,
    market_data=True,
)
