"""Connect, rest, cancel, fill: the order lifecycle against the venue's own ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.errors import OrderNotFound
from autotrader.model import Fill, OrderSide, OrderStatus, OrderType
from autotrader.oms import OrderManager
from autotrader.testing.harness import HarnessSession
from autotrader.testing.support import (
    away,
    fills_match_trades,
    new_id,
    request,
    status_of,
    ticks_for,
    wait_filled,
    wait_for,
)

pytestmark = pytest.mark.anyio


async def test_connects_and_lists_the_test_instrument(autotrader_session: HarnessSession) -> None:
    s = autotrader_session
    assert s.adapter.is_connected
    instruments = await s.adapter.instruments()
    assert s.symbol in instruments, f"{s.symbol} missing from the venue's instruments"
    instrument = instruments[s.symbol]
    assert instrument.tick_size > 0 and instrument.lot_size > 0
    assert s.tick % instrument.tick_size == 0
    assert s.quantity % instrument.lot_size == 0
    assert await s.adapter.health_check()


async def test_limit_order_rests_then_cancels(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    price = away(s, -ticks_for(s, Decimal("0.02")))
    req = request(s, OrderSide.BUY, price=price)
    order = await oms.submit_order(req)
    assert order.status is OrderStatus.ACCEPTED, order.reason
    venue_order = await s.adapter.get_order(req.client_order_id)
    assert venue_order is not None and venue_order.status is OrderStatus.ACCEPTED
    assert venue_order.quantity == req.quantity and venue_order.price == price
    assert req.client_order_id in [o.client_order_id for o in await s.adapter.get_open_orders(s.symbol)]
    ledger = [o for o in await s.control.orders() if o.client_order_id == req.client_order_id]
    assert len(ledger) == 1 and ledger[0].status is OrderStatus.ACCEPTED and ledger[0].price == price

    await oms.cancel_order(req.client_order_id)
    await wait_for(lambda: status_of(oms, req.client_order_id) is OrderStatus.CANCELLED, what="CANCELLED")
    ledger = [o for o in await s.control.orders() if o.client_order_id == req.client_order_id]
    assert ledger[0].status is OrderStatus.CANCELLED
    assert req.client_order_id not in [o.client_order_id for o in await s.adapter.get_open_orders(s.symbol)]
    assert await s.control.trades() == []


@pytest.mark.requires("order_type:MARKET")
async def test_market_order_fills_with_the_venues_numbers(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    req = request(s, OrderSide.BUY, OrderType.MARKET)
    await oms.submit_order(req)
    fills = await wait_filled(s, oms, req)
    trades = [t for t in await s.control.trades() if t.client_order_id == req.client_order_id]
    assert oms.positions.quantity(s.symbol) == req.quantity
    assert fills_match_trades(await s.adapter.get_order_fills(req.client_order_id), trades)
    assert all(f.commission >= 0 for f in fills)


async def test_resting_limit_fills_when_the_price_crosses(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    limit_price = away(s, -10)
    req = request(s, OrderSide.BUY, price=limit_price)
    order = await oms.submit_order(req)
    assert order.status is OrderStatus.ACCEPTED, order.reason
    seen: list[Fill] = []
    oms.on_fill(lambda fill, _order: seen.append(fill))
    await s.control.set_price(s.symbol, away(s, -20))
    await wait_for(
        lambda: status_of(oms, req.client_order_id) is OrderStatus.FILLED, what="fill via the stream"
    )
    trades = [t for t in await s.control.trades() if t.client_order_id == req.client_order_id]
    assert fills_match_trades(seen, trades)
    assert all(f.price <= limit_price for f in seen)


@pytest.mark.requires("order_type:MARKET")
async def test_round_trip_flattens_and_realizes(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    buy = request(s, OrderSide.BUY, OrderType.MARKET)
    await oms.submit_order(buy)
    await wait_for(lambda: status_of(oms, buy.client_order_id) is OrderStatus.FILLED, what="buy filled")
    await s.control.set_price(s.symbol, away(s, 50))
    sell = request(s, OrderSide.SELL, OrderType.MARKET)
    await oms.submit_order(sell)
    await wait_for(lambda: status_of(oms, sell.client_order_id) is OrderStatus.FILLED, what="sell filled")
    position = oms.positions.get(s.symbol)
    assert position.quantity == 0
    trades = await s.control.trades()
    gross = sum((t.price * t.quantity * (1 if t.side is OrderSide.SELL else -1) for t in trades), start=0)
    assert position.realized_pnl == gross


async def test_unknown_orders(autotrader_session: HarnessSession) -> None:
    s = autotrader_session
    ghost = new_id("ghost")
    assert await s.adapter.get_order(ghost) is None
    with pytest.raises(OrderNotFound):
        await s.adapter.cancel_order(ghost)
    assert await s.control.orders() == []
