"""The paper adapter: seed API, validation before the venue, latency, faults and the stream."""

from __future__ import annotations

import anyio
import pytest
from paper_helpers import BUY, SELL, D

from autotrader.errors import (
    AmbiguousOutcome,
    ConfigError,
    InvalidOrder,
    NotConnected,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TransientError,
)
from autotrader.model import (
    Fill,
    ModifyRequest,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    TimeInForce,
)
from autotrader.testing.harness import Fault
from autotrader_paper import PaperConfig, PaperTradingAdapter
from autotrader_paper.control import PaperVenueControl

pytestmark = pytest.mark.anyio


async def connected(**kw: object) -> PaperTradingAdapter:
    settings: dict[str, object] = {
        "latency_ms": (0, 0),
        "seed": 1,
        "fill_probability": 1.0,
        "session_id": "s",
    }
    settings["initial_balance"] = 10**7
    settings.update(kw)
    adapter = PaperTradingAdapter(**settings)  # type: ignore[arg-type]
    await adapter.connect()
    adapter.update_price("BTCUSDT", 50000)
    return adapter


def market(coid: str = "m1", qty: str = "0.01") -> OrderRequest:
    return OrderRequest(coid, "BTCUSDT", BUY, OrderType.MARKET, D(qty))


def limit(coid: str, price: str, side: str = "BUY") -> OrderRequest:
    return OrderRequest(coid, "BTCUSDT", BUY if side == "BUY" else SELL, OrderType.LIMIT, D("0.01"), D(price))


async def test_seed_signature_and_float_settings() -> None:
    adapter = PaperTradingAdapter(
        initial_balance=100000,
        latency_ms=(10, 50),
        slippage_bps=5.0,
        commission_bps=10.0,
        fill_probability=0.95,
    )
    assert adapter.initial_balance == D(100000) and adapter.venue.slippage_bps == D("5.0")
    assert adapter.venue.commission_bps == D("10.0") and adapter.latency_ms == (10.0, 50.0)
    assert await adapter.connect() and await adapter.connect()  # tolerates a second connect
    assert (await adapter.get_account_balance())["USD"]["total"] == D(100000)
    assert "PaperTradingAdapter(initial_balance=100000" in repr(adapter)


async def test_bad_settings_fail_at_construction() -> None:
    with pytest.raises(ConfigError, match="latency_ms"):
        PaperTradingAdapter(latency_ms=(50, 10))
    with pytest.raises(ConfigError, match="fill_probability"):
        PaperTradingAdapter(fill_probability=1.5)
    with pytest.raises(ConfigError, match="commission_bps"):
        PaperTradingAdapter(commission_bps=-1)
    assert PaperTradingAdapter(config=PaperConfig(initial_balance="5")).initial_balance == D(5)


async def test_instruments_catalogue_and_overrides() -> None:
    from autotrader.model import Instrument

    extra = Instrument("SOLUSDT", "SOL", "USDT", tick_size="0.001", lot_size="0.01", min_notional="5")
    adapter = PaperTradingAdapter(instruments={"SOLUSDT": extra}, latency_ms=(0, 0))
    await adapter.connect()
    catalogue = await adapter.instruments()
    assert {"BTCUSDT", "ETHUSDT", "BTCUSD", "EURUSD", "GBPUSD", "GOOG", "AAPL", "SOLUSDT"} <= set(catalogue)
    assert catalogue["BTCUSDT"].min_notional == D(5)


async def test_latency_is_simulated_and_zero_latency_never_sleeps() -> None:
    adapter = await connected(latency_ms=(50, 50))
    started = anyio.current_time()
    await adapter.submit_order(market())
    assert anyio.current_time() - started >= 0.05
    fast = await connected()
    started = anyio.current_time()
    for i in range(200):
        await fast.submit_order(market(f"f{i}"))
    assert anyio.current_time() - started < 0.5


async def test_invalid_input_never_reaches_the_venue() -> None:
    adapter = await connected()
    with pytest.raises(InvalidOrder, match="quantity"):
        await adapter.submit_order(market(qty="0.000001"))
    with pytest.raises(InvalidOrder, match="notional"):
        await adapter.submit_order(market(qty="0.00001"))
    with pytest.raises(InvalidOrder) as info:
        await adapter.submit_order(OrderRequest("x", "NOPE", BUY, OrderType.MARKET, D(1)))
    assert info.value.field == "symbol"
    await adapter.submit_order(limit("ok", "49000"))
    with pytest.raises(InvalidOrder, match="tick"):
        await adapter.modify_order(ModifyRequest("ok", price=D("49000.001")))
    assert [o.client_order_id for o in adapter.venue.ledger_orders()] == ["ok"]


