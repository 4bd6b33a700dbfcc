"""TradingStrategy: decisions, sizing, equity from fills and the ACTIVE/COOLDOWN/HALTED machine."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from autotrader.marketdata import MarketDataError
from autotrader.model import Fill, OrderSide
from autotrader.strategy import (
    Action,
    ExecutionDecision,
    Strategy,
    StrategyConfig,
    StrategyStatus,
    TradingStrategy,
)

pytestmark = pytest.mark.timeout(60)

DAY1 = dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
DAY2 = DAY1 + dt.timedelta(days=1)
_ids = itertools.count(1)


def md(price: Any = 50000, probability: Any = 0.65, ev: Any = 0.02, **extra: Any) -> dict[str, Any]:
    return {"price": price, "probability": probability, "expected_value": ev, "returns": 0.01, **extra}


def fill(
    symbol: str,
    side: OrderSide,
    qty: Any,
    price: Any,
    *,
    order: str | None = None,
    commission: Any = 0,
    trade: str | None = None,
) -> Fill:
    n = next(_ids)
    return Fill(
        "paper",
        trade or f"t{n}",
        order or f"o{n}",
        symbol,
        side,
        Decimal(str(qty)),
        Decimal(str(price)),
        commission=Decimal(str(commission)),
    )


def config(**sections: Mapping[str, Any]) -> StrategyConfig:
    return StrategyConfig.from_dict(sections)


def entry(strategy: TradingStrategy, symbol: str = "BTCUSDT", **data: Any) -> ExecutionDecision:
    decision = strategy.process_signal(symbol, md(**data))
    assert decision is not None
    return decision


# --------------------------------------------------------------------------- the protocol


def test_reference_strategy_satisfies_the_protocol() -> None:
    strategy = TradingStrategy(StrategyConfig(), initial_equity=100000)
    assert isinstance(strategy, Strategy)
    assert strategy.status == "ACTIVE"
    assert strategy.equity == Decimal(100000)


def test_protocol_is_structural() -> None:
    class Minimal:
        status = "ACTIVE"
        equity = Decimal(1)

        def process_signal(self, symbol: str, market_data: Mapping[str, Any]) -> ExecutionDecision | None:
            return None

        def on_fill(self, fill: Fill) -> None:
            pass

    class NoFills:
        status = "ACTIVE"
        equity = Decimal(1)

        def process_signal(self, symbol: str, market_data: Mapping[str, Any]) -> None:
            return None

    assert isinstance(Minimal(), Strategy)
    assert not isinstance(NoFills(), Strategy)


def test_initial_equity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="initial_equity"):
        TradingStrategy(initial_equity=0)


# --------------------------------------------------------------------------- entries


def test_seed_market_data_gives_a_long_sized_from_equity() -> None:
    decision = entry(TradingStrategy(StrategyConfig(), initial_equity=100000))
    assert decision.action is Action.LONG
    assert decision.size == Decimal("0.04")  # 100000 * 0.02 / 50000
    assert decision.confidence == pytest.approx(0.65)
    assert decision.expected_profit == Decimal("40")  # 2000 notional * 2 %
    assert decision.max_risk == Decimal("2000")  # no volatility: the whole notional
    assert decision.order_type.value == "MARKET"


def test_short_is_the_mirror_image() -> None:
    decision = entry(TradingStrategy(), probability=0.35, ev=-0.02)
    assert decision.action is Action.SHORT
    assert decision.size == Decimal("0.04")
    assert decision.confidence == pytest.approx(0.65)


@pytest.mark.parametrize(
    ("probability", "ev"),
    [(0.5, 0.02), (0.65, -0.001), (0.35, 0.001), (0.58, 0.02), (0.42, -0.02)],
)
def test_weak_or_contradictory_signals_do_nothing(probability: float, ev: float) -> None:
    assert TradingStrategy().process_signal("X", md(probability=probability, ev=ev)) is None


def test_conviction_from_the_data_overrides_the_probability() -> None:
    strategy = TradingStrategy()
    assert strategy.process_signal("X", md(probability=0.58, conviction=0.3)) is None
    assert entry(strategy, "X", probability=0.58, conviction=0.9).action is Action.LONG


def test_expected_value_threshold_applies_both_ways() -> None:
    strategy = TradingStrategy(config(signal_generation={"expected_value_threshold": 0.01}))
    assert strategy.process_signal("X", md(ev=0.005)) is None
    assert entry(strategy, "X", ev=0.01).action is Action.LONG
    assert strategy.process_signal("Y", md(probability=0.3, ev=-0.005)) is None
    assert entry(strategy, "Y", probability=0.3, ev=-0.01).action is Action.SHORT


# --------------------------------------------------------------------------- sizing


@pytest.mark.parametrize(
    ("sizing", "volatility", "size"),
    [
        ({"method": "fixed"}, 0.001, "0.04"),
        ({"method": "volatility_scaled"}, 0.005, "0.08"),  # 0.02 * 0.01 / 0.005 = 4 %
        ({"method": "volatility_scaled"}, 0.001, "0.1"),  # 20 % capped at max_size_pct 5 %
        ({"method": "volatility_scaled"}, None, "0.04"),  # no volatility: base size
        ({"method": "kelly"}, None, "0.1"),  # quarter Kelly at p=.65: 7.5 %, capped at 5 %
        ({"method": "kelly", "kelly_fraction": 0.1}, None, "0.06"),  # 0.1 * 0.3 = 3 %
        ({"method": "fixed", "use_kelly": True, "payoff_ratio": 0.6}, None, "0.033333"),  # Kelly 1.67 % < 2 %
    ],
)
def test_sizing_methods(sizing: dict[str, Any], volatility: float | None, size: str) -> None:
    strategy = TradingStrategy(config(position_sizing=sizing))
    extra: dict[str, Any] = {} if volatility is None else {"volatility": volatility}
    decision = entry(strategy, **extra)
    assert decision.size.quantize(Decimal("0.000001")) == Decimal(size)


def test_no_kelly_edge_means_hold_with_a_reason() -> None:
    strategy = TradingStrategy(config(position_sizing={"payoff_ratio": 0.5}))
    decision = entry(strategy)  # 0.65 - 0.35 / 0.5 < 0: no edge
    assert decision.action is Action.HOLD
    assert "no size" in decision.metadata["reason"]


def test_max_position_size_pct_caps_every_method() -> None:
    strategy = TradingStrategy(
        config(position_sizing={"method": "kelly"}, risk_controls={"max_position_size_pct": 0.01})
    )
    assert entry(strategy).size == Decimal("0.02")


def test_payoff_ratio_from_the_data_is_used_by_kelly() -> None:
    strategy = TradingStrategy(config(position_sizing={"method": "kelly", "use_kelly": True}))
    assert entry(strategy, payoff_ratio=0.6).size < entry(strategy, payoff_ratio=3.0).size


# --------------------------------------------------------------------------- positions


def test_holding_in_the_signal_direction_does_not_add() -> None:
    strategy = TradingStrategy()
    assert strategy.process_signal("X", md(position=Decimal("0.04"))) is None


def test_flipped_signal_closes_the_whole_position() -> None:
    strategy = TradingStrategy()
    decision = entry(strategy, "X", probability=0.3, ev=-0.01, position=Decimal("0.04"))
    assert decision.action is Action.CLOSE
    assert decision.size == Decimal("0.04")
    assert decision.metadata["reason"] == "signal flipped against the position"


def test_short_position_closes_on_a_long_signal() -> None:
    decision = entry(TradingStrategy(), "X", position=Decimal("-3"))
    assert decision.action is Action.CLOSE and decision.size == 3


def test_neutral_signal_keeps_the_position() -> None:
    assert TradingStrategy().process_signal("X", md(probability=0.5, position=Decimal(1))) is None


def test_own_fills_are_the_position_when_the_engine_gives_none() -> None:
    strategy = TradingStrategy()
    strategy.on_fill(fill("X", OrderSide.BUY, "0.04", 50000))
    assert strategy.position("X") == Decimal("0.04")
    assert strategy.process_signal("X", md()) is None
    assert entry(strategy, "X", probability=0.2, ev=-0.1).action is Action.CLOSE


def test_max_concurrent_positions() -> None:
    strategy = TradingStrategy(config(portfolio={"max_concurrent_positions": 1}))
    strategy.process_signal("A", md(price=100, probability=0.5, position=Decimal(1)))
    blocked = entry(strategy, "B")
    assert blocked.action is Action.HOLD
    assert "max_concurrent_positions" in blocked.metadata["reason"]
    strategy.process_signal("A", md(price=100, probability=0.5, position=Decimal(0)))
    assert entry(strategy, "B").action is Action.LONG


def test_sector_exposure_limits_a_new_position_to_the_headroom() -> None:
    strategy = TradingStrategy(
        config(portfolio={"max_sector_exposure": 0.05, "sectors": {"A": "tech", "B": "tech"}})
    )
    strategy.process_signal("A", md(price=100, probability=0.5, position=Decimal(40)))  # 4000 = 4 %
    decision = entry(strategy, "B", price=100)
    assert decision.action is Action.LONG
    assert decision.size == Decimal(10)  # only 1 % of equity left in the sector
    assert entry(strategy, "C", price=100).size == Decimal(20)  # another sector: the full 2 %


def test_full_sector_means_hold() -> None:
    strategy = TradingStrategy(
        config(portfolio={"max_sector_exposure": 0.04, "sectors": {"A": "s", "B": "s"}})
    )
    strategy.process_signal("A", md(price=100, probability=0.5, position=Decimal(40)))
    assert entry(strategy, "B", price=100).action is Action.HOLD


# --------------------------------------------------------------------------- equity


def test_equity_marks_to_market_and_realizes_on_close() -> None:
    strategy = TradingStrategy(initial_equity=100000)
    strategy.on_fill(fill("X", OrderSide.BUY, 10, 100, commission="1.5"))
    assert strategy.equity == Decimal("99998.5")
    strategy.process_signal("X", md(price=110, probability=0.5))
    assert strategy.unrealized_pnl == Decimal(100)
    assert strategy.equity == Decimal("100098.5")
    strategy.on_fill(fill("X", OrderSide.SELL, 10, 120, commission="1.5"))
    assert strategy.realized_pnl == Decimal(200)
    assert strategy.equity == Decimal("100197")
    assert strategy.position("X") == 0
    assert all(
        isinstance(v, Decimal)
        for k, v in strategy.get_status().items()
        if k not in {"status", "reason", "trades_today"}
    )


def test_a_fill_seen_twice_is_booked_once() -> None:
    strategy = TradingStrategy()
    once = fill("X", OrderSide.BUY, 1, 100, trade="T1", order="O1", commission=1)
    strategy.on_fill(once)
    strategy.on_fill(once)
    assert strategy.position("X") == 1
    assert strategy.equity == Decimal(99999)


def test_bad_market_data_names_the_key() -> None:
    strategy = TradingStrategy()
    for data, key in [
        ({"probability": 0.6}, "price"),
        (md(price=-1), "price"),
        (md(price="abc"), "price"),
        (md(probability=1.2), "probability"),
        (md(probability="x"), "probability"),
        (md(volatility=-0.1), "volatility"),
        (md(timestamp="yesterday"), "timestamp"),
        ({"price": 1}, "probability"),
    ]:
        with pytest.raises(MarketDataError) as caught:
            strategy.process_signal("X", data)
        assert caught.value.key == key


# --------------------------------------------------------------------------- status machine


def test_daily_loss_limit_cools_down_until_the_next_day() -> None:
    strategy = TradingStrategy(initial_equity=100000)
    strategy.process_signal("X", md(price=1000, probability=0.5, timestamp=DAY1))
    strategy.on_fill(fill("X", OrderSide.BUY, 100, 1000))
    assert strategy.status == "ACTIVE"
    strategy.process_signal("X", md(price=969, probability=0.5, timestamp=DAY1))  # -3.1 %
    assert strategy.status == StrategyStatus.COOLDOWN
    assert "daily loss" in (strategy.status_reason or "")
    blocked = entry(strategy, "Y", timestamp=DAY1)
    assert blocked.action is Action.HOLD and "COOLDOWN" in blocked.metadata["reason"]
    # exits still pass in COOLDOWN
    assert entry(strategy, "X", price=969, probability=0.2, ev=-0.1, timestamp=DAY1).action is Action.CLOSE
    # recovering the same day does not lift it
    strategy.process_signal("X", md(price=1000, probability=0.5, timestamp=DAY1))
    assert strategy.status == "COOLDOWN"
    strategy.process_signal("X", md(price=1000, probability=0.5, timestamp=DAY2))
    assert strategy.status == "ACTIVE"
    assert entry(strategy, "Y", timestamp=DAY2).action is Action.LONG


def test_drawdown_halts_until_reset_and_closes_positions() -> None:
    strategy = TradingStrategy(initial_equity=100000)
    strategy.on_fill(fill("X", OrderSide.BUY, 100, 1000))
    strategy.process_signal("X", md(price=1100, probability=0.5, timestamp=DAY1))  # peak 110000
    decision = entry(strategy, "X", price=930, probability=0.5, timestamp=DAY1)  # 93000: -15.45 %
    assert strategy.status == "HALTED"
    assert decision.action is Action.CLOSE and decision.size == 100
    assert decision.metadata["reason"].startswith("halted")
    assert entry(strategy, "Y", timestamp=DAY2).action is Action.HOLD
    assert strategy.status == "HALTED"  # a new day does not lift a halt
    strategy.on_fill(fill("X", OrderSide.SELL, 100, 930))
    strategy.reset()
    assert strategy.status == "ACTIVE"
    assert strategy.peak_equity == strategy.equity == Decimal(93000)
    assert entry(strategy, "Y", timestamp=DAY2).action is Action.LONG


def test_max_trades_per_day_counts_orders_not_partial_fills() -> None:
    strategy = TradingStrategy(config(risk_controls={"max_trades_per_day": 2}))
    strategy.process_signal("X", md(price=100, probability=0.5, timestamp=DAY1))
    strategy.on_fill(fill("X", OrderSide.BUY, 1, 100, order="A"))
    strategy.on_fill(fill("X", OrderSide.BUY, 1, 100, order="A"))
    assert strategy.trades_today == 1 and strategy.status == "ACTIVE"
    strategy.on_fill(fill("X", OrderSide.SELL, 2, 100, order="B"))
    assert strategy.trades_today == 2 and strategy.status == "COOLDOWN"
    assert entry(strategy, "Y", timestamp=DAY1).action is Action.HOLD
    strategy.process_signal("X", md(price=100, probability=0.5, timestamp=DAY2))
    assert strategy.status == "ACTIVE" and strategy.trades_today == 0


def test_without_timestamps_the_clock_dates_the_day() -> None:
    now = [DAY1.timestamp()]
    strategy = TradingStrategy(config(risk_controls={"max_trades_per_day": 1}), clock=lambda: now[0])
    strategy.on_fill(fill("X", OrderSide.BUY, 1, 100))
    assert strategy.status == "COOLDOWN"
    now[0] = DAY2.timestamp()
    strategy.process_signal("X", md(price=100, probability=0.5))
    assert strategy.status == "ACTIVE"
