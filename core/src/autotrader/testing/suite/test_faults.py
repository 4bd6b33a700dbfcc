"""Venue faults: rejects, ambiguity, 5xx, rate limits, dropped streams, duplicated and reordered events.

The invariant throughout: the venue ends with exactly the orders the caller asked for, each once,
and every venue trade reaches the OMS exactly once.
"""

from __future__ import annotations

import pytest

from autotrader.errors import AmbiguousOutcome, OrderRejected, RateLimited
from autotrader.model import Fill, OrderSide, OrderStatus, OrderType
from autotrader.oms import OrderManager
from autotrader.testing.harness import Fault, HarnessSession
from autotrader.testing.support import away, fills_match_trades, request, requires_fault, status_of, wait_for

pytestmark = pytest.mark.anyio


async def _ledger_count(session: HarnessSession, coid: str) -> int:
    return sum(1 for o in await session.control.orders() if o.client_order_id == coid)


async def test_venue_reject_is_final_with_its_reason(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    requires_fault(s, Fault.REJECT)
    await s.control.inject(Fault.REJECT, reason="suite says no")
    with pytest.raises(OrderRejected) as info:
        await s.adapter.submit_order(request(s, OrderSide.BUY, price=away(s, -5)))
    assert str(info.value)
    await s.control.inject(Fault.REJECT, reason="suite says no")
    order = await oms.submit_order(request(s, OrderSide.BUY, price=away(s, -5)))
    assert order.status is OrderStatus.REJECTED and order.reason


async def test_adapter_reports_ambiguity_within_its_timeout(autotrader_session: HarnessSession) -> None:
    import anyio

    s = autotrader_session
    requires_fault(s, Fault.ACCEPT_THEN_TIMEOUT)
    await s.control.inject(Fault.ACCEPT_THEN_TIMEOUT)
    req = request(s, OrderSide.BUY, price=away(s, -5))
    with anyio.fail_after(s.request_timeout + 10), pytest.raises(AmbiguousOutcome):
        await s.adapter.submit_order(req)
    found = await s.adapter.get_order(req.client_order_id)
    assert found is not None and found.client_order_id == req.client_order_id


async def test_accept_then_timeout_is_reconciled_not_resent(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    requires_fault(s, Fault.ACCEPT_THEN_TIMEOUT)
    await s.control.inject(Fault.ACCEPT_THEN_TIMEOUT)
    req = request(s, OrderSide.BUY, price=away(s, -5))
    order = await oms.submit_order(req)
    assert order.status is OrderStatus.ACCEPTED, order.reason
    assert await _ledger_count(s, req.client_order_id) == 1
    assert len(await s.control.orders()) == 1


@pytest.mark.requires("order_type:MARKET")
async def test_filled_order_after_timeout_trades_once(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    """The trap: a filled order's client id is free again at the venue, so a resend trades twice."""
    s, oms = autotrader_session, autotrader_oms
    requires_fault(s, Fault.ACCEPT_THEN_TIMEOUT)
    await s.control.inject(Fault.ACCEPT_THEN_TIMEOUT)
    req = request(s, OrderSide.BUY, OrderType.MARKET)
    await oms.submit_order(req)
    await wait_for(lambda: status_of(oms, req.client_order_id) is OrderStatus.FILLED, what="FILLED")
    assert len(await s.control.orders()) == 1
    trades = await s.control.trades()
    assert sum(t.quantity for t in trades) == req.quantity
    assert fills_match_trades(oms.get_fills(), trades)
    assert oms.positions.quantity(s.symbol) == req.quantity


async def test_server_errors_are_survived_without_duplicates(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    requires_fault(s, Fault.SERVER_ERROR)
    await s.control.inject(Fault.SERVER_ERROR, count=2)
    req = request(s, OrderSide.BUY, price=away(s, -5))
    order = await oms.submit_order(req)
    assert order.status is OrderStatus.ACCEPTED, order.reason
    assert await _ledger_count(s, req.client_order_id) == 1
    assert len(await s.control.orders()) == 1


async def test_rate_limit_reports_and_honours_retry_after(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    import anyio

    s, oms = autotrader_session, autotrader_oms
    requires_fault(s, Fault.RATE_LIMIT)
    await s.control.inject(Fault.RATE_LIMIT, retry_after=0.5)
    with pytest.raises(RateLimited) as info:
        await s.adapter.submit_order(request(s, OrderSide.BUY, price=away(s, -5)))
    assert info.value.retry_after is not None and info.value.retry_after >= 0.5
    await s.control.inject(Fault.RATE_LIMIT, retry_after=0.5)
    req = request(s, OrderSide.BUY, price=away(s, -5))
    started = anyio.current_time()
    order = await oms.submit_order(req)
    assert anyio.current_time() - started >= 0.5
    assert order.status is OrderStatus.ACCEPTED, order.reason
    assert await _ledger_count(s, req.client_order_id) == 1


async def test_fill_during_a_stream_drop_is_not_lost(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    requires_fault(s, Fault.DROP_STREAM)
    req = request(s, OrderSide.BUY, price=away(s, -10))
    order = await oms.submit_order(req)
    assert order.status is OrderStatus.ACCEPTED, order.reason
    await s.control.inject(Fault.DROP_STREAM)
    await s.control.set_price(s.symbol, away(s, -20))
    await wait_for(
        lambda: status_of(oms, req.client_order_id) is OrderStatus.FILLED,
        timeout=20,
        what="the fill made while the stream was down",
        nudge=s.adapter.health_check,
    )
    trades = await s.control.trades()
    assert fills_match_trades(oms.get_fills(), trades)


async def _fill_one(s: HarnessSession, oms: OrderManager) -> str:
    if OrderType.MARKET in s.adapter.capabilities.order_types:
        req = request(s, OrderSide.BUY, OrderType.MARKET)
        await oms.submit_order(req)
    else:
        req = request(s, OrderSide.BUY, price=away(s, -10))
        await oms.submit_order(req)
        await s.control.set_price(s.symbol, away(s, -20))
    await wait_for(lambda: status_of(oms, req.client_order_id) is OrderStatus.FILLED, what="FILLED")
    return req.client_order_id


async def test_duplicated_events_are_applied_once(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    requires_fault(s, Fault.DUPLICATE_EVENTS)
    seen: list[Fill] = []
    oms.on_fill(lambda fill, _order: seen.append(fill))
    await s.control.inject(Fault.DUPLICATE_EVENTS, count=10)
    coid = await _fill_one(s, oms)
    trades = await s.control.trades()
    assert fills_match_trades(seen, trades)
    order = oms.get_order(coid)
    assert order is not None and order.filled_quantity == s.quantity
    assert oms.positions.quantity(s.symbol) == s.quantity


async def test_reordered_events_end_consistent(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    requires_fault(s, Fault.REORDER_EVENTS)
    await s.control.inject(Fault.REORDER_EVENTS)
    coid = await _fill_one(s, oms)
    trades = await s.control.trades()
    assert fills_match_trades(oms.get_fills(), trades)
    order = oms.get_order(coid)
    assert order is not None and order.filled_quantity == s.quantity
