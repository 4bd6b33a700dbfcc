"""The paper venue's matching model, without any async machinery."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from paper_helpers import BUY, SELL, D, fills, make_venue, req, statuses

from autotrader.errors import OrderNotFound, OrderRejected
from autotrader.model import Liquidity, ModifyRequest, OrderRequest, OrderStatus, OrderType, TimeInForce
from autotrader.testing.harness import Fault


def test_market_order_fills_with_slippage_against_the_taker() -> None:
    v, events = make_venue(slippage_bps=D(5), commission_bps=D(10))
    order = v.submit(req(BUY, OrderType.MARKET))
    assert order.status is OrderStatus.FILLED
    (fill,) = v.fills_of(order.client_order_id)
    assert fill.price == D("50025.00") and fill.liquidity is Liquidity.TAKER  # 5 bps up, on the tick
    assert fill.commission == D("50025.00") * D(10) / D(10_000) and fill.commission_asset == "USD"
    assert v.cash == D(1_000_000) - fill.price - fill.commission
    sell = v.submit(req(SELL, OrderType.MARKET))
    assert v.fills_of(sell.client_order_id)[0].price == D("49975.00")
    assert statuses(events, order.client_order_id) == ["ACCEPTED", "FILLED"]


def test_slippage_rounds_to_the_tick_against_the_taker() -> None:
    v, _ = make_venue(price="100.01", slippage_bps=D(3))
    buy, sell = v.submit(req(BUY, OrderType.MARKET)), v.submit(req(SELL, OrderType.MARKET))
    assert v.fills_of(buy.client_order_id)[0].price == D("100.05")  # 100.040003 up
    assert v.fills_of(sell.client_order_id)[0].price == D("99.97")  # 99.979997 down


def test_market_order_without_a_price_is_rejected_and_a_limit_rests() -> None:
    v, _ = make_venue(price=None)
    with pytest.raises(OrderRejected, match="no market price for BTCUSDT"):
        v.submit(req(BUY, OrderType.MARKET))
    limit = v.submit(req(BUY, price="49000"))
    assert limit.status is OrderStatus.ACCEPTED
    v.set_price("BTCUSDT", D(48000))
    assert v.order(limit.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]


def test_marketable_limit_takes_the_market_price_resting_limit_fills_at_its_own() -> None:
    v, _ = make_venue()
    taker = v.submit(req(BUY, price="50100"))
    (fill,) = v.fills_of(taker.client_order_id)
    assert (fill.price, fill.liquidity) == (D(50000), Liquidity.TAKER)
    maker = v.submit(req(BUY, price="49900"))
    v.set_price("BTCUSDT", D(49850))  # the market went through the limit: it was hit at 49900
    (fill,) = v.fills_of(maker.client_order_id)
    assert (fill.price, fill.liquidity) == (D(49900), Liquidity.MAKER)
    sell = v.submit(req(SELL, price="50000"))
    v.set_price("BTCUSDT", D(49999.99))
    assert v.order(sell.client_order_id).status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
    v.set_price("BTCUSDT", D(50000))
    assert v.order(sell.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]


def test_resting_orders_fill_in_time_priority() -> None:
    v, _ = make_venue()
    first, second = v.submit(req(BUY, price="49900")), v.submit(req(BUY, price="49900"))
    v.set_liquidity("BTCUSDT", D(1))
    v.set_price("BTCUSDT", D(49850))
    assert v.order(first.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert v.order(second.client_order_id).status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
    v.set_price("BTCUSDT", D(49850))
    assert v.order(second.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]


def test_partial_fills_under_a_liquidity_cap() -> None:
    v, events = make_venue()
    v.set_liquidity("BTCUSDT", D("0.4"))
    limit = v.submit(req(BUY, price="50000"))
    assert (limit.status, limit.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, D("0.4"))
    market = v.submit(req(BUY, OrderType.MARKET))
    assert (market.status, market.filled_quantity) == (OrderStatus.EXPIRED, D(0))  # the cap was used up
    v.set_price("BTCUSDT", D(50000))
    assert v.order(limit.client_order_id).filled_quantity == D("0.8")  # type: ignore[union-attr]
    v.set_price("BTCUSDT", D(49000))
    done = v.order(limit.client_order_id)
    assert done is not None and (done.status, done.filled_quantity) == (OrderStatus.FILLED, D(1))
    assert [f.quantity for f in fills(events)] == [D("0.4"), D("0.4"), D("0.2")]
    assert len({f.trade_id for f in fills(events)}) == 3
    assert done.average_fill_price == D(50000)  # resting, it always filled at its limit


def test_market_remainder_expires_after_a_partial_fill() -> None:
    v, events = make_venue()
    v.set_liquidity("BTCUSDT", D("0.3"))
    order = v.submit(req(SELL, OrderType.MARKET))
    assert (order.status, order.filled_quantity) == (OrderStatus.EXPIRED, D("0.3"))
    assert statuses(events, order.client_order_id) == ["ACCEPTED", "PARTIALLY_FILLED", "EXPIRED"]


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
    v, _ = make_venue()
    v.set_liquidity("BTCUSDT", cap)
    order = v.submit(req(BUY, price="50010", tif=tif))
    assert (order.status, order.filled_quantity) == expected
    assert v.open_orders() == []


def test_fok_that_cannot_fill_leaves_the_liquidity_to_others() -> None:
    v, _ = make_venue()
    v.set_liquidity("BTCUSDT", D("0.5"))
    assert v.submit(req(BUY, price="50010", tif=TimeInForce.FOK)).status is OrderStatus.EXPIRED
    assert v.submit(req(BUY, qty="0.5", price="50010", tif=TimeInForce.IOC)).status is OrderStatus.FILLED
    assert v.ledger_trades()[0].quantity == D("0.5")


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
def test_unmarketable_immediate_orders_expire_unfilled(tif: TimeInForce) -> None:
    v, _ = make_venue()
    order = v.submit(req(BUY, price="49000", tif=tif))
    assert (order.status, order.filled_quantity) == (OrderStatus.EXPIRED, D(0))


def test_day_orders_rest_and_expire_at_the_end_of_the_session() -> None:
    v, events = make_venue()
    day = v.submit(req(BUY, price="49000", tif=TimeInForce.DAY))
    gtc = v.submit(req(BUY, price="49000"))
    assert [o.client_order_id for o in v.end_session()] == [day.client_order_id]
    assert statuses(events, day.client_order_id) == ["ACCEPTED", "EXPIRED"]
    assert [o.client_order_id for o in v.open_orders()] == [gtc.client_order_id]


def test_stops_trigger_on_the_cross() -> None:
    v, _ = make_venue(slippage_bps=D(10))
    stop = v.submit(req(SELL, OrderType.STOP, stop="49000"))
    stop_limit = v.submit(req(BUY, OrderType.STOP_LIMIT, price="51100", stop="51000"))
    v.set_price("BTCUSDT", D(49500))
    assert v.order(stop.client_order_id).status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
    v.set_price("BTCUSDT", D(48990))
    assert v.order(stop.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
    (fill,) = v.fills_of(stop.client_order_id)
    assert fill.price == D("48941.01") and fill.liquidity is Liquidity.TAKER  # a market order, slipped
    v.set_price("BTCUSDT", D(51200))  # triggers, but above the limit: rests as a limit
    assert v.order(stop_limit.client_order_id).status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
    v.set_price("BTCUSDT", D(51050))
    assert v.order(stop_limit.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert v.fills_of(stop_limit.client_order_id)[0].price == D("51100")  # it rested: maker, at its limit


def test_triggered_stop_limit_stays_a_limit_after_the_price_retreats() -> None:
    v, _ = make_venue()
    order = v.submit(req(SELL, OrderType.STOP_LIMIT, price="48900", stop="49000"))
    v.set_price("BTCUSDT", D(48800))  # triggered, below the sell limit: rests
    v.set_price("BTCUSDT", D(50000))  # back above the stop: still a working limit, and it fills
    assert v.order(order.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert v.fills_of(order.client_order_id)[0].price == D(48900)  # resting: at its limit


def test_modify_changes_terms_loses_priority_and_can_execute() -> None:
    v, events = make_venue()
    first, second = v.submit(req(BUY, price="49000")), v.submit(req(BUY, price="49000"))
    modified = v.modify(ModifyRequest(first.client_order_id, quantity=D(2)))
    assert modified.quantity == D(2)
    v.set_liquidity("BTCUSDT", D(1))
    v.set_price("BTCUSDT", D(48000))
    assert v.order(second.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert v.order(first.client_order_id).status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
    ledger = {o.client_order_id: o for o in v.ledger_orders()}
    assert (ledger[first.client_order_id].quantity, ledger[first.client_order_id].price) == (D(2), D(49000))
    v.set_liquidity("BTCUSDT", D("1.5"))
    crossed = v.modify(ModifyRequest(first.client_order_id, price=D(50000)))  # now marketable: taker
    assert (crossed.status, crossed.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, D("1.5"))
    assert v.fills_of(first.client_order_id)[0].price == D(48000)  # at the market, not its limit
    assert statuses(events, first.client_order_id) == ["ACCEPTED", "ACCEPTED", "ACCEPTED", "PARTIALLY_FILLED"]


def test_modify_rules() -> None:
    v, _ = make_venue()
    v.set_liquidity("BTCUSDT", D("0.5"))
    order = v.submit(req(BUY, price="50000"))
    with pytest.raises(OrderRejected, match="not above the filled"):
        v.modify(ModifyRequest(order.client_order_id, quantity=D("0.5")))
    with pytest.raises(OrderNotFound):
        v.modify(ModifyRequest("nope", price=D(1)))
    with pytest.raises(OrderRejected, match="insufficient balance to grow"):
        v.modify(ModifyRequest(order.client_order_id, quantity=D(100)))
    assert v.order(order.client_order_id).quantity == D(1)  # type: ignore[union-attr]


def test_cancel_and_cancel_all() -> None:
    v, events = make_venue()
    a, b = v.submit(req(BUY, price="49000")), v.submit(req(SELL, price="51000"))
    assert v.cancel(a.client_order_id).status is OrderStatus.CANCELLED
    with pytest.raises(OrderNotFound):
        v.cancel(a.client_order_id)
    assert [o.client_order_id for o in v.cancel_all()] == [b.client_order_id]
    assert v.open_orders() == [] and statuses(events, a.client_order_id) == ["ACCEPTED", "CANCELLED"]
    v.set_price("BTCUSDT", D(1000))
    assert v.ledger_trades() == []


def test_rejects_are_recorded_with_their_reason() -> None:
    v, _ = make_venue(initial_balance=D(100))
    with pytest.raises(OrderRejected, match="insufficient balance"):
        v.submit(req(BUY, OrderType.MARKET))
    with pytest.raises(OrderRejected, match="no market price"):
        v.submit(OrderRequest("e1", "ETHUSDT", SELL, OrderType.MARKET, D(1)))
    open_order = v.submit(req(SELL, price="60000"))
    with pytest.raises(OrderRejected, match="Duplicate"):
        v.submit(
            OrderRequest(open_order.client_order_id, "BTCUSDT", SELL, OrderType.LIMIT, D(1), price=D(60000))
        )
    v.faults.reason = "venue says no"
    v.faults.arm(Fault.REJECT)
    with pytest.raises(OrderRejected, match="venue says no") as info:
        v.submit(req(SELL, price="60000"))
    assert info.value.code == "INJECTED"
    assert [o.status for o in v.ledger_orders()] == [
        OrderStatus.REJECTED,
        OrderStatus.REJECTED,
        OrderStatus.ACCEPTED,
        OrderStatus.REJECTED,
    ]  # a duplicate id is refused before it becomes an order
    assert v.order("e1").reason == "no market price for ETHUSDT yet: a market order cannot be priced"  # type: ignore[union-attr]


def test_unknown_symbol_is_rejected() -> None:
    v, _ = make_venue()
    with pytest.raises(OrderRejected, match="unknown symbol"):
        v.submit(req(BUY, price="1", symbol="NOPE"))
    with pytest.raises(OrderRejected):
        v.set_price("NOPE", D(1))


def test_ids_are_unique_and_carry_the_session() -> None:
    v, _ = make_venue()
    for _ in range(3):
        v.submit(req(BUY, OrderType.MARKET, qty="0.1"))
    ids = [t.trade_id for t in v.ledger_trades()]
    assert ids == ["s-T1", "s-T2", "s-T3"]
    other, _ = make_venue(session_id=None)
    other.submit(req(BUY, OrderType.MARKET, qty="0.1"))
    assert other.ledger_trades()[0].trade_id not in ids


def _probability_run(seed: int) -> list[OrderStatus]:
    v, _ = make_venue(fill_probability=0.5, rng=random.Random(seed))
    coids = [v.submit(req(BUY, price="49000")).client_order_id for _ in range(20)]
    v.set_price("BTCUSDT", D(48000))
    return [v.order(c).status for c in coids]  # type: ignore[union-attr]


def test_fill_probability_is_deterministic_for_a_seed() -> None:
    assert _probability_run(3) == _probability_run(3)
    assert OrderStatus.FILLED in _probability_run(3) and OrderStatus.ACCEPTED in _probability_run(3)
    assert _probability_run(3) != _probability_run(4)


def test_fill_probability_applies_per_price_event_to_resting_orders_only() -> None:
    v, _ = make_venue(fill_probability=0.0)
    taker = v.submit(req(BUY, price="50000"))
    assert taker.status is OrderStatus.FILLED  # arriving marketable: a taker fills for sure
    resting = v.submit(req(BUY, price="49000"))
    for _ in range(5):
        v.set_price("BTCUSDT", D(48000))
    assert v.order(resting.client_order_id).status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
    v.fill_probability = 1.0
    v.set_price("BTCUSDT", D(48000))
    assert v.order(resting.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]


def test_old_closed_orders_are_forgotten_open_ones_never() -> None:
    """A long session's memory is bounded: the newest ``history`` closed orders stay."""
    v, _ = make_venue(history=10)
    resting = v.submit(req(BUY, price="40000"))  # the oldest order, still open at the end
    done = [v.submit(req(BUY if i % 2 else SELL, OrderType.MARKET, qty="0.01")) for i in range(200)]
    kept = {o.client_order_id for o in v.ledger_orders()}
    assert resting.client_order_id in kept and len(kept) <= 1 + 10 + 64
    assert v.order(done[0].client_order_id) is None and v.fills_of(done[0].client_order_id) == []
    last = done[-1]
    assert v.order(last.client_order_id) == last and len(v.fills_of(last.client_order_id)) == 1
    assert {t.client_order_id for t in v.ledger_trades()} <= kept
    assert v.open_orders() == [v.order(resting.client_order_id)]
    v.set_price("BTCUSDT", D(39000))  # the forgotten ones did not take the old order's place
    assert v.order(resting.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert v.positions()[0].quantity == D(1)  # 100 buys and 100 sells of 0.01, then the 1