async def test_not_connected() -> None:
    adapter = PaperTradingAdapter(latency_ms=(0, 0))
    with pytest.raises(NotConnected):
        await adapter.get_open_orders()


async def test_events_reach_listeners_in_order() -> None:
    adapter = await connected()
    events: list[object] = []
    adapter.add_listener(events.append)
    fills: list[Fill] = []
    adapter.subscribe_fills(fills.append)
    ack = await adapter.submit_order(market())
    assert ack.status is OrderStatus.FILLED and ack.filled_quantity == D("0.01")
    assert [type(e).__name__ for e in events] == ["OrderUpdate", "Fill", "OrderUpdate"]
    assert fills == [events[1]] and fills[0].trade_id == "s-T1" and fills[0].venue == "paper"


async def test_resting_order_lifecycle_through_the_adapter() -> None:
    adapter = await connected()
    events: list[object] = []
    adapter.add_listener(events.append)
    ack = await adapter.submit_order(limit("r1", "49000"))
    assert ack.status is OrderStatus.ACCEPTED
    assert [o.client_order_id for o in await adapter.get_open_orders()] == ["r1"]
    modified = await adapter.modify_order(ModifyRequest("r1", price=D(49500)))
    assert (modified.status, modified.price, modified.quantity) == (OrderStatus.ACCEPTED, D(49500), D("0.01"))
    adapter.update_price("BTCUSDT", 49400)
    order = await adapter.get_order("r1")
    assert order is not None and order.status is OrderStatus.FILLED and order.average_fill_price == D(49500)
    (fill,) = await adapter.get_order_fills("r1")
    assert fill in events
    assert (await adapter.get_positions())[0].quantity == D("0.01")
    assert await adapter.get_balances() == adapter.venue.balances()
    with pytest.raises(OrderNotFound):
        await adapter.cancel_order("r1")
    assert await adapter.get_order("nope") is None


async def test_day_orders_expire_at_end_of_day() -> None:
    adapter = await connected()
    events: list[object] = []
    adapter.add_listener(events.append)
    await adapter.submit_order(
        OrderRequest(
            "d1", "BTCUSDT", BUY, OrderType.LIMIT, D("0.01"), D(49000), time_in_force=TimeInForce.DAY
        )
    )
    assert [o.status for o in adapter.end_of_day()] == [OrderStatus.EXPIRED]
    assert isinstance(events[-1], OrderUpdate) and events[-1].status is OrderStatus.EXPIRED


async def test_event_stream_iterator() -> None:
    adapter = await connected()
    async with adapter.events() as stream:
        await adapter.submit_order(market())
        first = await stream.receive()
        assert isinstance(first, OrderUpdate) and first.status is OrderStatus.ACCEPTED


async def test_request_faults() -> None:
    adapter = await connected()
    control = PaperVenueControl(adapter)
    await control.inject(Fault.SERVER_ERROR, count=2)
    for coid in ("a", "a"):
        with pytest.raises(TransientError):
            await adapter.submit_order(market(coid))
    await control.inject(Fault.RATE_LIMIT, retry_after=2.5)
    with pytest.raises(RateLimited) as info:
        await adapter.get_open_orders()
    assert info.value.retry_after == 2.5
    await control.inject(Fault.REJECT, reason="no today")
    with pytest.raises(OrderRejected, match="no today"):
        await adapter.submit_order(market("b"))
    assert [(o.client_order_id, o.status) for o in await control.orders()] == [("b", OrderStatus.REJECTED)]
    assert (await adapter.submit_order(market("a"))).status is OrderStatus.FILLED  # faults are used up


async def test_accept_then_timeout_processes_the_order_but_loses_its_events() -> None:
    adapter = await connected()
    control = PaperVenueControl(adapter)
    seen: list[object] = []
    adapter.add_listener(seen.append)
    await control.inject(Fault.ACCEPT_THEN_TIMEOUT)
    with pytest.raises(AmbiguousOutcome):
        await adapter.submit_order(market("c"))
    assert seen == []
    found = await adapter.get_order("c")
    assert found is not None and found.status is OrderStatus.FILLED
    assert [t.client_order_id for t in await control.trades()] == ["c"]


