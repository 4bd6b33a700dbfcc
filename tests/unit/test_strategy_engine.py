"""The reference strategy driven by the real ExecutionEngine over a market-data source.

The engine turns the strategy's decisions into orders at the scripted venue, which fills market
orders at the bar's price; the strategy's own equity (from the fills the engine hands back) must
equal the OMS's account to the last decimal.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.engine import ExecutionConfig, ExecutionEngine
from autotrader.marketdata import SyntheticSource
from autotrader.risk import RiskLimits
from autotrader.strategy import Strategy, StrategyConfig, TradingStrategy

from .scripted import ScriptedAdapter

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_engine_trades_the_reference_strategy_and_books_agree() -> None:
    strategy = TradingStrategy(StrategyConfig.default(), initial_equity=100000)
    assert isinstance(strategy, Strategy)
    adapter = ScriptedAdapter()
    engine = ExecutionEngine(
        strategy,
        adapter,
        ExecutionConfig(cycle_time_ms=0, initial_backoff=0.001, risk=RiskLimits(price_band_pct=None)),
    )
    await engine.connect()
    source = SyntheticSource(21, symbols=["BTCUSDT"], steps=300, start_price=100, volatility=0.01)
    orders = 0
    async for _, market_data in source:
        adapter.fill_market_orders_at = market_data["BTCUSDT"]["price"]
        orders += len(await engine.process_market_data(market_data))
    assert orders > 5
    positions = engine.oms.positions
    assert strategy.position("BTCUSDT") == positions.quantity("BTCUSDT")
    assert strategy.realized_pnl == positions.realized_pnl()
    oms_equity = (
        Decimal(100000) + positions.realized_pnl() + positions.unrealized_pnl() - engine.oms.total_commission
    )
    assert strategy.equity == oms_equity
    assert engine.get_status()["strategy_status"] == "ACTIVE"
    await engine.disconnect()
