"""The real oandapyV20 client, through the adapter, against the local venue (asyncio and trio)."""

from __future__ import annotations

import logging
from decimal import Decimal

import anyio
import pytest
from autotrader.credentials import Secret
from autotrader.errors import InvalidOrder, OrderNotFound, OrderRejected
from autotrader.model import Fill, ModifyRequest, OrderRequest, OrderSide, OrderStatus, OrderType, TimeInForce
from autotrader.testing.harness import HarnessSession
from autotrader.testing.support import away, fills_match_trades, new_id, wait_for

from autotrader_oanda.adapter import OandaAdapter
from autotrader_oanda.config import OandaConfig
from autotrader_oanda.harness import OandaVenueControl

pytestmark = pytest.mark.anyio


def limit(
    s: HarnessSession,
    ticks: int,
    side: OrderSide = OrderSide.BUY,
    qty: Decimal | None = None,
    tif: TimeInForce = TimeInForce.GTC,
) -> OrderRequest:
    return OrderRequest(
        new_id("t"),
        s.symbol,
        side,
        OrderType.LIMIT,
        qty or s.quantity,
        price=away(s, ticks),
        time_in_force=tif,
    )


def market(s: HarnessSession, side: OrderSide = OrderSide.BUY) -> OrderRequest:
    return OrderRequest(new_id("m"), s.symbol, side, OrderType.MARKET, s.quantity)


def collect(s: HarnessSession) -> list[Fill]:
    fills: list[Fill] = []
    s.adapter.add_listener(lambda e: fills.append(e) if isinstance(e, Fill) else None)
    return fills


def control(s: HarnessSession) -> OandaVenueControl:
    assert isinstance(s.control, OandaVenueControl)
    return s.control


async def fill_resting_order_while(s: HarnessSession, damage: object) -> tuple[list[Fill], OrderRequest]:
    fills = collect(s)
    req = limit(s, -10)
    ack = await s.adapter.submit_order(req)
    assert ack.status is OrderStatus.ACCEPTED
    await damage()  # type: ignore[operator]
    await s.control.set_price(s.symbol, away(s, -20))
    await wait_for(
        lambda: any(f.client_order_id == req.client_order_id for f in fills), timeout=10, what="the fill"
    )
    await anyio.sleep(0.3)
    return fills, req


async def test_instruments_carry_v20_precision(session: HarnessSession) -> None:
    assert isinstance(session.adapter, OandaAdapter)
    details = session.adapter.instrument_details("USD_JPY")
    assert details.pip_location == -2 and details.instrument.tick_size == Decimal("0.001")
    spx = (await session.adapter.instruments())["SPX500_USD"]
    assert spx.lot_size == Decimal("0.1") and spx.min_quantity == Decimal("0.1")
    with pytest.raises(InvalidOrder) as info:
        await session.adapter.submit_order(
            OrderRequest("x", "SPX500_USD", OrderSide.BUY, OrderType.MARKET, Decimal("0.05"))
        )
    assert info.value.field == "quantity"
    assert await session.control.orders() == []


async def test_market_fill_ack_and_stream_deliver_the_trade_once(session: HarnessSession) -> None:
    s = session
    fills = collect(s)
    ack = await s.adapter.submit_order(market(s))
    assert ack.status is OrderStatus.FILLED and ack.filled_quantity == s.quantity
    await anyio.sleep(0.4)  # let the stream deliver its copy
    assert fills_match_trades(fills, await s.control.trades())
    (position,) = await s.adapter.get_positions()
    assert position.symbol == s.symbol and position.quantity == s.quantity


async def test_stream_torn_mid_line_reconnects_and_backfills(session: HarnessSession) -> None:
    fills, _ = await fill_resting_order_while(session, control(session).end_stream_mid_line)
    assert fills_match_trades(fills, await session.control.trades())
    assert isinstance(session.adapter, OandaAdapter) and session.adapter._feed is not None
    assert session.adapter._feed.connects >= 2


async def test_silent_stream_times_out_and_reconnects(session: HarnessSession) -> None:
    async def silence() -> None:
        await control(session).silence_stream(30)

    fills, _ = await fill_resting_order_while(session, silence)
    assert fills_match_trades(fills, await session.control.trades())
    assert isinstance(session.adapter, OandaAdapter) and session.adapter._feed is not None
    assert session.adapter._feed.connects >= 2


