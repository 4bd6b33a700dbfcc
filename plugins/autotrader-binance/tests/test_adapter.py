"""The real python-binance AsyncClient, through the adapter, against the local venue.

These follow the scenarios of the conformance suite; every check reads the venue's own ledger.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal as D

import pytest
from autotrader.adapter import ExecutionEvent
from autotrader.errors import (
    AmbiguousOutcome,
    InvalidOrder,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    UnsupportedOrder,
)
from autotrader.model import (
    Fill,
    ModifyRequest,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    TimeInForce,
)
from autotrader.testing.harness import Fault, HarnessSession

from autotrader_binance.adapter import BinanceAdapter
from autotrader_binance.harness import BinanceVenueControl

pytestmark = pytest.mark.anyio

SYMBOL = "BTCUSDT"
Q = D("0.01")


def limit(
    cid: str, side: OrderSide, price: str, qty: D = Q, tif: TimeInForce = TimeInForce.GTC
) -> OrderRequest:
    return OrderRequest(cid, SYMBOL, side, OrderType.LIMIT, qty, price=D(price), time_in_force=tif)


def market(cid: str, side: OrderSide, qty: D = Q) -> OrderRequest:
    return OrderRequest(cid, SYMBOL, side, OrderType.MARKET, qty)


class Recorder:
    def __init__(self, session: HarnessSession) -> None:
        self.events: list[ExecutionEvent] = []
        session.adapter.add_listener(self.events.append)

    def fills(self, cid: str | None = None) -> list[Fill]:
        return [e for e in self.events if isinstance(e, Fill) and (cid is None or e.client_order_id == cid)]

    def filled(self, cid: str) -> D:
        """The quantity of the distinct fills seen (the answer and the stream both deliver some)."""
        return sum({f.trade_id: f.quantity for f in self.fills(cid)}.values(), D(0))

    def updates(self, cid: str) -> list[OrderUpdate]:
        return [e for e in self.events if isinstance(e, OrderUpdate) and e.client_order_id == cid]

    async def until(self, predicate: Callable[[], bool], within: float = 8.0) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for events")
            await asyncio.sleep(0.02)


def binance(session: HarnessSession) -> BinanceAdapter:
    assert isinstance(session.adapter, BinanceAdapter)
    return session.adapter


def resubscriptions(session: HarnessSession) -> int:
    stream = binance(session).user_stream
    return stream.resubscriptions if stream is not None else -1


def control(session: HarnessSession) -> BinanceVenueControl:
    assert isinstance(session.control, BinanceVenueControl)
    return session.control


async def test_connect_and_instruments(session: HarnessSession) -> None:
    instruments = await session.adapter.instruments()
    btc = instruments[SYMBOL]
    assert (btc.tick_size, btc.lot_size, btc.min_notional) == (D("0.01"), D("0.00001"), D("5"))
    assert instruments["ETHBTC"].min_notional == D("0.0001")  # from the legacy MIN_NOTIONAL filter
    assert session.adapter.is_connected and await session.adapter.health_check()


async def test_resting_limit_is_visible_and_cancelled(session: HarnessSession) -> None:
    adapter = session.adapter
    ack = await adapter.submit_order(limit("r1", OrderSide.BUY, "49000.00"))
    assert ack.status is OrderStatus.ACCEPTED
    assert [o.client_order_id for o in await adapter.get_open_orders()] == ["r1"]
    order = await adapter.get_order("r1")
    assert order is not None and order.status is OrderStatus.ACCEPTED and order.price == D("49000")
    ledger = await session.control.orders()
    assert [(o.client_order_id, o.status) for o in ledger] == [("r1", OrderStatus.ACCEPTED)]
    cancelled = await adapter.cancel_order("r1")
    assert cancelled.status is OrderStatus.CANCELLED
    assert (await session.control.orders())[0].status is OrderStatus.CANCELLED
    with pytest.raises(OrderNotFound):
        await adapter.cancel_order("r1")
    with pytest.raises(OrderNotFound):
        await adapter.cancel_order("never-sent")
    assert await adapter.get_order("never-sent") is None


async def test_market_fill_matches_the_ledger(session: HarnessSession) -> None:
    recorder = Recorder(session)
    ack = await session.adapter.submit_order(market("m1", OrderSide.BUY))
    assert ack.status is OrderStatus.FILLED and ack.filled_quantity == Q
    (fill,) = recorder.fills("m1")  # delivered from the FULL answer, before the ack returned
    await recorder.until(lambda: len(recorder.fills("m1")) == 2)  # and again from the stream
    assert {f.trade_id for f in recorder.fills("m1")} == {fill.trade_id}
    (trade,) = await session.control.trades()
    assert (fill.trade_id, fill.quantity, fill.price, fill.commission, fill.commission_asset) == (
        trade.trade_id,
        trade.quantity,
        trade.price,
        trade.commission,
        trade.commission_asset,
    )
    assert [f.trade_id for f in await session.adapter.get_order_fills("m1")] == [trade.trade_id]


async def test_resting_limit_fills_when_the_price_crosses(session: HarnessSession) -> None:
    recorder = Recorder(session)
    await session.adapter.submit_order(limit("x1", OrderSide.SELL, "50100.00"))
    await session.control.set_price(SYMBOL, D("50100.00"))
    await recorder.until(lambda: any(u.status is OrderStatus.FILLED for u in recorder.updates("x1")))
    assert recorder.fills("x1")[0].price == D("50100")


async def test_partial_fills_with_capped_liquidity(session: HarnessSession) -> None:
    recorder = Recorder(session)
    adapter, venue = session.adapter, session.control
    await venue.set_liquidity(SYMBOL, D("0.004"))
    ack = await adapter.submit_order(market("p1", OrderSide.BUY))
    assert ack.status is OrderStatus.EXPIRED and ack.filled_quantity == D("0.004")
    ack = await adapter.submit_order(limit("p2", OrderSide.BUY, "50000.00"))
    assert ack.status is OrderStatus.PARTIALLY_FILLED and ack.filled_quantity == D("0.004")
    await venue.set_price(SYMBOL, D("49990.00"))
    await venue.set_liquidity(SYMBOL, None)
    await venue.set_price(SYMBOL, D("49980.00"))
    await recorder.until(lambda: recorder.filled("p2") == Q)
    ledger = {o.client_order_id: o for o in await venue.orders()}
    assert ledger["p1"].status is OrderStatus.EXPIRED and ledger["p2"].status is OrderStatus.FILLED


async def test_ioc_and_fok(session: HarnessSession) -> None:
    adapter, venue = session.adapter, session.control
    await venue.set_liquidity(SYMBOL, D("0.004"))
    fok = await adapter.submit_order(limit("f1", OrderSide.BUY, "50000.00", tif=TimeInForce.FOK))
    assert fok.status is OrderStatus.EXPIRED and fok.filled_quantity == 0
    ioc = await adapter.submit_order(limit("i1", OrderSide.BUY, "50000.00", tif=TimeInForce.IOC))
    assert ioc.status is OrderStatus.EXPIRED and ioc.filled_quantity == D("0.004")
    assert [t.client_order_id for t in await venue.trades()] == ["i1"]
    with pytest.raises(UnsupportedOrder):
        await adapter.submit_order(
            OrderRequest("f2", SYMBOL, OrderSide.BUY, OrderType.MARKET, Q, time_in_force=TimeInForce.FOK)
        )


async def test_stop_and_stop_limit_trigger(session: HarnessSession) -> None:
    recorder = Recorder(session)
    adapter, venue = session.adapter, session.control
    stop = OrderRequest("s1", SYMBOL, OrderSide.SELL, OrderType.STOP, Q, stop_price=D("49000.00"))
    stop_limit = OrderRequest(
        "s2", SYMBOL, OrderSide.BUY, OrderType.STOP_LIMIT, Q, price=D("51100.00"), stop_price=D("51000.00")
    )
    assert (await adapter.submit_order(stop)).status is OrderStatus.ACCEPTED
    assert (await adapter.submit_order(stop_limit)).status is OrderStatus.ACCEPTED
    assert await venue.trades() == []
    await venue.set_price(SYMBOL, D("48900.00"))
    await venue.set_price(SYMBOL, D("51050.00"))
    await recorder.until(lambda: bool(recorder.fills("s1")) and bool(recorder.fills("s2")))
    assert recorder.fills("s1")[0].price == D("48900") and recorder.fills("s2")[0].price == D("51050")


async def test_modify_by_cancel_replace(session: HarnessSession) -> None:
    recorder = Recorder(session)
    adapter = session.adapter
    await adapter.submit_order(limit("mod1", OrderSide.BUY, "49000.00"))
    update = await adapter.modify_order(ModifyRequest("mod1", quantity=D("0.02"), price=D("49500.00")))
    assert (update.status, update.quantity, update.price) == (OrderStatus.ACCEPTED, D("0.02"), D("49500"))
    ledger = {o.client_order_id: o for o in await session.control.orders()}
    assert (ledger["mod1"].quantity, ledger["mod1"].price) == (D("0.02"), D("49500"))
    await asyncio.sleep(0.2)
    assert not any(u.status is OrderStatus.CANCELLED for u in recorder.updates("mod1"))
    order = await adapter.get_order("mod1")
    assert order is not None and order.is_open and order.quantity == D("0.02")


async def test_reject_and_invalid(session: HarnessSession) -> None:
    adapter, venue = session.adapter, session.control
    await venue.inject(Fault.REJECT, reason="risk says no")
    with pytest.raises(OrderRejected, match="risk says no"):
        await adapter.submit_order(market("rej1", OrderSide.BUY))
    before = len(await venue.orders())
    with pytest.raises(InvalidOrder):
        await adapter.submit_order(limit("bad1", OrderSide.BUY, "49000.001"))
    with pytest.raises(InvalidOrder):
        await adapter.submit_order(limit("bad2", OrderSide.BUY, "49000.00", qty=D("0.000001")))
    with pytest.raises(UnsupportedOrder):
        await adapter.submit_order(limit("bad3", OrderSide.BUY, "49000.00", tif=TimeInForce.DAY))
    assert len(await venue.orders()) == before
    with pytest.raises(OrderRejected, match="insufficient balance"):
        await adapter.submit_order(market("big1", OrderSide.SELL, D("20")))


async def test_server_error_is_ambiguous_and_nothing_happened(session: HarnessSession) -> None:
    await session.control.inject(Fault.SERVER_ERROR)
    with pytest.raises(AmbiguousOutcome):
        await session.adapter.submit_order(market("se1", OrderSide.BUY))
    assert await session.adapter.get_order("se1") is None


async def test_rate_limit(session: HarnessSession) -> None:
    await session.control.inject(Fault.RATE_LIMIT, retry_after=1.0)
    with pytest.raises(RateLimited) as caught:
        await session.adapter.submit_order(market("rl1", OrderSide.BUY))
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1.0 and not caught.value.ban
    with pytest.raises(RateLimited):  # honoured locally: nothing reaches the venue meanwhile
        await session.adapter.get_balances()
    await asyncio.sleep(caught.value.retry_after)
    assert (await session.adapter.submit_order(market("rl2", OrderSide.BUY))).status is OrderStatus.FILLED


async def test_ban_418(session: HarnessSession) -> None:
    await control(session).ban(60)
    with pytest.raises(RateLimited) as caught:
        await session.adapter.get_balances()
    assert caught.value.ban and caught.value.retry_after is not None and caught.value.retry_after >= 59


async def test_accept_then_timeout(session: HarnessSession) -> None:
    await session.control.inject(Fault.ACCEPT_THEN_TIMEOUT)
    started = time.monotonic()
    with pytest.raises(AmbiguousOutcome):
        await session.adapter.submit_order(market("att1", OrderSide.BUY))
    assert time.monotonic() - started < session.request_timeout + 1.0
    order = await session.adapter.get_order("att1")
    assert order is not None and order.status is OrderStatus.FILLED


async def test_clock_skew_resyncs_and_retries_once(session: HarnessSession) -> None:
    await control(session).skew_clock(30_000)
    ack = await session.adapter.submit_order(market("clk1", OrderSide.BUY))
    assert ack.status is OrderStatus.FILLED
    assert len(await session.control.orders()) == 1


async def test_dropped_stream_loses_no_fill(session: HarnessSession) -> None:
    recorder = Recorder(session)
    adapter, venue = session.adapter, session.control
    await adapter.submit_order(limit("d1", OrderSide.BUY, "49000.00"))
    await venue.inject(Fault.DROP_STREAM)
    await venue.set_price(SYMBOL, D("48000.00"))  # fills while nobody listens
    await recorder.until(lambda: bool(recorder.fills("d1")), within=10)
    (trade,) = await venue.trades()
    assert recorder.fills("d1")[0].trade_id == trade.trade_id
    assert resubscriptions(session) == 1
    await adapter.submit_order(limit("d2", OrderSide.BUY, "47000.00"))  # the new subscription carries
    await venue.set_price(SYMBOL, D("46000.00"))  # events: this fill reaches us through the stream only
    await recorder.until(lambda: bool(recorder.fills("d2")))


async def test_event_stream_terminated_resubscribes(session: HarnessSession) -> None:
    recorder = Recorder(session)
    await control(session).terminate_stream()
    await recorder.until(lambda: resubscriptions(session) == 1)
    await session.adapter.submit_order(limit("t1", OrderSide.BUY, "49000.00"))
    await session.control.set_price(SYMBOL, D("48000.00"))  # a fill only the stream reports
    await recorder.until(lambda: bool(recorder.fills("t1")))


async def test_duplicated_and_reordered_events_are_passed_on(session: HarnessSession) -> None:
    recorder = Recorder(session)
    await session.adapter.submit_order(limit("dup1", OrderSide.BUY, "49000.00"))
    await session.control.inject(Fault.DUPLICATE_EVENTS, count=3)
    await session.control.set_price(SYMBOL, D("48000.00"))  # TRADE report duplicated on the stream
    await recorder.until(lambda: len(recorder.fills("dup1")) == 2)
    assert len({f.trade_id for f in recorder.fills("dup1")}) == 1
    await session.control.inject(Fault.REORDER_EVENTS)
    await session.adapter.submit_order(market("ro1", OrderSide.BUY))
    await recorder.until(lambda: any(u.status is OrderStatus.FILLED for u in recorder.updates("ro1")))
    statuses = [u.status for u in recorder.updates("ro1")]
    assert statuses.index(OrderStatus.FILLED) < statuses.index(OrderStatus.ACCEPTED)  # swapped


async def test_hundred_concurrent_orders(session: HarnessSession) -> None:
    requests = [limit(f"c{i}", OrderSide.BUY, "40000.00") for i in range(100)]
    acks = await asyncio.gather(*(session.adapter.submit_order(r) for r in requests))
    assert all(a.status is OrderStatus.ACCEPTED for a in acks)
    assert len(await session.adapter.get_open_orders(SYMBOL)) == 100
    assert len({o.venue_order_id for o in await session.control.orders()}) == 100
    cancelled = await session.adapter.cancel_all_orders(SYMBOL)
    assert len(cancelled) == 100 and await session.adapter.get_open_orders() == []


async def test_balances_and_positions(session: HarnessSession) -> None:
    await session.adapter.submit_order(market("b1", OrderSide.BUY))
    await session.adapter.submit_order(limit("b2", OrderSide.SELL, "60000.00"))
    ours = {b.asset: (b.free, b.locked) for b in await session.adapter.get_balances()}
    venue = {b.asset: (b.free, b.locked) for b in await session.control.balances()}
    assert ours == venue and venue["BTC"][1] == Q
    positions = {p.symbol: p.quantity for p in await session.adapter.get_positions()}
    assert positions["BTCUSDT"] == venue["BTC"][0] + venue["BTC"][1]
    assert all(q >= 0 for q in positions.values())


async def test_secrets_stay_hidden(session: HarnessSession) -> None:
    adapter = binance(session)
    text = repr(adapter) + repr(adapter.config) + str(adapter.config)
    assert "local-venue-api-secret" not in text and "local-venue-api-key" not in text
