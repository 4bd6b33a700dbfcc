"""The paper venue's matching model and account, without any async machinery."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotrader.adapter import ExecutionEvent
from autotrader.errors import OrderNotFound, OrderRejected
from autotrader.model import Fill, ModifyRequest, OrderRequest, OrderSide, OrderStatus, OrderType, TimeInForce
from autotrader_paper.instruments import DEFAULT_INSTRUMENTS
from autotrader_paper.venue import PaperVenue

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def venue(**kw: object) -> tuple[PaperVenue, list[ExecutionEvent]]:
    events: list[ExecutionEvent] = []
    settings: dict[str, object] = {"initial_balance": D(1_000_000), "on_event": events.append}
    settings.update(kw)
    v = PaperVenue(DEFAULT_INSTRUMENTS, **settings)  # type: ignore[arg-type]
    v.set_price("BTCUSDT", D(50000))
    return v, events


_ids = iter(range(10**9))


def req(
    side: OrderSide,
    kind: OrderType = OrderType.LIMIT,
    qty: str = "1",
    price: str | None = None,
    stop: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
) -> OrderRequest:
    return OrderRequest(
        f"o{next(_ids)}",
        "BTCUSDT",
        side,
        kind,
        D(qty),
        price=D(price) if price else None,
        stop_price=D(stop) if stop else None,
        time_in_force=tif,
    )


def statuses(events: list[ExecutionEvent], coid: str) -> list[str]:
    return [e.status.value for e in events if not isinstance(e, Fill) and e.client_order_id == coid]


def test_market_order_fills_with_slippage_against_the_taker() -> None:
    v, events = venue(slippage_bps=D(5), commission_bps=D(10))
    order = v.submit(req(BUY, OrderType.MARKET))
    assert order.status is OrderStatus.FILLED
    (fill,) = v.fills_of(order.client_order_id)
    assert fill.price == D("50025.00")  # 5 bps up, on the tick
    assert fill.commission == D("50025.00") * D(10) / D(10_000)
    assert v.cash == D(1_000_000) - fill.price - fill.commission
    sell = v.submit(req(SELL, OrderType.MARKET))
    assert v.fills_of(sell.client_order_id)[0].price == D("49975.00")
    assert statuses(events, order.client_order_id) == ["ACCEPTED", "FILLED"]


def test_limit_rests_then_fills_in_time_priority_at_its_price_or_better() -> None:
    v, _ = venue()
    first, second = v.submit(req(BUY, price="49900")), v.submit(req(BUY, price="49900"))
    assert first.status is OrderStatus.ACCEPTED
    v.set_liquidity("BTCUSDT", D(1))
    v.set_price("BTCUSDT", D(49850))
    assert v.order(first.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert v.order(second.client_order_id).status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
    assert v.fills_of(first.client_order_id)[0].price == D(49850)
    v.set_price("BTCUSDT", D(49850))
    assert v.order(second.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]


def test_partial_fill_and_remainder() -> None:
    v, _ = venue()
    v.set_liquidity("BTCUSDT", D("0.4"))
    limit = v.submit(req(BUY, price="50000"))
    assert (limit.status, limit.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, D("0.4"))
    market = v.submit(req(BUY, OrderType.MARKET))
    assert (market.status, market.filled_quantity) == (OrderStatus.EXPIRED, D(0))  # the cap was used up
    v.set_price("BTCUSDT", D(50000))
    assert v.order(limit.client_order_id).filled_quantity == D("0.8")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("tif", "cap", "expected"),
    [
        (TimeInForce.IOC, None, (OrderStatus.FILLED, D(1))),
        (TimeInForce.IOC, D("0.3"), (OrderStatus.EXPIRED, D("0.3"))),
        (TimeInForce.FOK, None, (OrderStatus.FILLED, D(1))),
        (TimeInForce.FOK, D("0.3"), (OrderStatus.EXPIRED, D(0))),
    ],
)
def test_ioc_and_fok(tif: TimeInForce, cap: Decimal | None, expected: tuple[OrderStatus, Decimal]) -> None:
    v, _ = venue()
    v.set_liquidity("BTCUSDT", cap)
    order = v.submit(req(BUY, price="50010", tif=tif))
    assert (order.status, order.filled_quantity) == expected


def test_unmarketable_ioc_expires() -> None:
    v, _ = venue()
    assert v.submit(req(BUY, price="49000", tif=TimeInForce.IOC)).status is OrderStatus.EXPIRED


def test_stops_trigger_on_the_cross() -> None:
    v, _ = venue()
    stop = v.submit(req(SELL, OrderType.STOP, stop="49000"))
    stop_limit = v.submit(req(BUY, OrderType.STOP_LIMIT, price="51100", stop="51000"))
    v.set_price("BTCUSDT", D(49500))
    assert v.order(stop.client_order_id).status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
    v.set_price("BTCUSDT", D(48990))
    assert v.order(stop.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
    v.set_price("BTCUSDT", D(51200))  # triggers, but above the limit: rests as a limit
    assert v.order(stop_limit.client_order_id).status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
    v.set_price("BTCUSDT", D(51050))
    assert v.order(stop_limit.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]


def test_modify_cancel_and_unknown() -> None:
    v, events = venue()
    order = v.submit(req(BUY, price="49000"))
    modified = v.modify(ModifyRequest(order.client_order_id, quantity=D(2), price=D("49100")))
    assert (modified.quantity, modified.price) == (D(2), D("49100"))
    assert v.cancel(order.client_order_id).status is OrderStatus.CANCELLED
    with pytest.raises(OrderNotFound):
        v.cancel(order.client_order_id)
    with pytest.raises(OrderNotFound):
        v.modify(ModifyRequest("nope", price=D(1)))
    assert statuses(events, order.client_order_id) == ["ACCEPTED", "ACCEPTED", "CANCELLED"]


def test_rejects() -> None:
    v, _ = venue(initial_balance=D(100))
    with pytest.raises(OrderRejected, match="insufficient balance"):
        v.submit(req(BUY, OrderType.MARKET))
    with pytest.raises(OrderRejected, match="no market price"):
        v.submit(OrderRequest("e1", "ETHUSDT", SELL, OrderType.MARKET, D(1)))
    open_order = v.submit(req(SELL, price="60000"))
    with pytest.raises(OrderRejected, match="Duplicate"):
        v.submit(
            OrderRequest(open_order.client_order_id, "BTCUSDT", SELL, OrderType.LIMIT, D(1), price=D(60000))
        )
    assert [o.status for o in v.ledger_orders()] == [
        OrderStatus.REJECTED,
        OrderStatus.REJECTED,
        OrderStatus.ACCEPTED,
    ]  # a duplicate id is refused before it becomes an order


def test_short_position_and_pnl() -> None:
    v, _ = venue(commission_bps=D(0))
    v.submit(req(SELL, OrderType.MARKET, qty="2"))
    v.set_price("BTCUSDT", D(49000))
    (position,) = v.positions()
    assert position.quantity == D(-2) and position.unrealized_pnl(D(49000)) == D(2000)
    v.submit(req(BUY, OrderType.MARKET, qty="2"))
    assert v.positions() == [] and v.cash == D(1_002_000)


def test_fill_probability_is_deterministic_for_a_seed() -> None:
    def run(seed: int) -> list[OrderStatus]:
        v, _ = venue(fill_probability=0.5, rng=random.Random(seed))
        coids = [
            v.submit(
                OrderRequest(f"x{i}", "BTCUSDT", BUY, OrderType.LIMIT, D(1), price=D(49000))
            ).client_order_id
            for i in range(20)
        ]
        v.set_price("BTCUSDT", D(48000))
        return [v.order(c).status for c in coids]  # type: ignore[union-attr]

    assert run(3) == run(3)
    assert OrderStatus.FILLED in run(3) and OrderStatus.ACCEPTED in run(3)
    assert run(3) != run(4)


trades = st.lists(
    st.tuples(st.sampled_from([BUY, SELL]), st.integers(1, 5), st.integers(40_000, 60_000)),
    min_size=1,
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(trades, st.integers(0, 30))
def test_equity_is_conserved_but_for_commissions(
    sequence: list[tuple[OrderSide, int, int]], bps: int
) -> None:
    """Cash + positions at the last price == initial cash + price P&L - commissions."""
    v, _ = venue(commission_bps=D(bps), initial_balance=D(10) ** 9)
    fees = D(0)
    for side, qty, price in sequence:
        v.set_price("BTCUSDT", D(price))
        order = v.submit(OrderRequest(f"h{next(_ids)}", "BTCUSDT", side, OrderType.MARKET, D(qty)))
        fees += sum((f.commission for f in v.fills_of(order.client_order_id)), D(0))
    realized_and_open = sum(
        (p.realized_pnl + p.unrealized_pnl(v.last_price("BTCUSDT")) for p in v._positions.values()), D(0)
    )
    assert v.equity() == D(10) ** 9 + realized_and_open - fees
