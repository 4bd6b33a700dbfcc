"""Positions and balances agree with the venue; many orders at once; the kill switch."""

from __future__ import annotations

import anyio
import pytest

from autotrader.engine import ExecutionConfig, ExecutionEngine, KillSwitch
from autotrader.model import OrderSide, OrderStatus, OrderType
from autotrader.oms import OrderManager
from autotrader.risk import RiskLimits
from autotrader.testing.harness import HarnessSession
from autotrader.testing.support import IdleStrategy, away, request, wait_for

pytestmark = pytest.mark.anyio


@pytest.mark.requires("order_type:MARKET")
async def test_positions_and_balances_follow_the_venue(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    before = {b.asset: b.total for b in await s.control.balances()}
    req = request(s, OrderSide.BUY, OrderType.MARKET)
    await oms.submit_order(req)
    await wait_for(
        lambda: (o := oms.get_order(req.client_order_id)) is not None and o.status is OrderStatus.FILLED
    )
    venue = {b.asset: b.total for b in await s.control.balances()}
    assert venue != before, "a fill must move the venue's balances"

    async def adapter_agrees() -> bool:
        ours = {b.asset: b.total for b in await s.adapter.get_balances()}
        return all(ours.get(asset) == total for asset, total in venue.items())

    deadline = anyio.current_time() + 5
    while not await adapter_agrees():
        assert anyio.current_time() < deadline, "the adapter's balances never matched the venue's"
        await anyio.sleep(0.05)
    trades = await s.control.trades()
    signed = sum((t.quantity if t.side is OrderSide.BUY else -t.quantity for t in trades), start=0)
    assert oms.positions.quantity(s.symbol) == signed


async def test_one_hundred_concurrent_orders(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    requests = [request(s, OrderSide.BUY, price=away(s, -10 - i % 5)) for i in range(100)]
    async with anyio.create_task_group() as tg:
        for req in requests:
            tg.start_soon(oms.submit_order, req)
    statuses = {oms.get_order(r.client_order_id).status for r in requests}  # type: ignore[union-attr]
    assert statuses == {OrderStatus.ACCEPTED}
    ledger = await s.control.orders()
    assert sorted(o.client_order_id for o in ledger) == sorted(r.client_order_id for r in requests)
    await oms.cancel_all()
    await wait_for(lambda: oms.open_order_count == 0, what="every order cancelled")
    assert all(o.status is OrderStatus.CANCELLED for o in await s.control.orders())


@pytest.mark.requires("order_type:MARKET")
async def test_kill_switch_cancels_everything_and_flattens(autotrader_session: HarnessSession) -> None:
    s = autotrader_session
    config = ExecutionConfig(initial_backoff=0.05, risk=RiskLimits(check_balance=False, price_band_pct=None))
    engine = ExecutionEngine(IdleStrategy(), s.adapter, config)
    await engine.connect()
    await engine.submit(request(s, OrderSide.BUY, OrderType.MARKET))
    resting = await engine.submit(request(s, OrderSide.BUY, price=away(s, -10)))
    assert resting.status is OrderStatus.ACCEPTED, resting.reason
    await wait_for(lambda: engine.oms.positions.quantity(s.symbol) == s.quantity, what="position opened")

    report = await KillSwitch(engine).activate(close_positions=True)

    assert report.errors == []
    assert resting.client_order_id in report.cancelled
    assert engine.get_status()["trading_state"] == "HALTED"
    assert not any(o.status.is_open for o in await s.control.orders())
    trades = await s.control.trades()
    assert sum((t.quantity if t.side is OrderSide.BUY else -t.quantity for t in trades), start=0) == 0
