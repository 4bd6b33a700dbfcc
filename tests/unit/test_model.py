"""The value types: strict decimals, shape validation, instrument filters, ids, the converter."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Any

import attrs
import cattrs
import pytest

from autotrader.credentials import Secret
from autotrader.errors import InvalidOrder
from autotrader.model import (
    ClientOrderIdFactory,
    Fill,
    Instrument,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
    converter,
    decimal_from_user,
    evolve,
    to_decimal,
)

BTC = Instrument(
    "BTCUSDT",
    "BTC",
    "USDT",
    tick_size="0.01",
    lot_size="0.00001",
    min_quantity="0.00001",
    max_quantity="9000",
    min_notional="5",
)


def req(**kw: object) -> OrderRequest:
    base: dict[str, object] = {
        "client_order_id": "c1",
        "symbol": "BTCUSDT",
        "side": OrderSide.BUY,
        "order_type": OrderType.LIMIT,
        "quantity": Decimal("0.1"),
        "price": Decimal("50000"),
    }
    base.update(kw)
    return OrderRequest(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0.1, float("nan"), "nan", "inf", "abc", None, True])
def test_to_decimal_refuses_floats_and_non_finite(bad: object) -> None:
    with pytest.raises(InvalidOrder):
        to_decimal(bad, "size")


def test_decimal_from_user_takes_floats_by_repr() -> None:
    assert decimal_from_user(0.1) == Decimal("0.1")
    with pytest.raises(InvalidOrder, match="size"):
        decimal_from_user(float("inf"), "size")


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"quantity": Decimal(0)}, "quantity"),
        ({"quantity": Decimal(-1)}, "quantity"),
        ({"price": None}, "price"),
        ({"order_type": OrderType.MARKET}, "price"),
        ({"order_type": OrderType.STOP, "price": None}, "stop_price"),
        ({"stop_price": Decimal(1)}, "stop_price"),
        ({"client_order_id": ""}, "client_order_id"),
        ({"price": Decimal(-5)}, "price"),
    ],
)
def test_request_shape_errors_name_the_field(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidOrder) as info:
        req(**kw)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"quantity": Decimal("0.000001")}, "quantity"),
        ({"quantity": Decimal("10000")}, "quantity"),
        ({"price": Decimal("50000.001")}, "price"),
        ({"quantity": Decimal("0.00001")}, "notional"),
    ],
)
def test_instrument_filters(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidOrder) as info:
        BTC.validate(req(**kw))
    assert info.value.field == field


def test_market_notional_uses_reference_price() -> None:
    market = req(order_type=OrderType.MARKET, price=None, quantity=Decimal("0.00001"))
    BTC.validate(market)  # no reference: cannot judge
    with pytest.raises(InvalidOrder, match="notional"):
        BTC.validate(market, reference_price=Decimal(50000))


def test_rounding_never_worse() -> None:
    assert BTC.round_price(Decimal("100.019"), OrderSide.BUY) == Decimal("100.01")
    assert BTC.round_price(Decimal("100.011"), OrderSide.SELL) == Decimal("100.02")
    assert BTC.round_quantity(Decimal("0.123456")) == Decimal("0.12345")


def test_client_order_ids_fit_every_venue() -> None:
    ids = [ClientOrderIdFactory()() for _ in range(3)] + [ClientOrderIdFactory("x")() for _ in range(3)]
    factory = ClientOrderIdFactory()
    ids += [factory() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    for coid in ids:
        assert len(coid) <= 36
        assert re.fullmatch(r"[.A-Z:/a-z0-9_-]{1,36}", coid)


def test_client_order_ids_fit_with_the_longest_prefix_past_10_to_the_20_orders() -> None:
    factory = ClientOrderIdFactory("abcdefgh")
    factory._counter = itertools.count(10**20)
    assert len(factory()) <= 36


def test_converter_round_trip_keeps_decimals_exact() -> None:
    request = req(time_in_force=TimeInForce.IOC)
    data = converter.unstructure(request)
    assert data["quantity"] == "0.1" and data["time_in_force"] == "IOC"
    assert converter.structure(data, OrderRequest) == request


def test_converter_refuses_float_money() -> None:
    data = converter.unstructure(req())
    data["price"] = 50000.5
    with pytest.raises(cattrs.ClassValidationError) as info:
        converter.structure(data, OrderRequest)
    assert any(isinstance(e, InvalidOrder) and "float" in str(e) for e in info.value.exceptions)


def test_partial_fill_is_the_seed_alias() -> None:
    # mypy takes an enum alias for a member of its own; at run time it is the same member.
    assert OrderStatus.PARTIAL_FILL is OrderStatus.PARTIALLY_FILLED  # type: ignore[comparison-overlap]


def test_fill_key_and_notional() -> None:
    fill = Fill("v", "t1", "c1", "X", OrderSide.BUY, Decimal(2), Decimal("1.5"))
    assert fill.key == ("v", "t1") and fill.notional == Decimal(3)


def test_secret_never_shows() -> None:
    secret = Secret("hunter2")
    text = f"{secret} {secret!r} {secret:>20} {[secret]} {secret!s}"
    assert "hunter2" not in text
    assert secret.reveal() == "hunter2"
    with pytest.raises(TypeError):
        hash(secret)


def test_absurd_sizes_get_typed_errors_not_decimal_exceptions() -> None:
    with pytest.raises(InvalidOrder, match="quantity"):
        BTC.validate(req(quantity=Decimal("1e30")))
    unbounded = Instrument("X", "X", "USD", tick_size="0.01", lot_size="0.00001")
    with pytest.raises(InvalidOrder, match="too large"):
        unbounded.validate(req(symbol="X", quantity=Decimal("1e30")))


def test_evolve_is_attrs_evolve() -> None:
    order = Order.from_request(OrderRequest("c1", "BTCUSDT", OrderSide.BUY, OrderType.MARKET, Decimal(1)))
    changes: dict[str, Any] = {"status": OrderStatus.FILLED, "filled_quantity": Decimal(1), "updated_at": 5.0}
    assert evolve(order, **changes) == attrs.evolve(order, **changes)
    assert evolve(order) == order and evolve(order) is not order
    position = Position("BTCUSDT", Decimal(2), Decimal(10))
    assert evolve(position, realized_pnl=Decimal(3)) == Position(
        "BTCUSDT", Decimal(2), Decimal(10), Decimal(3)
    )
    with pytest.raises(TypeError, match="no field 'bogus'"):
        evolve(order, bogus=1)


def test_evolve_validates_like_the_constructor() -> None:
    request = OrderRequest("c1", "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, Decimal(1), price=Decimal(5))
    assert evolve(request, quantity="2").quantity == Decimal(2)  # converters run again
    with pytest.raises(InvalidOrder):
        evolve(request, quantity=Decimal(-1))
    with pytest.raises(InvalidOrder):
        evolve(request, price=None)  # __attrs_post_init__ runs again
