"""The OMS: submit paths, fills once, overfills refused, cancels, timeouts, metrics, bounded memory."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.errors import OrderNotFound, TransientError
from autotrader.model import Fill, OrderRequest, OrderSide, OrderStatus, OrderType, OrderUpdate
from autotrader.oms import OrderManager
from autotrader.resiliency import ResiliencyManager

from .scripted import ScriptedAdapter, ambiguous

pytestmark = pytest.mark.anyio
D = Decimal


def make(adapter: ScriptedAdapter | None = None, **kw: object) -> tuple[OrderManager, ScriptedAdapter]:
    adapter = adapter or ScriptedAdapter()
    res = ResiliencyManager(adapter, initial_backoff=0.001, reconcile_delay=0.001)
    return OrderManager(adapter, res, **kw), adapter  # type: ignore[arg-type]


def limit(coid: str, qty: str = "1", price: str = "100", side: OrderSide = OrderSide.BUY) -> OrderRequest:
    return OrderRequest(coid, "BTCUSDT", side, OrderType.LIMIT, D(qty), price=D(price))


def market(coid: str, qty: str = "1", side: OrderSide = OrderSide.BUY) -> OrderRequest:
    return OrderRequest(coid, "BTCUSDT", side, OrderType.MARKET, D(qty))


async def test_market_order_fills_and_moves_position() -> None:
    oms, _ = make()
    order = await oms.submit_order(market("m1", "2"))
    assert order.status is OrderStatus.FILLED and order.filled_quantity == D(2)
    assert oms.get_position("BTCUSDT").quantity == D(2)
    assert oms.get_order("m1") == order and oms.get_completed_orders() == [order]


async def test_duplicate_fill_applied_once() -> None:
    oms, adapter = make()
    await oms.submit_order(limit("c1", "2"))
    fill = adapter.fill("c1", D(1), D(100))
    oms.on_event(fill)  # the venue repeats itself
    order = oms.get_order("c1")
    assert (
        order is not None and order.filled_quantity == D(1) and order.status is OrderStatus.PARTIALLY_FILLED
    )
    assert oms.get_metrics()["duplicate_fills_ignored"] == 1
    assert oms.positions.quantity("BTCUSDT") == D(1)


async def test_many_partial_fills_each_applied_once_however_often_repeated() -> None:
    """Past a few fills an order's keys move from a tuple to a set; both must dedupe."""
    oms, adapter = make()
    await oms.submit_order(limit("c1", "40"))
    fills = [adapter.fill("c1", D(1), D(100)) for _ in range(40)]
    for fill in reversed(fills):
        oms.on_event(fill)
    order = oms.get_order("c1")
    assert order is not None and order.filled_quantity == D(40) and order.status is OrderStatus.FILLED
    assert oms.get_metrics()["duplicate_fills_ignored"] == 40
    assert oms.positions.quantity("BTCUSDT") == D(40)


async def test_overfill_refused_and_reported() -> None:
    oms, _ = make()
    await oms.submit_order(limit("c1", "1"))
    bad = Fill("scripted", "tX", "c1", "BTCUSDT", OrderSide.BUY, D(2), D(100))
    assert oms.apply_fill(bad) is False
    assert oms.get_order("c1").filled_quantity == 0  # type: ignore[union-attr]
    assert oms.anomalies[-1][0] == "overfill"


async def test_late_fill_after_cancel_is_applied() -> None:
    oms, _ = make()
    await oms.submit_order(limit("c1", "2"))
    await oms.cancel_order("c1")
    late = Fill("scripted", "late", "c1", "BTCUSDT", OrderSide.BUY, D(1), D(99))
    assert oms.apply_fill(late)
    order = oms.get_order("c1")
    assert order is not None and order.status is OrderStatus.CANCELLED and order.filled_quantity == D(1)
    rest = Fill("scripted", "late2", "c1", "BTCUSDT", OrderSide.BUY, D(1), D(99))
    assert oms.apply_fill(rest)
    assert oms.get_order("c1").status is OrderStatus.FILLED  # type: ignore[union-attr]
    metrics = oms.get_metrics()
    assert (metrics["filled_orders"], metrics["cancelled_orders"]) == (1, 0)