async def test_gap_in_transaction_ids_is_backfilled(session: HarnessSession) -> None:
    async def gap() -> None:
        await control(session).skip_stream_events(3)

    fills, _ = await fill_resting_order_while(session, gap)
    assert fills_match_trades(fills, await session.control.trades())
    assert isinstance(session.adapter, OandaAdapter) and session.adapter._feed is not None
    assert session.adapter._feed.backfills >= 1


async def test_duplicated_and_reordered_events_are_passed_on_once(session: HarnessSession) -> None:
    from autotrader.testing.harness import Fault

    async def damage() -> None:
        await session.control.inject(Fault.DUPLICATE_EVENTS, count=5)
        await session.control.inject(Fault.REORDER_EVENTS)

    fills, _ = await fill_resting_order_while(session, damage)
    assert fills_match_trades(fills, await session.control.trades())


async def test_modify_after_a_partial_fill_keeps_the_total(session: HarnessSession) -> None:
    s = session
    await s.control.set_liquidity(s.symbol, Decimal(400))
    req = limit(s, 1)
    ack = await s.adapter.submit_order(req)
    assert ack.status is OrderStatus.PARTIALLY_FILLED and ack.filled_quantity == Decimal(400)
    await s.control.set_liquidity(s.symbol, None)
    update = await s.adapter.modify_order(
        ModifyRequest(req.client_order_id, quantity=Decimal(1500), price=away(s, -30))
    )
    assert update.status is OrderStatus.PARTIALLY_FILLED and update.quantity == Decimal(1500)
    order = await s.adapter.get_order(req.client_order_id)
    assert order is not None and order.quantity == Decimal(1500) and order.filled_quantity == Decimal(400)
    assert order.price == away(s, -30) and order.status is OrderStatus.PARTIALLY_FILLED
    (open_order,) = await s.adapter.get_open_orders(s.symbol)
    assert open_order.filled_quantity == Decimal(400) and open_order.quantity == Decimal(1500)
    ledger = [o for o in await s.control.orders() if o.status.is_open]
    assert [(o.quantity, o.price) for o in ledger] == [(Decimal(1100), away(s, -30))]
    await s.control.set_price(s.symbol, away(s, -40))
    fills = await s.adapter.get_order_fills(req.client_order_id)
    assert sum(f.quantity for f in fills) == Decimal(1500)
    done = await s.adapter.get_order(req.client_order_id)
    assert done is not None and done.status is OrderStatus.FILLED


async def test_halted_market_is_rejected_resting_orders_wait(session: HarnessSession) -> None:
    s = session
    await control(s).halt(s.symbol)
    with pytest.raises(OrderRejected) as info:
        await s.adapter.submit_order(market(s))
    assert info.value.code == "MARKET_HALTED"
    ack = await s.adapter.submit_order(limit(s, -5))
    assert ack.status is OrderStatus.ACCEPTED
    await control(s).halt(s.symbol, halted=False)


async def test_cancel_twice_and_unknown(session: HarnessSession) -> None:
    s = session
    req = limit(s, 50, OrderSide.SELL)
    await s.adapter.submit_order(req)
    assert (await s.adapter.cancel_order(req.client_order_id)).status is OrderStatus.CANCELLED
    with pytest.raises(OrderNotFound):
        await s.adapter.cancel_order(req.client_order_id)
    order = await s.adapter.get_order(req.client_order_id)
    assert order is not None and order.status is OrderStatus.CANCELLED and order.side is OrderSide.SELL


async def test_balances_are_nav_and_agree_with_the_venue(session: HarnessSession) -> None:
    s = session
    await s.adapter.submit_order(market(s, OrderSide.SELL))
    (ours,) = await s.adapter.get_balances()
    (venue,) = await s.control.balances()
    assert ours == venue and ours.asset == "USD" and ours.locked > 0


async def test_the_token_never_shows(session: HarnessSession, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = session.adapter
    assert isinstance(adapter, OandaAdapter)
    token = adapter.config.access_token.reveal()
    await control(session).end_stream_mid_line()
    await adapter.submit_order(market(session))
    await anyio.sleep(0.3)
    texts = [repr(adapter), repr(adapter.config), repr(adapter._client), caplog.text]
    assert all(token not in text for text in texts)


def test_config_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OANDA_ACCESS_TOKEN", "from-env-token")
    monkeypatch.setenv("OANDA_ACCOUNT_ID", "101-1")
    config = OandaConfig.from_env(request_timeout=3)
    assert config.access_token == Secret("from-env-token") and config.account_id == "101-1"
    assert "from-env-token" not in repr(config) and config.environment == "practice"
