"""The design summary's four usage examples, run as written (its import paths still work).

Each test body is the example's code; only the surrounding set-up (a working directory with
``config/strategy.yaml``, and a time bound on the endless live loop) is added.
"""

# The examples are the design summary's code as written, without annotations: calling them is
# what these tests are for.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import asyncio
import shutil
from importlib.resources import files
from pathlib import Path

import pytest

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the examples call asyncio.sleep themselves


@pytest.fixture(autouse=True)
def seed_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config").mkdir()
    shutil.copy(str(files("autotrader") / "config" / "strategy.yaml"), tmp_path / "config" / "strategy.yaml")
    monkeypatch.chdir(tmp_path)


async def example_1_setup():  # type: ignore[no-untyped-def]
    from autotrader.execution import ExecutionConfig, ExecutionEngine
    from autotrader.execution.adapters.paper import PaperTradingAdapter
    from autotrader.strategy import StrategyConfig, TradingStrategy

    # Initialize strategy (Phase 8)
    strategy_config = StrategyConfig.from_yaml("config/strategy.yaml")
    strategy = TradingStrategy(strategy_config, initial_equity=100000)

    # Paper trading adapter
    adapter = PaperTradingAdapter(
        initial_balance=100000, latency_ms=(10, 50), slippage_bps=5.0, commission_bps=10.0
    )

    # Execution engine
    config = ExecutionConfig(enable_resiliency=True, enable_oms_monitoring=True, cycle_time_ms=100)
    engine = ExecutionEngine(strategy, adapter, config)

    # Connect and run
    await engine.connect()
    return engine


async def test_example_1_paper_trading() -> None:
    engine = await example_1_setup()

    # Market data callback
    async def get_market_data():  # type: ignore[no-untyped-def]
        return {"BTCUSDT": {"price": 50000, "probability": 0.65, "expected_value": 0.02, "returns": 0.01}}

    # Run live trading (the example runs forever; the test stops it after a few cycles)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1.5):
            await engine.run_live_trading(market_data_callback=get_market_data, should_continue=lambda: True)

    status = engine.get_status()
    assert status["oms"]["total_orders"] >= 1
    assert status["oms"]["filled_orders"] >= 1
    assert engine.oms.positions.quantity("BTCUSDT") > 0
    assert status["strategy_equity"] is not None


async def test_example_2_manual_order(capsys: pytest.CaptureFixture[str]) -> None:
    engine = await example_1_setup()

    # Connect
    await engine.connect()

    # Create decision
    from autotrader.strategy import ExecutionDecision

    decision = ExecutionDecision(
        action="LONG",
        symbol="BTCUSDT",
        size=0.1,
        confidence=0.8,
        expected_profit=100.0,
        max_risk=50.0,
        metadata={"limit_price": 50000},
    )

    # Execute
    order = await engine.execute_decision(decision)
    print(f"Order ID: {order.order_id}")

    # Check status
    await asyncio.sleep(1)
    status = engine.get_status()
    print(status)

    assert f"Order ID: {order.order_id}" in capsys.readouterr().out
    from decimal import Decimal

    assert order.quantity == Decimal("0.1") and order.price == Decimal("50000")
    assert engine.oms.get_order(order.order_id) is not None
    assert status["oms"]["total_orders"] == 1


async def test_example_3_kill_switch() -> None:
    engine = await example_1_setup()
    from decimal import Decimal

    from autotrader.strategy import ExecutionDecision

    await engine.update_market("BTCUSDT", Decimal(50000))
    await engine.execute_decision(ExecutionDecision(action="LONG", symbol="BTCUSDT", size=0.1))
    resting = await engine.execute_decision(
        ExecutionDecision(action="LONG", symbol="BTCUSDT", size=0.1, metadata={"limit_price": 49000})
    )
    assert engine.oms.positions.quantity("BTCUSDT") == Decimal("0.1")

    from autotrader.execution import KillSwitch

    # Create kill switch
    kill_switch = KillSwitch(engine)

    # Activate on emergency
    await kill_switch.activate(close_positions=True)

    assert engine.oms.positions.quantity("BTCUSDT") == 0
    assert engine.oms.get_order(resting.order_id).status.value == "CANCELLED"
    status = engine.get_status()
    assert status["running"] is False and status["connected"] is False and status["trading_state"] == "HALTED"


async def test_example_4_status_monitoring(capsys: pytest.CaptureFixture[str]) -> None:
    engine = await example_1_setup()

    # Subscribe to fills
    def on_fill(fill):  # type: ignore[no-untyped-def]
        print(f"Fill: {fill.symbol} {fill.quantity} @ {fill.price}")

    engine.subscribe_fills(on_fill)

    # Subscribe to decisions
    def on_decision(decision, order):  # type: ignore[no-untyped-def]
        print(f"Decision: {decision.action} → Order: {order.order_id}")

    engine.subscribe_decisions(on_decision)

    from decimal import Decimal

    from autotrader.strategy import ExecutionDecision

    await engine.update_market("BTCUSDT", Decimal(50000))
    order = await engine.execute_decision(ExecutionDecision(action="LONG", symbol="BTCUSDT", size=0.1))

    # Get status
    status = engine.get_status()
    print(f"Connected: {status['connected']}")
    print(f"Running: {status['running']}")
    print(f"Fill rate: {status['oms']['fill_rate']}")

    out = capsys.readouterr().out
    assert "Fill: BTCUSDT 0.1 @ " in out
    assert f"Decision: LONG → Order: {order.order_id}" in out
    assert "Connected: True" in out and "Running: False" in out and "Fill rate: 1.0" in out