async def test_accept_then_timeout_waits_the_request_timeout_when_latency_is_simulated() -> None:
    adapter = await connected(latency_ms=(1, 1), request_timeout=0.2)
    await PaperVenueControl(adapter).inject(Fault.ACCEPT_THEN_TIMEOUT)
    started = anyio.current_time()
    with pytest.raises(AmbiguousOutcome):
        await adapter.submit_order(limit("t", "49000"))
    assert 0.2 <= anyio.current_time() - started < 1.0


async def test_dropped_stream_is_reconciled_on_the_next_call() -> None:
    adapter = await connected(reconnect_delay=0.05)
    seen: list[object] = []
    adapter.add_listener(seen.append)
    await adapter.submit_order(limit("r1", "49000"))
    await PaperVenueControl(adapter).inject(Fault.DROP_STREAM)
    adapter.venue.set_price("BTCUSDT", D(48000))
    assert not any(isinstance(e, Fill) for e in seen)
    assert await adapter.health_check()  # too early: still down
    assert not any(isinstance(e, Fill) for e in seen)
    await anyio.sleep(0.06)
    assert await adapter.health_check()
    assert [e.trade_id for e in seen if isinstance(e, Fill)] == ["s-T1"]
    last = seen[-1]
    assert isinstance(last, OrderUpdate) and last.status is OrderStatus.FILLED
    assert adapter.stream.reconnects == 1


async def test_dropped_stream_is_reconciled_by_market_data_alone() -> None:
    adapter = await connected(reconnect_delay=0.05)
    seen: list[object] = []
    adapter.add_listener(seen.append)
    adapter.drop_stream()
    ack = await adapter.submit_order(market("m"))  # fills while down: its events are lost
    assert ack.status is OrderStatus.FILLED and seen == []
    await anyio.sleep(0.06)
    adapter.update_price("BTCUSDT", 50001)  # the engine's market data re-subscribes the stream
    assert [type(e).__name__ for e in seen] == ["Fill", "OrderUpdate"]


async def test_stream_tracks_only_what_it_must() -> None:
    """Orders closed while the stream was up are not re-queried (and not kept in memory)."""
    adapter = await connected(reconnect_delay=0.0)
    for i in range(50):
        await adapter.submit_order(market(f"x{i}"))
    await adapter.submit_order(limit("open", "49000"))
    seen: list[object] = []
    adapter.add_listener(seen.append)
    adapter.drop_stream()
    await adapter.health_check()
    assert [(type(e).__name__, e.client_order_id) for e in seen] == [("OrderUpdate", "open")]  # type: ignore[attr-defined]


async def test_duplicated_events() -> None:
    adapter = await connected()
    seen: list[object] = []
    adapter.add_listener(seen.append)
    await PaperVenueControl(adapter).inject(Fault.DUPLICATE_EVENTS, count=2)
    await adapter.submit_order(market())
    assert [type(e).__name__ for e in seen] == ["OrderUpdate", "OrderUpdate", "Fill", "Fill", "OrderUpdate"]


async def test_reordered_events() -> None:
    adapter = await connected()
    seen: list[object] = []
    adapter.add_listener(seen.append)
    await PaperVenueControl(adapter).inject(Fault.REORDER_EVENTS)
    await adapter.submit_order(market())
    assert [type(e).__name__ for e in seen] == ["Fill", "OrderUpdate", "OrderUpdate"]
    assert isinstance(seen[1], OrderUpdate) and seen[1].status is OrderStatus.ACCEPTED


async def test_a_held_event_is_not_lost_when_nothing_follows() -> None:
    adapter = await connected()
    seen: list[object] = []
    await adapter.submit_order(limit("h", "49000"))
    adapter.add_listener(seen.append)
    await PaperVenueControl(adapter).inject(Fault.REORDER_EVENTS)
    adapter.venue.cancel("h")
    assert seen == []
    await adapter.get_open_orders()
    assert [e.status for e in seen] == [OrderStatus.CANCELLED]  # type: ignore[attr-defined]


async def test_same_seed_same_run() -> None:
    async def run(seed: int) -> list[tuple[str, OrderStatus]]:
        adapter = await connected(seed=seed, fill_probability=0.5, latency_ms=(0.01, 0.02))
        for i in range(30):
            await adapter.submit_order(limit(f"p{i}", "49000"))
        adapter.update_price("BTCUSDT", 48000)
        return [(o.client_order_id, o.status) for o in adapter.venue.open_orders()]

    assert await run(5) == await run(5)
    assert await run(5) != await run(6)
