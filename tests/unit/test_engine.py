"""The engine: decisions to requests, pre-trade risk, kill switch, status, backends, the live loop."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio
import attrs
import pytest

from autotrader.adapter import Capabilities
from autotrader.engine import ExecutionConfig, ExecutionEngine, KillSwitch
from autotrader.errors import ConfigError, InvalidOrder, RiskRejected, UnsupportedBackend
from autotrader.hookspecs import hookimpl
from autotrader.model import OrderRequest, OrderSide, OrderStatus, OrderType, TimeInForce
from autotrader.risk import BuiltinRiskChecks, RiskContext, RiskLimits, TradingState
from autotrader.testing.support import IdleStrategy

from .scripted import Decision, ScriptedAdapter

pytestmark = pytest.mark.anyio
D = Decimal


def engine(**kw: Any) -> ExecutionEngine:
    limits = kw.pop("risk", RiskLimits(price_band_pct=None))
    config = ExecutionConfig(initial_backoff=0.001, risk=limits, **kw)
    return ExecutionEngine(IdleStrategy(), ScriptedAdapter(), config)


async def connected(**kw: Any) -> ExecutionEngine:
    e = engine(**kw)
    await e.connect()
    return e


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (Decision("LONG"), (OrderSide.BUY, OrderType.MARKET, TimeInForce.GTC, None, None)),
        (Decision("short"), (OrderSide.SELL, OrderType.MARKET, TimeInForce.GTC, None, None)),
        (
            Decision("LONG", metadata={"limit_price": 50000}),
            (OrderSide.BUY, OrderType.LIMIT, TimeInForce.GTC, D(50000), None),
        ),
        (
            Decision("LONG", metadata={"limit_price": 100, "order_type": "IOC"}),
            (OrderSide.BUY, OrderType.LIMIT, TimeInForce.IOC, D(100), None),
        ),
        (
            Decision("LONG", metadata={"order_type": "FOK"}),
            (OrderSide.BUY, OrderType.MARKET, TimeInForce.FOK, None, None),
        ),
        (
            Decision("SHORT", metadata={"stop_price": "90"}),
            (OrderSide.SELL, OrderType.STOP, TimeInForce.GTC, None, D(90)),
        ),
        (
            Decision("LONG", metadata={"stop_price": 110, "limit_price": 111, "time_in_force": "day"}),
            (OrderSide.BUY, OrderType.STOP_LIMIT, TimeInForce.DAY, D(111), D(110)),
        ),
    ],
)
async def test_decision_to_request(decision: Decision, expected: tuple[Any, ...]) -> None:
    e = await connected()
    request = e.build_request(decision)
    assert request is not None
    assert (
        request.side,
        request.order_type,
        request.time_in_force,
        request.price,
        request.stop_price,
    ) == expected
    assert request.quantity == D(1) and len(request.client_order_id) <= 36


async def test_float_size_is_taken_as_typed_and_rounded_down_to_the_lot() -> None:
    e = await connected()
    request = e.build_request(Decision("LONG", size=0.12345))
    assert request is not None and request.quantity == D("0.123")


async def test_reject_mode_refuses_off_lot_sizes() -> None:
    e = await connected(quantity_rounding="reject")
    with pytest.raises(InvalidOrder, match="size"):
        e.build_request(Decision("LONG", size="0.12345"))


@pytest.mark.parametrize(
    ("decision", "field"),
    [
        (Decision("LONG", size=float("nan")), "size"),
        (Decision("LONG", size=float("inf")), "size"),
        (Decision("LONG", size=-1), "size"),
        (Decision("LONG", size=0), "size"),
        (Decision("LONG", size="0.0001"), "size"),  # rounds to 0 at the lot
        (Decision("LONG", symbol="DOGEUSDT"), "symbol"),
        (Decision("MOON"), "action"),
        (Decision("LONG", metadata={"order_type": "ICEBERG"}), "order_type"),
        (Decision("LONG", metadata={"limit_price": "nan"}), "limit_price"),
    ],
)
async def test_bad_decisions_get_typed_errors_naming_the_field(decision: Decision, field: str) -> None:
    e = await connected()
    with pytest.raises(InvalidOrder) as info:
        await e.execute_decision(decision)
    assert info.value.field == field
    assert e.adapter.submit_calls == 0  # type: ignore[attr-defined]


async def test_hold_and_close_when_flat_send_nothing() -> None:
    e = await connected()
    assert await e.execute_decision(Decision("HOLD")) is None
    assert await e.execute_decision(Decision("CLOSE")) is None


async def test_close_flattens_the_position() -> None:
    e = await connected()
    await e.execute_decision(Decision("LONG", size="2"))
    order = await e.execute_decision(Decision("CLOSE"))
    assert order is not None and order.side is OrderSide.SELL and order.quantity == D(2)
    assert e.oms.positions.quantity("BTCUSDT") == 0


def limit(
    e: ExecutionEngine, side: OrderSide = OrderSide.BUY, qty: str = "1", price: str = "100"
) -> OrderRequest:
    return OrderRequest(e.oms.new_client_order_id(), "BTCUSDT", side, OrderType.LIMIT, D(qty), price=D(price))


async def test_halted_refuses_everything_reducing_only_reductions() -> None:
    e = await connected()
    await e.execute_decision(Decision("LONG", size="2"))
    e.set_trading_state(TradingState.HALTED, "test")
    with pytest.raises(RiskRejected, match="HALTED"):
        await e.submit(limit(e, OrderSide.SELL))
    e.set_trading_state(TradingState.REDUCING, "test")
    with pytest.raises(RiskRejected, match="REDUCING"):
        await e.submit(limit(e, OrderSide.BUY))
    order = await e.submit(limit(e, OrderSide.SELL, "1"))
    assert order.status is OrderStatus.ACCEPTED
    with pytest.raises(RiskRejected, match="REDUCING"):  # with the open sell, another 2 would flip short
        await e.submit(limit(e, OrderSide.SELL, "2"))


async def test_limits_are_enforced() -> None:
    e = await connected(
        risk=RiskLimits(
            max_open_orders=2, max_order_notional=D(500), max_position=D(3), price_band_pct=D("0.05")
        )
    )
    e.last_prices["BTCUSDT"] = D(100)
    with pytest.raises(RiskRejected, match="notional"):
        await e.submit(limit(e, qty="6"))
    with pytest.raises(RiskRejected, match="band"):
        await e.submit(limit(e, price="110"))
    await e.submit(limit(e, qty="2"))
    with pytest.raises(RiskRejected, match="position would reach"):
        await e.submit(limit(e, qty="2"))
    await e.submit(limit(e, qty="1"))
    with pytest.raises(RiskRejected, match="open orders"):
        await e.submit(limit(e, OrderSide.SELL, qty="1"))


async def test_balance_check() -> None:
    e = await connected(risk=RiskLimits(price_band_pct=None))
    e.balances["USDT"] = attrs.evolve(e.balances["USDT"], free=D(150))
    with pytest.raises(RiskRejected, match="balance"):
        await e.submit(limit(e, qty="2"))


async def test_strategy_cooldown_allows_only_reductions() -> None:
    e = await connected()
    await e.execute_decision(Decision("LONG", size="1"))
    e.strategy.status = "COOLDOWN"
    with pytest.raises(RiskRejected, match="COOLDOWN"):
        await e.execute_decision(Decision("LONG"))
    assert await e.execute_decision(Decision("CLOSE")) is not None


async def test_risk_plugins_add_checks() -> None:
    class NoSells:
        @hookimpl
        def autotrader_pretrade_check(self, request: OrderRequest, context: RiskContext) -> list[str]:
            return ["sells are disabled"] if request.side is OrderSide.SELL else []

    config = ExecutionConfig(initial_backoff=0.001, risk=RiskLimits(price_band_pct=None))
    e = ExecutionEngine(IdleStrategy(), ScriptedAdapter(), config, plugins=[NoSells()])
    await e.connect()
    with pytest.raises(RiskRejected, match="sells are disabled"):
        await e.execute_decision(Decision("SHORT"))
    assert await e.execute_decision(Decision("LONG")) is not None


async def test_a_risk_plugin_registered_after_the_engine_is_asked() -> None:
    class NoSells:
        @hookimpl
        def autotrader_pretrade_check(self, request: OrderRequest, context: RiskContext) -> list[str]:
            return ["sells are disabled"] if request.side is OrderSide.SELL else []

    e = await connected()
    assert await e.execute_decision(Decision("SHORT")) is not None
    plugin = NoSells()
    e.plugin_manager.register(plugin)
    with pytest.raises(RiskRejected, match="sells are disabled"):
        await e.execute_decision(Decision("SHORT"))
    e.plugin_manager.unregister(plugin)
    assert await e.execute_decision(Decision("SHORT")) is not None


async def test_the_built_in_checks_alone_answer_as_their_hook_does() -> None:
    e = await connected(risk=RiskLimits(price_band_pct=D("0.01"), max_open_orders=0, max_order_notional=1))
    await e.update_market("BTCUSDT", D(50000))
    e.set_trading_state(TradingState.REDUCING)
    request = e.build_request(Decision("LONG", metadata={"limit_price": 40000}))
    assert request is not None
    by_hook = BuiltinRiskChecks().autotrader_pretrade_check(request, e.risk_context(request))
    assert len(by_hook) == 4  # REDUCING, open orders, notional, price band
    with pytest.raises(RiskRejected) as direct:
        e.pretrade_check(request)
    assert direct.value.violations == by_hook


async def test_kill_switch_cancels_flattens_and_disconnects() -> None:
    events: list[str] = []

    class Watcher:
        @hookimpl
        def autotrader_kill_switch(self, engine: Any, reason: str, close_positions: bool) -> None:
            events.append(f"kill:{reason}:{close_positions}")

        @hookimpl
        def autotrader_engine_stopped(self, engine: Any) -> None:
            events.append("stopped")

    e = ExecutionEngine(
        IdleStrategy(),
        ScriptedAdapter(),
        ExecutionConfig(risk=RiskLimits(price_band_pct=None)),
        plugins=[Watcher()],
    )
    await e.connect()
    await e.execute_decision(Decision("SHORT", size="3"))
    resting = await e.submit(limit(e))
    report = await KillSwitch(e).activate(close_positions=True, reason="test")
    assert report.cancelled == [resting.client_order_id]
    assert [o.side for o in report.flatten_orders] == [OrderSide.BUY]
    assert e.oms.positions.quantity("BTCUSDT") == 0
    status = e.get_status()
    assert status["trading_state"] == "HALTED" and status["kill_switch_active"] and not status["connected"]
    assert events == ["kill:test:True", "stopped"]


async def test_status_dict_has_the_seed_keys() -> None:
    e = await connected()
    status = e.get_status()
    for key in ("connected", "running", "strategy_status", "strategy_equity", "oms", "resiliency"):
        assert key in status
    assert status["oms"]["fill_rate"] == 0.0 and status["resiliency"]["circuit_state"] == "CLOSED"


async def test_subscribers_get_fills_and_decisions() -> None:
    e = await connected()
    fills: list[Any] = []
    decisions: list[Any] = []
    e.subscribe_fills(fills.append)
    e.subscribe_decisions(lambda d, o: decisions.append((d.action, o.order_id)))
    order = await e.execute_decision(Decision("LONG"))
    assert order is not None
    assert [f.client_order_id for f in fills] == [order.order_id]
    assert decisions == [("LONG", order.order_id)]


async def test_paper_interlock_refuses_a_real_broker() -> None:
    e = engine(enable_paper_trading=True)
    with pytest.raises(ConfigError, match="enable_paper_trading"):
        await e.connect()


async def test_asyncio_only_adapter_refused_under_trio(anyio_backend: str) -> None:
    adapter = ScriptedAdapter()
    adapter.capabilities = Capabilities(async_backends={"asyncio"}, asyncio_only_reason="built on asyncio")
    e = ExecutionEngine(IdleStrategy(), adapter)
    if anyio_backend == "trio":
        with pytest.raises(UnsupportedBackend, match="only under asyncio"):
            await e.connect()
    else:
        assert await e.connect()


async def test_live_loop_runs_cycles_and_stops() -> None:
    class Flip:
        status, equity = "ACTIVE", D(0)

        def __init__(self) -> None:
            self.n = 0

        def process_signal(self, symbol: str, data: Any) -> Decision:
            self.n += 1
            return Decision("LONG" if self.n % 2 else "CLOSE", symbol)

        def on_fill(self, fill: Any) -> None:
            pass

    e = ExecutionEngine(
        Flip(), ScriptedAdapter(), ExecutionConfig(cycle_time_ms=1, risk=RiskLimits(price_band_pct=None))
    )
    cycles = 0

    async def market() -> dict[str, dict[str, Any]]:
        nonlocal cycles
        cycles += 1
        return {"BTCUSDT": {"price": 100.5}}

    with anyio.fail_after(5):
        await e.run_live_trading(market, should_continue=lambda: cycles < 6)
    assert cycles == 6 and not e.running
    assert e.get_status()["oms"]["total_orders"] == 6
    assert e.oms.positions.quantity("BTCUSDT") == 0
    assert e.last_prices["BTCUSDT"] == D("100.5")
