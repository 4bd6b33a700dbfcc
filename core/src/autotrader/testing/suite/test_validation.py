"""Bad input gets a typed error naming the field, and nothing reaches the venue."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from autotrader.errors import InvalidOrder
from autotrader.model import OrderSide, OrderType, TimeInForce
from autotrader.testing.harness import HarnessSession
from autotrader.testing.support import away, request

pytestmark = pytest.mark.anyio


async def test_off_tick_price_refused(autotrader_session: HarnessSession) -> None:
    s = autotrader_session
    instrument = (await s.adapter.instruments())[s.symbol]
    with pytest.raises(InvalidOrder) as info:
        await s.adapter.submit_order(request(s, OrderSide.BUY, price=away(s, -5) + instrument.tick_size / 10))
    assert info.value.field == "price"
    assert await s.control.orders() == []


async def test_off_lot_quantity_refused(autotrader_session: HarnessSession) -> None:
    s = autotrader_session
    instrument = (await s.adapter.instruments())[s.symbol]
    quantity = s.quantity + instrument.lot_size / 10
    with pytest.raises(InvalidOrder) as info:
        await s.adapter.submit_order(request(s, OrderSide.BUY, price=away(s, -5), quantity=quantity))
    assert info.value.field == "quantity"
    assert await s.control.orders() == []


async def test_notional_below_minimum_refused(autotrader_session: HarnessSession) -> None:
    s = autotrader_session
    instrument = (await s.adapter.instruments())[s.symbol]
    smallest = max(instrument.lot_size, instrument.min_quantity)
    if instrument.min_notional <= 0 or smallest * s.price >= instrument.min_notional:
        pytest.skip("the test instrument has no minimum notional above its smallest order")
    with pytest.raises(InvalidOrder) as info:
        await s.adapter.submit_order(request(s, OrderSide.BUY, price=away(s, -5), quantity=smallest))
    assert info.value.field == "notional"
    assert await s.control.orders() == []


async def test_undeclared_order_types_and_tifs_refused(autotrader_session: HarnessSession) -> None:
    s = autotrader_session
    caps = s.adapter.capabilities
    missing_types = [t for t in OrderType if t not in caps.order_types]
    missing_tifs = [t for t in TimeInForce if t not in caps.time_in_force]
    if not missing_types and not missing_tifs:
        pytest.skip("the broker declares every order type and time in force")
    for order_type in missing_types:
        price = away(s, -5) if order_type.needs_price else None
        stop = away(s, 5) if order_type.needs_stop_price else None
        with pytest.raises(InvalidOrder):
            await s.adapter.submit_order(request(s, OrderSide.BUY, order_type, price=price, stop_price=stop))
    for tif in missing_tifs:
        with pytest.raises(InvalidOrder):
            await s.adapter.submit_order(request(s, OrderSide.BUY, price=away(s, -5), tif=tif))
    assert await s.control.orders() == []


async def test_unknown_symbol_refused(autotrader_session: HarnessSession) -> None:
    s = autotrader_session
    req = request(s, OrderSide.BUY, price=Decimal(1))
    bogus = attrs.evolve(req, symbol="NOSUCHSYMBOL")
    with pytest.raises(InvalidOrder) as info:
        await s.adapter.submit_order(bogus)
    assert info.value.field == "symbol"
    assert await s.control.orders() == []