async def test_ambiguous_submit_reconciles_fills_the_stream_missed() -> None:
    oms, adapter = make()
    adapter.submit_script.append(("accept", ambiguous()))  # accepted and filled, events lost
    order = await oms.submit_order(market("m1", "3"))
    assert order.status is OrderStatus.FILLED and order.filled_quantity == D(3)
    assert len(oms.get_fills()) == 1 and adapter.submit_calls == 1


async def test_unresolved_ambiguity_leaves_unknown_then_reconciles() -> None:
    oms, adapter = make()
    adapter.submit_script.append(("accept", ambiguous()))
    adapter.lookup_script.extend([TransientError("down")] * 8)
    order = await oms.submit_order(limit("c1"))
    assert order.status is OrderStatus.UNKNOWN
    assert [o.client_order_id for o in oms.unknown_orders] == ["c1"]
    adapter.lookup_script.clear()
    assert oms.resiliency.circuit.state.value == "OPEN"  # the failing lookups tripped it
    await oms.reconcile_unknown()
    assert oms.get_order("c1").status is OrderStatus.UNKNOWN  # type: ignore[union-attr]
    oms.resiliency.circuit.reset()  # the venue recovered
    await oms.reconcile_unknown()
    assert oms.get_order("c1").status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
    assert adapter.submit_calls == 1


async def test_reject_keeps_reason() -> None:
    from autotrader.errors import OrderRejected

    oms, adapter = make()
    adapter.submit_script.append(OrderRejected("Account has insufficient balance", code=-2010))
    order = await oms.submit_order(limit("c1"))
    assert order.status is OrderStatus.REJECTED and "insufficient" in (order.reason or "")
    assert oms.get_metrics()["rejected_orders"] == 1


async def test_give_up_is_rejected_not_sent() -> None:
    oms, adapter = make()
    adapter.submit_script.extend([TransientError("503")] * 4)
    order = await oms.submit_order(limit("c1"))
    assert order.status is OrderStatus.REJECTED and (order.reason or "").startswith("not sent")
    assert adapter.venue == {}


async def test_cancel_unknown_at_venue_closes_order() -> None:
    oms, adapter = make()
    await oms.submit_order(limit("c1"))
    adapter.venue.clear()
    order = await oms.cancel_order("c1")
    assert order.status is OrderStatus.CANCELLED
    with pytest.raises(OrderNotFound):
        await oms.cancel_order("nope")


async def test_failed_cancel_reverts_to_working() -> None:
    oms, adapter = make()
    await oms.submit_order(limit("c1"))
    adapter.cancel_script.extend([TransientError("x")] * 5)
    with pytest.raises(TransientError):
        await oms.cancel_order("c1")
    assert oms.get_order("c1").status is OrderStatus.ACCEPTED  # type: ignore[union-attr]


async def test_replace_changes_price_and_quantity() -> None:
    oms, adapter = make()
    await oms.submit_order(limit("c1", "1", "100"))
    order = await oms.replace_order("c1", quantity=D(3), price=D(101))
    assert (order.quantity, order.price, order.status) == (D(3), D(101), OrderStatus.ACCEPTED)
    assert adapter.venue["c1"].price == D(101)


async def test_timeouts_cancel_stale_orders() -> None:
    now = [1000.0]
    oms, _ = make(clock=lambda: now[0], order_timeout=300.0)
    await oms.submit_order(limit("old"))
    now[0] += 200
    await oms.submit_order(limit("young"))
    now[0] += 150
    assert await oms.check_timeouts() == ["old"]
    assert oms.get_order("old").status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    assert oms.get_order("young").status is OrderStatus.ACCEPTED  # type: ignore[union-attr]


async def test_metrics_have_the_seed_keys() -> None:
    oms, _ = make()
    await oms.submit_order(market("m1"))
    await oms.submit_order(limit("c1"))
    await oms.cancel_order("c1")
    metrics = oms.get_metrics()
    for key in (
        "total_orders",
        "filled_orders",
        "cancelled_orders",
        "fill_rate",
        "avg_fill_latency_seconds",
        "total_filled_notional",
        "total_commission",
        "open_orders",
        "total_fills",
    ):
        assert key in metrics
    assert metrics["total_orders"] == 2 and metrics["fill_rate"] == 0.5
    assert metrics["total_filled_notional"] == D(100) and metrics["total_commission"] == D("0.1")
    state = oms.get_state()
    assert state["positions"] == {"BTCUSDT": D(1)} and len(state["completed_orders"]) == 2


