"""Run summaries for the report tests: real ones from the engine, and small hand-made ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import anyio
import pytest

from autotrader.engine import ExecutionEngine
from autotrader.model import Fill, OrderSide
from autotrader.plugins import BrokerRegistry
from autotrader.runconfig import build_execution_config
from autotrader.runner import RunRecord, RunSummary, replay
from autotrader.strategy import StrategyConfig, TradingStrategy

INITIAL = Decimal(100_000)


async def run_engine(bars: int | None, *, stop_after: int | None = None) -> RunSummary:
    """What ``autotrader run`` does: the reference strategy on the paper broker over the bundled EURUSD."""
    from autotrader import marketdata

    strategy = TradingStrategy(StrategyConfig.default(), initial_equity=INITIAL)
    adapter = (
        BrokerRegistry.discover(allow=["paper"])
        .get("paper")
        .factory(
            initial_balance=INITIAL,
            latency_ms=(0, 0),
            fill_probability=1.0,
            commission_bps=Decimal(1),
            slippage_bps=Decimal("0.5"),
            seed=7,
        )
    )
    config = build_execution_config({}, cycle_time_ms=0, enable_paper_trading=True)
    engine = ExecutionEngine(strategy, adapter, config)
    stop = anyio.Event()

    def on_bar(count: int) -> None:
        if stop_after is not None and count >= stop_after:
            stop.set()

    try:
        return await replay(
            engine,
            marketdata.bundled_dataset(limit=bars),
            initial_equity=INITIAL,
            on_bar=on_bar,
            stop=stop,
            flatten_at_end=True,
        )
    finally:
        if engine.connected:
            await engine.disconnect()


@pytest.fixture(scope="session")
def full_run() -> RunSummary:
    """The whole bundled data set (5000 hourly bars), as a first-time user's run replays it."""
    return anyio.run(run_engine, None)


@pytest.fixture(scope="session")
def interrupted_run() -> RunSummary:
    """A run stopped half-way (as by Ctrl-C): the kill switch fires and closes the position."""
    return anyio.run(lambda: run_engine(600, stop_after=300))


def hour(i: int) -> dt.datetime:
    return dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=i)


def fill(side: OrderSide, quantity: str, price: str, n: int, symbol: str = "EURUSD") -> Fill:
    return Fill(
        venue="paper",
        trade_id=f"T{n}",
        client_order_id=f"C{n}",
        symbol=symbol,
        side=side,
        quantity=Decimal(quantity),
        price=Decimal(price),
    )


def make_summary(**changes: Any) -> RunSummary:
    """A small, fully specified summary (three bars, one round trip) for unit tests."""
    curve = [(hour(0), Decimal(100_000)), (hour(1), Decimal("100010.5")), (hour(2), Decimal("99990.25"))]
    record = RunRecord(
        prices={"EURUSD": [(hour(i), Decimal(p)) for i, p in enumerate(("1.10", "1.11", "1.09"))]},
        positions={"EURUSD": [(hour(0), Decimal(1000)), (hour(1), Decimal(0)), (hour(2), Decimal(0))]},
        fills=[fill(OrderSide.BUY, "1000", "1.10", 1), fill(OrderSide.SELL, "1000", "1.11", 2)],
    )
    values: dict[str, Any] = {
        "bars": 3,
        "orders": 2,
        "fills": 2,
        "fill_rate": 1.0,
        "realized_pnl": Decimal(10),
        "unrealized_pnl": Decimal(0),
        "fees": Decimal("19.75"),
        "net_pnl": Decimal("-9.75"),
        "final_equity": Decimal("99990.25"),
        "max_drawdown": Decimal("20.25"),
        "max_drawdown_pct": Decimal("0.0002"),
        "duration_seconds": 0.01,
        "interrupted": False,
        "kill_report": None,
        "status": {
            "trading_state": "ACTIVE",
            "oms": {"total_orders": 2, "fill_rate": 1.0, "total_commission": Decimal("19.75")},
            "resiliency": {"circuit_state": "CLOSED", "dlq_size": 0, "last_failure": None},
        },
        "equity_curve": curve,
        "record": record,
        "fill_latencies": [0.0001, 0.0002],
        "broker": "paper",
        "strategy": "TradingStrategy",
    }
    values.update(changes)
    return RunSummary(**values)


SummaryFactory = Callable[..., RunSummary]


@pytest.fixture
def summary_factory() -> SummaryFactory:
    return make_summary
