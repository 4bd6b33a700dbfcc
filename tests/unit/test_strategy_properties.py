"""Properties: sizes never exceed the caps, and the status machine keeps its promises."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotrader.strategy import Action, StrategyConfig, StrategyStatus, TradingStrategy
from autotrader.strategy.config import PositionSizingConfig, RiskControlsConfig
from autotrader.strategy.controls import RiskGovernor
from autotrader.strategy.sizing import size_fraction, units_for

pytestmark = pytest.mark.timeout(60)

pcts = st.decimals(min_value="0.001", max_value="1", places=3)
probabilities = st.floats(min_value=0.0, max_value=1.0)
volatilities = st.none() | st.floats(min_value=0.0, max_value=5.0)
money = st.decimals(min_value="0.01", max_value="1e9", places=2)
prices = st.decimals(min_value="0.0001", max_value="1e6", places=4)


@st.composite
def sizing_configs(draw: st.DrawFn) -> tuple[PositionSizingConfig, RiskControlsConfig]:
    base, top = sorted([draw(pcts), draw(pcts)])
    sizing = PositionSizingConfig(
        method=draw(st.sampled_from(["fixed", "volatility_scaled", "kelly"])),
        base_size_pct=base,
        max_size_pct=top,
        use_kelly=draw(st.booleans()),
        kelly_fraction=draw(pcts),
        payoff_ratio=draw(st.floats(min_value=0.01, max_value=100)),
        target_volatility=draw(st.floats(min_value=1e-6, max_value=1)),
    )
    limits = RiskControlsConfig(max_position_size_pct=draw(pcts))
    return sizing, limits


@settings(max_examples=300, deadline=None)
@given(sizing_configs(), probabilities, volatilities, st.none() | st.floats(min_value=0.01, max_value=50))
def test_fraction_stays_within_the_caps(
    configs: tuple[PositionSizingConfig, RiskControlsConfig],
    probability: float,
    volatility: float | None,
    payoff: float | None,
) -> None:
    sizing, limits = configs
    fraction = size_fraction(
        sizing, limits, win_probability=probability, volatility=volatility, payoff_ratio=payoff
    )
    assert Decimal(0) <= fraction <= min(sizing.max_size_pct, limits.max_position_size_pct)
    if sizing.use_kelly and probability <= 0.5 and (payoff or sizing.payoff_ratio) <= 1:
        assert fraction == 0  # no edge, no bet


@settings(max_examples=300, deadline=None)
@given(money, pcts, prices)
def test_units_never_buy_more_than_the_fraction(equity: Decimal, fraction: Decimal, price: Decimal) -> None:
    units = units_for(equity, fraction, price)
    assert units >= 0
    assert units * price <= equity * fraction


market_data = st.fixed_dictionaries(
    {
        "price": prices,
        "probability": probabilities,
        "expected_value": st.floats(min_value=-0.5, max_value=0.5),
    },
    optional={
        "volatility": st.floats(min_value=0, max_value=1),
        "position": st.decimals(min_value="-100", max_value="100", places=2),
        "conviction": probabilities,
    },
)


@settings(max_examples=200, deadline=None)
@given(sizing_configs(), money, st.lists(st.tuples(st.sampled_from("ABC"), market_data), max_size=15))
def test_no_decision_exceeds_the_position_caps(
    configs: tuple[PositionSizingConfig, RiskControlsConfig],
    equity: Decimal,
    ticks: list[tuple[str, dict[str, Any]]],
) -> None:
    sizing, limits = configs
    strategy = TradingStrategy(StrategyConfig(position_sizing=sizing, risk_controls=limits), equity)
    cap = min(sizing.max_size_pct, limits.max_position_size_pct)
    known: dict[str, Decimal] = {}  # the engine's last word on each position is remembered
    for symbol, data in ticks:
        known[symbol] = data.get("position", known.get(symbol, Decimal(0)))
        decision = strategy.process_signal(symbol, data)
        if decision is None:
            continue
        if decision.action.opens:
            assert decision.size * data["price"] <= strategy.equity * cap
            assert known[symbol] == 0  # never pyramids
        if decision.action is Action.CLOSE:
            assert decision.size == abs(known[symbol]) > 0


# --------------------------------------------------------------------------- status machine

events = st.one_of(
    st.tuples(st.just("equity"), st.decimals(min_value="1", max_value="200000", places=0)),
    st.tuples(st.just("trade"), st.sampled_from(["a", "b", "c", "d"])),
    st.tuples(st.just("next_day"), st.none()),
    st.tuples(st.just("reset"), st.none()),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=40), st.integers(min_value=1, max_value=3))
def test_status_machine_invariants(steps: list[tuple[str, Any]], max_trades: int) -> None:
    limits = RiskControlsConfig(
        max_trades_per_day=max_trades, daily_loss_limit_pct=Decimal("0.03"), drawdown_halt_pct=Decimal("0.15")
    )
    start = Decimal(100000)
    governor = RiskGovernor(limits, start)
    day = dt.date(2024, 1, 1)
    equity = start
    governor.observe(day, equity)
    peak, day_start, trades = start, start, set[str]()
    for kind, value in steps:
        before = governor.status
        if kind == "equity":
            equity = value
            governor.observe(day, equity)
        elif kind == "trade":
            trades.add(value)
            governor.record_trade(value)
        elif kind == "next_day":
            day += dt.timedelta(days=1)
            day_start, trades = equity, set()
            governor.observe(day, equity)
        else:
            governor.reset(equity)
            peak, day_start, trades = equity, equity, set()
            assert governor.status is StrategyStatus.ACTIVE
            continue
        peak = max(peak, equity)
        status = governor.status
        if before is StrategyStatus.HALTED:
            assert status is StrategyStatus.HALTED  # only reset() lifts a halt
        if (peak - equity) / peak >= limits.drawdown_halt_pct:
            assert status is StrategyStatus.HALTED
        if status is StrategyStatus.ACTIVE:
            assert (day_start - equity) / day_start < limits.daily_loss_limit_pct
            assert len(trades) < max_trades
        if before is StrategyStatus.COOLDOWN and kind != "next_day":
            assert status is not StrategyStatus.ACTIVE  # a cooldown lasts the day