async def test_completed_orders_are_bounded() -> None:
    oms, _ = make(max_completed_orders=10)
    for i in range(50):
        await oms.submit_order(market(f"m{i}"))
    assert len(oms.get_completed_orders()) == 10
    assert oms.get_metrics()["filled_orders"] == 50
    assert oms.positions.quantity("BTCUSDT") == D(50)


async def test_duplicate_client_order_id_refused() -> None:
    from autotrader.errors import InvalidOrder

    oms, _ = make()
    await oms.submit_order(limit("c1"))
    with pytest.raises(InvalidOrder, match="client_order_id"):
        await oms.submit_order(limit("c1"))


async def test_update_for_unknown_order_is_an_anomaly() -> None:
    oms, _ = make()
    assert oms.apply_update(OrderUpdate("ghost", OrderStatus.FILLED, "scripted")) is None
    assert oms.anomalies[-1][0] == "unknown_order"


async def test_fills_the_stream_lost_are_pulled_by_the_monitor() -> None:
    oms, adapter = make()
    await oms.submit_order(limit("c1", "2"))
    adapter._listeners = ()  # the stream loses everything from here
    adapter.fill("c1", D(2), D(100))
    oms.apply_update(OrderUpdate("c1", OrderStatus.FILLED, "scripted", filled_quantity=D(2)))
    order = oms.get_order("c1")
    assert order is not None and order.status is OrderStatus.FILLED and order.filled_quantity == 0
    assert await oms.catch_up_missing_fills() == ["c1"]
    order = oms.get_order("c1")
    assert order is not None and order.filled_quantity == D(2)
    assert oms.positions.quantity("BTCUSDT") == D(2)
    assert await oms.catch_up_missing_fills() == []


def _scanned_pending(oms: OrderManager, symbol: str) -> Decimal:
    """pending_quantity the slow way: every open order's signed remainder."""
    total = D(0)
    for order in oms.get_active_orders(symbol):
        remaining = order.remaining_quantity
        total += remaining if order.side is OrderSide.BUY else -remaining
    return total


async def test_pending_quantity_follows_every_change_of_the_open_orders() -> None:
    oms, adapter = make()
    assert oms.pending_quantity("BTCUSDT") == 0
    await oms.submit_order(limit("b1", "3"))
    await oms.submit_order(limit("s1", "2", side=OrderSide.SELL))
    assert oms.pending_quantity("BTCUSDT") == D(1) == _scanned_pending(oms, "BTCUSDT")
    oms.on_event(adapter.fill("b1", D(1), D(100)))  # partial fill: 2 left to buy
    assert oms.pending_quantity("BTCUSDT") == D(0) == _scanned_pending(oms, "BTCUSDT")
    await oms.replace_order("s1", quantity=D(5))
    assert oms.pending_quantity("BTCUSDT") == D(-3) == _scanned_pending(oms, "BTCUSDT")
    await oms.cancel_order("b1")
    assert oms.pending_quantity("BTCUSDT") == D(-5) == _scanned_pending(oms, "BTCUSDT")
    await oms.submit_order(market("m1", "4"))  # fills at once: never pending afterwards
    assert oms.pending_quantity("BTCUSDT") == D(-5) == _scanned_pending(oms, "BTCUSDT")
    await oms.cancel_order("s1")
    assert oms.pending_quantity("BTCUSDT") == 0 == _scanned_pending(oms, "BTCUSDT")
    assert oms.pending_quantity("ETHUSDT") == 0


async def test_pending_quantity_is_rebuilt_on_restore() -> None:
    oms, _ = make()
    await oms.submit_order(limit("b1", "3"))
    await oms.submit_order(market("m1", "1"))
    fresh, _ = make()
    fresh.restore([*oms.get_active_orders(), *oms.get_completed_orders()], oms.get_fills())
    assert fresh.pending_quantity("BTCUSDT") == D(3) == _scanned_pending(fresh, "BTCUSDT")
