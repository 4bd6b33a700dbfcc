"""The real python-binance AsyncClient, through the adapter, against the local venue.

These follow the scenarios of the conformance suite; every check reads the venue's own ledger.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal as D

import attrs
import pytest
from autotrader.adapter import ExecutionEvent
from autotrader.errors import (
    AmbiguousOutcome,
    BrokerError,
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
from autotrader.oms import OrderManager
from autotrader.resiliency import CircuitState, ResiliencyManager
from autotrader.testing.harness import Fault, HarnessSession

from autotrader_binance.adapter import BinanceAdapter
from autotrader_binance.harness import BinanceVenueControl, local_config
from autotrader_binance.venue import BinanceVenue, SymbolSpec

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


async def test_a_smaller_quantity_is_amended_in_place(session: HarnessSession) -> None:
    recorder = Recorder(session)
    adapter = session.adapter
    await adapter.submit_order(limit("am1", OrderSide.BUY, "49000.00", qty=D("0.02")))
    await adapter.submit_order(limit("am2", OrderSide.BUY, "49000.00"))  # behind am1 at the same price
    update = await adapter.modify_order(ModifyRequest("am1", quantity=D("0.01")))
    assert (update.status, update.quantity, update.venue_order_id) == (OrderStatus.ACCEPTED, Q, "1")
    ledger = [o for o in await session.control.orders() if o.client_order_id == "am1"]
    assert [(o.venue_order_id, o.quantity) for o in ledger] == [("1", Q)]  # the same order, smaller
    await recorder.until(lambda: any(u.quantity == Q for u in recorder.updates("am1")))  # REPLACED
    await session.control.set_liquidity(SYMBOL, Q)
    await session.control.set_price(SYMBOL, D("48000.00"))
    await recorder.until(lambda: recorder.filled("am1") == Q)
    assert recorder.fills("am2") == []  # am1 kept its place in the queue
    with pytest.raises(InvalidOrder):  # not above what is filled
        await adapter.modify_order(ModifyRequest("am2", quantity=D("0.00001"), price=D("1.00")))


async def test_a_new_price_is_a_cancel_replace(session: HarnessSession) -> None:
    adapter = session.adapter
    await adapter.submit_order(limit("cr1", OrderSide.BUY, "49000.00", qty=D("0.02")))
    update = await adapter.modify_order(ModifyRequest("cr1", quantity=D("0.01"), price=D("48000.00")))
    assert (update.quantity, update.price, update.venue_order_id) == (Q, D("48000"), "2")
    ledger = [(o.venue_order_id, o.status) for o in await session.control.orders()]
    assert ledger == [("1", OrderStatus.CANCELLED), ("2", OrderStatus.ACCEPTED)]


async def test_an_order_of_another_process_is_found_by_its_client_id(session: HarnessSession) -> None:
    """After a restart the adapter knows no symbols: it searches, and says "none" only when sure."""
    await session.adapter.submit_order(market("gone1", OrderSide.BUY))  # filled: not open any more
    fresh = BinanceAdapter(binance(session).config)
    await fresh.connect()
    try:
        found = await fresh.get_order("gone1")
        assert found is not None and found.status is OrderStatus.FILLED and found.symbol == SYMBOL
        assert [f.trade_id for f in await fresh.get_order_fills("gone1")] == ["BTCUSDT:1"]
        assert await fresh.get_order("never-sent") is None
    finally:
        await fresh.disconnect()


async def test_without_symbols_a_large_exchange_is_not_searched_blindly() -> None:
    many = [SymbolSpec(f"C{i}USDT", f"C{i}", "USDT", price=D("10.00")) for i in range(25)]
    async with BinanceVenue(symbols=many) as venue:
        config = local_config(venue)
        adapter = BinanceAdapter(config)
        await adapter.connect()
        try:
            with pytest.raises(BrokerError, match="set the broker's `symbols`"):
                await adapter.get_order("lost-after-restart")
        finally:
            await adapter.disconnect()
        narrowed = BinanceAdapter(attrs.evolve(config, symbols=["C1USDT", "C2USDT"]))
        await narrowed.connect()
        try:
            assert await narrowed.get_order("lost-after-restart") is None
        finally:
            await narrowed.disconnect()


async def test_an_ip_ban_opens_the_circuit_and_nothing_is_sent(session: HarnessSession) -> None:
    resiliency = ResiliencyManager(session.adapter, initial_backoff=0.01, max_retries=2)
    oms = OrderManager(session.adapter, resiliency, order_timeout=None)
    await control(session).ban(60)
    order = await oms.submit_order(limit("ban1", OrderSide.BUY, "49000.00"))
    assert order.status is OrderStatus.REJECTED and "banned" in (order.reason or "")
    assert resiliency.circuit.state is CircuitState.OPEN
    order = await oms.submit_order(limit("ban2", OrderSide.BUY, "49000.00"))
    assert order.status is OrderStatus.REJECTED and "Circuit" in (order.reason or "")
    assert await session.control.orders() == []


async def test_used_weight_and_order_counts_are_tracked(session: HarnessSession) -> None:
    budget = binance(session).budget
    venue = control(session).venue
    assert (budget.weight.limit, budget.orders["10S"].limit) == (6000, 1000)  # from exchangeInfo
    await session.adapter.submit_order(limit("w1", OrderSide.BUY, "49000.00"))
    await session.adapter.get_balances()
    now = venue.exchange.now_ms()
    assert budget.weight.used == int(venue.limits.weight_headers(now)["X-MBX-USED-WEIGHT-1M"])
    assert budget.orders["10S"].used == int(venue.limits.order_headers(now)["X-MBX-ORDER-COUNT-10S"]) == 1


async def test_the_server_clock_offset_is_kept_current(session: HarnessSession) -> None:
    adapter = BinanceAdapter(attrs.evolve(binance(session).config, clock_sync_interval=0.05))
    await adapter.connect()
    try:
        await control(session).skew_clock(4_000)
        await Recorder(session).until(lambda: abs(adapter.client.timestamp_offset - 4_000) < 500, within=3)
        assert (
            await adapter.submit_order(limit("clk2", OrderSide.BUY, "49000.00"))
        ).status is OrderStatus.ACCEPTED
    finally:
        await adapter.disconnect()


async def test_every_character_binance_allows_in_a_client_id_is_signed_as_sent(
    session: HarnessSession,
) -> None:
    """python-binance signs ``a:b`` but aiohttp form-encodes it to ``a%3Ab``; Binance checks the bytes
    it received, so unrepaired, such an id is refused with -1022 (see client.BinanceClient)."""
    cid = "at:1/x.y_z-0"
    assert (
        await session.adapter.submit_order(limit(cid, OrderSide.BUY, "49000.00"))
    ).status is OrderStatus.ACCEPTED
    assert [o.client_order_id for o in await session.control.orders()] == [cid]
    assert (await session.adapter.cancel_order(cid)).status is OrderStatus.CANCELLED


async def test_resubscribing_waits_out_a_ban(session: HarnessSession) -> None:
    """Binance lengthens a ban for whoever keeps sending: the stream knocks once, then waits."""
    recorder = Recorder(session)
    venue = control(session).venue
    await session.adapter.submit_order(limit("ban-wait", OrderSide.BUY, "49000.00"))
    subscribed = venue.ws.requests["userDataStream.subscribe.signature"]
    await control(session).ban(2)
    await session.control.inject(Fault.DROP_STREAM)
    await session.control.set_price(SYMBOL, D("48000.00"))
    await recorder.until(lambda: bool(recorder.fills("ban-wait")), within=15)
    assert resubscriptions(session) == 1
    # one refused attempt during the ban (or none, if the library's reconnection took longer), then one
    assert venue.ws.requests["userDataStream.subscribe.signature"] - subscribed <= 2
