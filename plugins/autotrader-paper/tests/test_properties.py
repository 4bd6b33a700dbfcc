"""Property tests: whatever the order flow, the venue's books balance.

Random sequences of price moves, liquidity caps, market / limit / stop orders of every time in
force, modifies and cancels; after each step:

* equity (cash + positions marked at the last price) equals the initial balance, plus every
  trade's price P&L at that mark, minus every commission -- computed from the ledger alone;
* the positions' realized + unrealized P&L tells the same story;
* the cash locked equals what the open buys still need; no order is overfilled; trade ids are
  unique and every order's fills add up to its filled quantity.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from paper_helpers import BUY, SELL, D, make_venue

from autotrader.errors import OrderNotFound, OrderRejected
from autotrader.model import ModifyRequest, OrderRequest, OrderSide, OrderType, TimeInForce
from autotrader_paper.venue import PaperVenue

INITIAL = D(10) ** 7
TOLERANCE = D("1e-15")
prices = st.integers(45_000, 55_000).map(Decimal)
quantities = st.integers(1, 40).map(lambda n: Decimal(n) / 10)
sides = st.sampled_from([BUY, SELL])

new_order = st.tuples(
    st.just("order"),
    sides,
    st.sampled_from(list(OrderType)),
    quantities,
    prices,
    prices,
    st.sampled_from(list(TimeInForce)),
)
steps = st.lists(
    st.one_of(
        new_order,
        new_order,
        new_order,
        st.tuples(st.just("price"), prices),
        st.tuples(st.just("price"), prices),
        st.tuples(st.just("liquidity"), st.one_of(st.none(), quantities)),
        st.tuples(st.just("cancel"), st.integers(0, 50)),
        st.tuples(st.just("modify"), st.integers(0, 50), prices, quantities),
        st.tuples(st.just("end_session")),
    ),
    min_size=10,
    max_size=40,
)


def _order(
    n: int, side: OrderSide, kind: OrderType, qty: Decimal, price: Decimal, stop: Decimal, tif: TimeInForce
) -> OrderRequest:
    return OrderRequest(
        f"p{n}",
        "BTCUSDT",
        side,
        kind,
        qty,
        price=price if kind.needs_price else None,
        stop_price=stop if kind.needs_stop_price else None,
        time_in_force=tif,
    )


def _check(v: PaperVenue) -> None:
    mark = v.last_price("BTCUSDT")
    assert mark is not None
    trades = v.ledger_trades()
    fees = sum((t.commission for t in trades), D(0))
    price_pnl = sum(((t.quantity if t.side is BUY else -t.quantity) * (mark - t.price) for t in trades), D(0))
    assert v.equity() == INITIAL + price_pnl - fees
    positions = sum((p.realized_pnl + p.unrealized_pnl(mark) for p in v.account.all_positions()), D(0))
    # Average prices are divisions: exact only to Decimal's 28 digits, hence the tolerance.
    assert abs(positions - price_pnl) <= TOLERANCE
    needs = D(0)
    for order in v.open_orders():
        if order.side is BUY:
            reference = order.price or order.stop_price
            assert reference is not None
            needs += order.remaining_quantity * reference * (1 + (v.commission_bps + v.slippage_bps) / 10_000)
    (balance,) = v.balances()
    assert balance.locked == needs and balance.total == v.cash
    assert len({t.trade_id for t in trades}) == len(trades)
    for entry in v.ledger_orders():
        filled = sum((f.quantity for f in v.fills_of(entry.client_order_id)), D(0))
        assert filled == entry.filled_quantity <= entry.quantity


@settings(max_examples=200, deadline=None)
@given(steps, st.integers(0, 30), st.integers(0, 20))
def test_equity_is_conserved_but_for_commissions(
    sequence: list[tuple[object, ...]], fee: int, slip: int
) -> None:
    v, _ = make_venue(commission_bps=D(fee), slippage_bps=D(slip), initial_balance=INITIAL)
    for n, step in enumerate(sequence):
        kind = step[0]
        try:
            if kind == "order":
                v.submit(_order(n, *step[1:]))  # type: ignore[arg-type]
            elif kind == "price":
                v.set_price("BTCUSDT", step[1])  # type: ignore[arg-type]
            elif kind == "liquidity":
                v.set_liquidity("BTCUSDT", step[1])  # type: ignore[arg-type]
            elif kind == "cancel":
                v.cancel(f"p{step[1]}")
            elif kind == "modify":
                v.modify(ModifyRequest(f"p{step[1]}", price=step[2], quantity=step[3]))
            else:
                v.end_session()
        except (OrderRejected, OrderNotFound):
            pass
        _check(v)
    v.set_liquidity("BTCUSDT", None)
    v.cancel_all()
    _check(v)
    assert v.balances()[0].locked == 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(sides, quantities, prices), min_size=1, max_size=30))
def test_round_trip_at_one_price_costs_exactly_the_commissions(
    trades: list[tuple[OrderSide, Decimal, Decimal]],
) -> None:
    """Trade anything, then flatten at the same price: the cash lost is the commissions, nothing else."""
    v, _ = make_venue(commission_bps=D(7), initial_balance=INITIAL)
    for side, qty, price in trades:
        v.set_price("BTCUSDT", price)
        v.submit(OrderRequest(f"r{len(v.ledger_orders())}", "BTCUSDT", side, OrderType.MARKET, qty))
    net = v.account.position("BTCUSDT").quantity
    if net:
        flatten = SELL if net > 0 else BUY
        v.submit(OrderRequest("flat", "BTCUSDT", flatten, OrderType.MARKET, abs(net)))
    fees = sum((t.commission for t in v.ledger_trades()), D(0))
    realized = v.account.position("BTCUSDT").realized_pnl
    assert v.positions() == [] and abs(v.cash - (INITIAL + realized - fees)) <= TOLERANCE
