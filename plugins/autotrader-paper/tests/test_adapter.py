"""The paper adapter: seed API, validation before the venue, latency, faults and the stream."""

from __future__ import annotations

from decimal import Decimal

import anyio
import pytest

from autotrader.errors import AmbiguousOutcome, InvalidOrder, RateLimited, TransientError
from autotrader.model import Fill, OrderRequest, OrderSide, OrderStatus, OrderType, OrderUpdate
from autotrader.testing.harness import Fault
from autotrader_paper import PaperTradingAdapter
from autotrader_paper.control import PaperVenueControl

pytestmark = pytest.mark.anyio
D = Decimal


async def connected(**kw: object) -> PaperTradingAdapter:
    settings: dict[str, object] = {"latency_ms": (0, 0), "seed": 1, "fill_probability": 1.0}
    settings.update(kw)
    adapter = PaperTradingAdapter(**settings)  # type: ignore[arg-type]
    await adapter.connect()
    adapter.update_price("BTCUSDT", 50000)
    return adapter


def market(coid: str = "m1", qty: str = "0.01") -> OrderRequest:
    return OrderRequest(coid, "BTCUSDT", OrderSide.BUY, OrderType.MARKET, D(qty))


async def test_seed_signature_and_float_settings() -> None:
    adapter = PaperTradingAdapter(
        initial_balance=100000,
        latency_ms=(10, 50),
        slippage_bps=5.0,
        commission_bps=10.0,
        fill_probability=0.95,
    )
    assert adapter.initial_balance == D(100000) and adapter.venue.slippage_bps == D("5.0")
    await adapter.connect()
    assert (await adapter.get_account_balance())["USD"]["total"] == D(100000)


async def test_latency_is_simulated() -> None:
    adapter = await connected(latency_ms=(50, 50))
    started = anyio.current_time()
    await adapter.submit_order(market())
    assert anyio.current_time() - started >= 0.05


async def test_invalid_input_never_reaches_the_venue() -> None:
    adapter = await connected()
    with pytest.raises(InvalidOrder, match="quantity"):
        await adapter.submit_order(market(qty="0.000001"))
    with pytest.raises(InvalidOrder, match="notional"):
        await adapter.submit_order(market(qty="0.00001"))
    assert adapter.venue.ledger_orders() == []


async def test_events_reach_listeners_in_order() -> None:
    adapter = await connected()
    events: list[object] = []
    adapter.add_listener(events.append)
    fills: list[Fill] = []
    adapter.subscribe_fills(fills.append)
    ack = await adapter.submit_order(market())
    assert ack.status is OrderStatus.FILLED
    assert [type(e).__name__ for e in events] == ["OrderUpdate", "Fill", "OrderUpdate"]
    assert len(fills) == 1


async def test_event_stream_iterator() -> None:
    adapter = await connected()
    async with adapter.events() as stream:
        await adapter.submit_order(market())
        first = await stream.receive()
        assert isinstance(first, OrderUpdate) and first.status is OrderStatus.ACCEPTED


async def test_faults() -> None:
    adapter = await connected()
    control = PaperVenueControl(adapter)
    await control.inject(Fault.SERVER_ERROR)
    with pytest.raises(TransientError):
        await adapter.submit_order(market("a"))
    await control.inject(Fault.RATE_LIMIT, retry_after=2.5)
    with pytest.raises(RateLimited) as info:
        await adapter.submit_order(market("b"))
    assert info.value.retry_after == 2.5
    await control.inject(Fault.ACCEPT_THEN_TIMEOUT)
    with pytest.raises(AmbiguousOutcome):
        await adapter.submit_order(market("c"))
    assert (await adapter.get_order("c")).status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert [o.client_order_id for o in await control.orders()] == ["c"]


async def test_dropped_stream_is_reconciled_on_reconnect() -> None:
    adapter = await connected(reconnect_delay=0.05)
    seen: list[object] = []
    adapter.add_listener(seen.append)
    await adapter.submit_order(
        OrderRequest("r1", "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, D("0.01"), price=D(49000))
    )
    adapter.drop_stream()
    adapter.update_price("BTCUSDT", 48000)
    assert not any(isinstance(e, Fill) for e in seen)
    await anyio.sleep(0.06)
    assert await adapter.health_check()
    assert [e.trade_id for e in seen if isinstance(e, Fill)] == ["T1"]
