"""The reference strategy trading the bundled EURUSD series, filled at the bar's price.

An independent cash account (cash + position * last price) must agree with the strategy's own
equity to the last decimal, and no decision may break the caps.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from autotrader.marketdata import MarketDataSource, SyntheticSource, bundled_dataset
from autotrader.model import Fill, OrderSide
from autotrader.strategy import Action, StrategyConfig, TradingStrategy

pytestmark = pytest.mark.timeout(60)

COMMISSION_RATE = Decimal("0.0001")


async def run(source: MarketDataSource, strategy: TradingStrategy, symbol: str) -> dict[str, int]:
    """Drive the strategy like the engine would, filling every order at once at the bar's price."""
    counts = {a: 0 for a in Action}
    cash = strategy.equity
    position = Decimal(0)
    last_price = Decimal(0)
    ids = itertools.count(1)
    config = strategy.config
    cap = min(config.position_sizing.max_size_pct, config.risk_controls.max_position_size_pct)
    async for _, snapshot in source:
        data = dict(snapshot[symbol], position=position)
        last_price = data["price"]
        equity_before = strategy.equity
        decision = strategy.process_signal(symbol, data)
        if decision is None:
            continue
        counts[decision.action] += 1
        if decision.action is Action.HOLD:
            continue
        if decision.action.opens:
            assert position == 0
            assert decision.size * last_price <= equity_before * cap
            side = decision.action.side
        else:
            assert decision.size == abs(position) > 0
            side = OrderSide.SELL if position > 0 else OrderSide.BUY
        assert side is not None
        n = next(ids)
        commission = (decision.size * last_price * COMMISSION_RATE).quantize(Decimal("0.00000001"))
        strategy.on_fill(
            Fill("replay", f"t{n}", f"o{n}", symbol, side, decision.size, last_price, commission=commission)
        )
        position += decision.size * side.sign
        cash -= decision.size * last_price * side.sign + commission
    assert strategy.position(symbol) == position
    assert strategy.equity == cash + position * last_price
    return {a.value: c for a, c in counts.items()}


@pytest.mark.anyio
async def test_reference_strategy_trades_the_bundled_eurusd() -> None:
    strategy = TradingStrategy(StrategyConfig.default(), initial_equity=100000)
    counts = await run(bundled_dataset(), strategy, "EURUSD")
    assert counts["LONG"] > 10 and counts["SHORT"] > 10 and counts["CLOSE"] > 20
    assert isinstance(strategy.equity, Decimal)
    assert strategy.status == "ACTIVE"
    assert abs(strategy.equity - 100000) < 2000  # 2 %-of-equity positions cannot move far


@pytest.mark.anyio
async def test_a_crash_halts_the_strategy_and_it_flattens() -> None:
    config = StrategyConfig.from_dict(
        {
            "position_sizing": {"method": "fixed", "base_size_pct": 1, "max_size_pct": 1, "use_kelly": False},
            "risk_controls": {
                "max_position_size_pct": 1,
                "drawdown_halt_pct": 0.05,
                "daily_loss_limit_pct": 1,
            },
        }
    )
    strategy = TradingStrategy(config, initial_equity=100000)
    source = SyntheticSource(11, symbols=["X"], steps=400, volatility=0.02)
    counts = await run(source, strategy, "X")
    assert strategy.status == "HALTED"
    assert strategy.position("X") == 0  # the halt closed what was held
    assert counts["HOLD"] > 0  # and blocked what came after
