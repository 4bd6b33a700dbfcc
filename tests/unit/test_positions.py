"""Position math: average price, realized P&L on reduce and flip, and the accounting identity."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from autotrader.model import OrderSide, Position

D = Decimal


def test_average_price_on_increase() -> None:
    p = Position("X").apply(OrderSide.BUY, D(1), D(100)).apply(OrderSide.BUY, D(3), D(200))
    assert p.quantity == D(4)
    assert p.average_price == D(175)
    assert p.realized_pnl == 0


def test_reduce_realizes_against_average() -> None:
    p = Position("X").apply(OrderSide.BUY, D(2), D(100)).apply(OrderSide.SELL, D(1), D(130))
    assert (p.quantity, p.average_price, p.realized_pnl) == (D(1), D(100), D(30))


def test_flip_to_short_resets_average_to_flip_price() -> None:
    p = Position("X").apply(OrderSide.BUY, D(2), D(100)).apply(OrderSide.SELL, D(5), D(90))
    assert (p.quantity, p.average_price, p.realized_pnl) == (D(-3), D(90), D(-20))
    assert p.side == "SHORT"


def test_short_profits_when_price_falls() -> None:
    p = Position("X").apply(OrderSide.SELL, D(2), D(100))
    assert p.unrealized_pnl(D(80)) == D(40)
    closed = p.apply(OrderSide.BUY, D(2), D(80))
    assert (closed.quantity, closed.realized_pnl, closed.side) == (D(0), D(40), "FLAT")


fills = st.lists(
    st.tuples(
        st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
        st.integers(1, 50).map(D),
        st.integers(1, 10_000).map(lambda c: D(c) / 100),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(fills, st.integers(1, 10_000).map(lambda c: D(c) / 100))
def test_pnl_identity(sequence: list[tuple[OrderSide, Decimal, Decimal]], mark: Decimal) -> None:
    """realized + unrealized == cash flows + position value: nothing is created or lost."""
    position = Position("X")
    cash = D(0)
    signed_sum = D(0)
    for side, qty, price in sequence:
        position = position.apply(side, qty, price)
        cash -= side.sign * qty * price
        signed_sum += side.sign * qty
    assert position.quantity == signed_sum
    total = position.realized_pnl + position.unrealized_pnl(mark)
    assert abs(total - (cash + signed_sum * mark)) < D("1e-12")
