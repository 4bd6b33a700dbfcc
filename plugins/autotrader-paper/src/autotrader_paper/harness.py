"""The paper plugin's VenueHarness: an exact, zero-latency venue for the conformance suite.

Latency 0, slippage 0 and fill probability 1 make every outcome exact; the account (1 000 000
USD, shorts allowed) can carry the suite's 100 concurrent resting buys of ``quantity`` at
``price`` and trade both ways.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

from autotrader.testing.harness import HarnessSession
from autotrader_paper.adapter import PaperTradingAdapter
from autotrader_paper.config import PaperConfig
from autotrader_paper.control import PaperVenueControl

__all__ = ["HARNESS_CONFIG", "harness"]

HARNESS_CONFIG = PaperConfig(
    initial_balance=Decimal(1_000_000),
    latency_ms=(0, 0),
    slippage_bps=Decimal(0),
    commission_bps=Decimal(10),
    fill_probability=1.0,
    seed=1,
    reconnect_delay=0.1,
    request_timeout=1.0,
)


@asynccontextmanager
async def harness(config: PaperConfig = HARNESS_CONFIG) -> AsyncIterator[HarnessSession]:
    adapter = PaperTradingAdapter(config=config)
    await adapter.connect()
    try:
        yield HarnessSession(
            adapter=adapter,
            control=PaperVenueControl(adapter),
            symbol="BTCUSDT",
            price=Decimal("50000"),
            quantity=Decimal("0.01"),
            tick=Decimal("0.01"),
            request_timeout=config.request_timeout,
        )
    finally:
        await adapter.disconnect()
