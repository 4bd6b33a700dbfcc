"""Every order type, time in force, partial fills and modify the broker declares."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.model import OrderSide, OrderStatus, OrderType, TimeInForce
from autotrader.oms import OrderManager
from autotrader.testing.harness import HarnessSession, LedgerTrade
from autotrader.testing.support import (
    away,
    fills_match_trades,
    half_quantity,
    request,
    status_of,
    ticks_for,
    wait_filled,
    wait_for,
)

pytestmark = pytest.mark.anyio

CLOSED_UNFILLED = (OrderStatus.EXPIRED, OrderStatus.CANCELLED)


async def _trades_of(session: HarnessSession, coid: str) -> list[LedgerTrade]:
    return [t for t in await session.control.trades() if t.client_order_id == coid]


@pytest.mark.requires("order_type:STOP")
async def test_stop_order_triggers_on_the_cross(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    req = request(s, OrderSide.BUY, OrderType.STOP, stop_price=away(s, 10))
    order = await oms.submit_order(req)
    assert order.status is OrderStatus.ACCEPTED, order.reason
    assert await _trades_of(s, req.client_order_id) == []
    await s.control.set_price(s.symbol, away(s, 20))
    await wait_filled(s, oms, req, what="stop filled")


@pytest.mark.requires("order_type:STOP_LIMIT")
async def test_stop_limit_triggers_and_respects_its_limit(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    limit_price = away(s, 15)
    req = request(s, OrderSide.BUY, OrderType.STOP_LIMIT, price=limit_price, stop_price=away(s, 10))
    order = await oms.submit_order(req)
    assert order.status is OrderStatus.ACCEPTED, order.reason
    await s.control.set_price(s.symbol, away(s, 12))
    fills = await wait_filled(s, oms, req, what="stop-limit filled")
    assert all(f.price <= limit_price for f in fills)


@pytest.mark.requires("time_in_force:IOC")
async def test_ioc_marketable_fills(autotrader_session: HarnessSession, autotrader_oms: OrderManager) -> None:
    s, oms = autotrader_session, autotrader_oms
    req = request(s, OrderSide.BUY, price=away(s, 5), tif=TimeInForce.IOC)
    await oms.submit_order(req)
    await wait_filled(s, oms, req, what="IOC filled")


@pytest.mark.requires("time_in_force:IOC")
async def test_ioc_unmarketable_expires_unfilled(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    req = request(s, OrderSide.BUY, price=away(s, -10), tif=TimeInForce.IOC)
    await oms.submit_order(req)
    await wait_for(lambda: status_of(oms, req.client_order_id) in CLOSED_UNFILLED, what="IOC expired")
    assert await _trades_of(s, req.client_order_id) == []
    assert oms.positions.quantity(s.symbol) == 0


@pytest.mark.requires("time_in_force:FOK", "partial_fills")
async def test_fok_without_enough_liquidity_expires_unfilled(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    instrument = (await s.adapter.instruments())[s.symbol]
    await s.control.set_liquidity(s.symbol, half_quantity(s, instrument))
    await s.control.set_price(s.symbol, s.price)
    req = request(s, OrderSide.BUY, price=away(s, 5), tif=TimeInForce.FOK)
    await oms.submit_order(req)
    await wait_for(lambda: status_of(oms, req.client_order_id) in CLOSED_UNFILLED, what="FOK expired")
    assert await _trades_of(s, req.client_order_id) == []


@pytest.mark.requires("time_in_force:DAY")
async def test_day_order_rests(autotrader_session: HarnessSession, autotrader_oms: OrderManager) -> None:
    s, oms = autotrader_session, autotrader_oms
    order = await oms.submit_order(request(s, OrderSide.BUY, price=away(s, -10), tif=TimeInForce.DAY))
    assert order.status is OrderStatus.ACCEPTED, order.reason


@pytest.mark.requires("partial_fills")
async def test_partial_fill_then_the_rest(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    instrument = (await s.adapter.instruments())[s.symbol]
    half = half_quantity(s, instrument)
    await s.control.set_liquidity(s.symbol, half)
    await s.control.set_price(s.symbol, s.price)
    req = request(s, OrderSide.BUY, price=away(s, 1))
    await oms.submit_order(req)

    def filled() -> Decimal:
        order = oms.get_order(req.client_order_id)
        return order.filled_quantity if order is not None else Decimal(0)

    await wait_for(lambda: filled() == half, what="first partial fill")
    assert status_of(oms, req.client_order_id) is OrderStatus.PARTIALLY_FILLED
    await s.control.set_liquidity(s.symbol, None)
    await s.control.set_price(s.symbol, s.price)
    await wait_for(lambda: status_of(oms, req.client_order_id) is OrderStatus.FILLED, what="rest filled")
    trades = await _trades_of(s, req.client_order_id)
    assert len(trades) >= 2
    assert fills_match_trades(oms.get_fills(client_order_id=req.client_order_id), trades)


@pytest.mark.requires("partial_fills", "order_type:MARKET")
async def test_market_remainder_expires_on_a_thin_book(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    instrument = (await s.adapter.instruments())[s.symbol]
    half = half_quantity(s, instrument)
    await s.control.set_liquidity(s.symbol, half)
    await s.control.set_price(s.symbol, s.price)
    req = request(s, OrderSide.BUY, OrderType.MARKET)
    await oms.submit_order(req)
    await wait_for(lambda: status_of(oms, req.client_order_id) in CLOSED_UNFILLED, what="remainder expired")
    order = oms.get_order(req.client_order_id)
    assert order is not None and order.filled_quantity == half


@pytest.mark.requires("modify")
async def test_modify_price_and_quantity(
    autotrader_session: HarnessSession, autotrader_oms: OrderManager
) -> None:
    s, oms = autotrader_session, autotrader_oms
    req = request(s, OrderSide.BUY, price=away(s, -ticks_for(s, Decimal("0.01"))))
    order = await oms.submit_order(req)
    assert order.status is OrderStatus.ACCEPTED, order.reason
    new_price = away(s, -ticks_for(s, Decimal("0.012")))
    await oms.replace_order(req.client_order_id, price=new_price)
    venue_order = await s.adapter.get_order(req.client_order_id)
    assert venue_order is not None and venue_order.price == new_price and venue_order.is_open
    new_quantity = req.quantity * 2
    await oms.replace_order(req.client_order_id, quantity=new_quantity)
    venue_order = await s.adapter.get_order(req.client_order_id)
    assert venue_order is not None and venue_order.quantity == new_quantity
    order_now = oms.get_order(req.client_order_id)
    assert order_now is not None and (order_now.price, order_now.quantity) == (new_price, new_quantity)
    open_at_venue = [o for o in await s.control.orders() if o.status.is_open]
    assert len(open_at_venue) == 1
    assert (open_at_venue[0].price, open_at_venue[0].quantity) == (new_price, new_quantity)
