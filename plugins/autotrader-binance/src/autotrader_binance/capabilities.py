"""What the Binance spot adapter can do (importable without python-binance, so discovery stays fast)."""

from __future__ import annotations

from typing import Final

from autotrader.capabilities import Capabilities
from autotrader.model import OrderType, TimeInForce

__all__ = ["ASYNCIO_ONLY_REASON", "CAPABILITIES"]

ASYNCIO_ONLY_REASON: Final = (
    "python-binance is asyncio-only: its AsyncClient, aiohttp session and websockets need an asyncio loop"
)

CAPABILITIES: Final = Capabilities(
    order_types=frozenset({OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT}),
    time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}),
    market_time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC}),
    async_backends=frozenset({"asyncio"}),
    asyncio_only_reason=ASYNCIO_ONLY_REASON,
    modify=True,
    short_selling=False,
    streaming=True,
    partial_fills=True,
    market_data=True,
    absent_reasons={
        "time_in_force:DAY": "Binance spot has no DAY time in force (GTC, IOC, FOK only)",
        "short_selling": "spot sells only what the account holds: no short positions",
        "backend:trio": ASYNCIO_ONLY_REASON,
    },
)
