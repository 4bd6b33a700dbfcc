"""autotrader.frozen: the fast constructors build exactly what the classes' own __init__ builds."""

from __future__ import annotations

import copy
import pickle
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotrader.errors import InvalidOrder
from autotrader.frozen import positional_constructor
from autotrader.model import (
    Fill,
    Liquidity,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    TimeInForce,
    converter,
    new_fill,
    new_order,
    new_order_request,
    new_order_update,
    new_position,
)

decimals = st.decimals(allow_nan=False, allow_infinity=False, places=8, min_value=-(10**9), max_value=10**9)
optional_decimals = st.none() | decimals
texts = st.text(min_size=1, max_size=12)
optional_texts = st.none() | texts
times = st.floats(min_value=0, max_value=2e9)

orders = st.tuples(
    texts,
    texts,
    st.sampled_from(OrderSide),
    st.sampled_from(OrderType),
    decimals,
    optional_decimals,
    optional_decimals,
    st.sampled_from(TimeInForce),
    st.sampled_from(OrderStatus),
    decimals,
    optional_decimals,
    optional_texts,
    optional_texts,
    decimals,
    times,
    times,
    st.booleans(),
)
updates = st.tuples(
    texts,
    st.sampled_from(OrderStatus),
    texts,
    optional_texts,
    optional_decimals,
    optional_decimals,
    optional_texts,
    optional_decimals,
    optional_decimals,
    optional_decimals,
    times,
)
fills = st.tuples(
    texts,
    texts,
    texts,
    texts,
    st.sampled_from(OrderSide),
    decimals,
    decimals,
    decimals,
    optional_texts,
    st.sampled_from(Liquidity),
    optional_texts,
    times,
)
positions = st.tuples(texts, decimals, decimals, decimals)


def _same(made: Any, built: Any) -> None:
    assert type(made) is type(built)
    assert made == built
    assert hash(made) == hash(built)
    assert repr(made) == repr(built)
    assert attrs.astuple(made, recurse=False) == attrs.astuple(built, recurse=False)
    assert converter.unstructure(made) == converter.unstructure(built)
    assert pickle.loads(pickle.dumps(made)) == built
    assert copy.copy(made) == built


@given(orders)
def test_new_order_is_the_order(values: tuple[Any, ...]) -> None:
    _same(new_order(*values), Order(*values))


@given(updates)
def test_new_order_update_is_the_update(values: tuple[Any, ...]) -> None:
    _same(new_order_update(*values), OrderUpdate(*values))


@given(fills)
def test_new_fill_is_the_fill(values: tuple[Any, ...]) -> None:
    _same(new_fill(*values), Fill(*values))


@given(positions)
def test_new_position_is_the_position(values: tuple[Any, ...]) -> None:
    _same(new_position(*values), Position(*values))


def test_what_it_builds_stays_frozen() -> None:
    position = new_position("BTCUSDT", Decimal(1), Decimal(2), Decimal(0))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        position.quantity = Decimal(5)  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del position.symbol
    assert position.quantity == Decimal(1)


def test_every_field_is_required() -> None:
    with pytest.raises(TypeError):
        new_position("BTCUSDT")


def test_applied_positions_are_plain_positions() -> None:
    position = (
        Position("X")
        .apply(OrderSide.BUY, Decimal(2), Decimal(10))
        .apply(OrderSide.SELL, Decimal(1), Decimal(12))
    )
    assert type(position) is Position
    assert position == Position("X", Decimal(1), Decimal(10), Decimal(2))


def test_subclasses_keep_their_own_type_through_apply() -> None:
    @attrs.frozen(weakref_slot=False)
    class Tagged(Position):
        pass

    assert type(Tagged("X").apply(OrderSide.BUY, Decimal(1), Decimal(1))) is Tagged


def _frozen(name: str, **body: Any) -> Any:
    return attrs.frozen(weakref_slot=False)(type(name, (), {"__annotations__": {"a": "int"}, **body}))


@pytest.mark.parametrize(
    ("definition", "complaint"),
    [
        (lambda: attrs.frozen(type("Weak", (), {"__annotations__": {"a": "int"}})), "__weakref__"),
        (
            lambda: _frozen("Validates", a=attrs.field(validator=attrs.validators.instance_of(int))),
            "is validated",
        ),
        (
            lambda: _frozen(
                "TakesSelf", a=attrs.field(converter=attrs.Converter(lambda v, s: v, takes_self=True))
            ),
            "converts with the instance",
        ),
        (lambda: _frozen("PreInit", __attrs_pre_init__=lambda self: None), "before init"),
        (lambda: _frozen("Aliased", a=attrs.field(alias="b")), "alias"),
        (
            lambda: attrs.frozen(weakref_slot=False, slots=False)(
                type("Dict", (), {"__annotations__": {"a": "int"}})
            ),
            "not a slotted attrs class",
        ),
        (lambda: type("Plain", (), {"__slots__": ("a",)}), "not a slotted attrs class"),
    ],
)
def test_refuses_classes_it_cannot_build_faithfully(definition: Any, complaint: str) -> None:
    with pytest.raises(TypeError, match=complaint):
        positional_constructor(definition())


def test_converters_apply_and_post_init_checks_the_result() -> None:
    def positive(self: Any) -> None:
        if self.a <= 0:
            raise ValueError("a must be positive")

    make = positional_constructor(
        _frozen("Checked", a=attrs.field(converter=int), __attrs_post_init__=positive)
    )
    assert make("7").a == 7
    with pytest.raises(ValueError, match="positive"):
        make("-1")


requests = st.tuples(
    texts,
    texts,
    st.sampled_from(OrderSide),
    st.sampled_from(OrderType),
    decimals | st.integers(-5, 5) | st.sampled_from(["1.5", "0", "x"]),
    optional_decimals,
    optional_decimals,
    st.sampled_from(TimeInForce),
    st.booleans(),
)


@given(requests)
def test_new_order_request_converts_and_checks_as_the_constructor(values: tuple[Any, ...]) -> None:
    outcomes: list[Any] = []
    for build in (OrderRequest, new_order_request):
        try:
            outcomes.append(build(*values))
        except InvalidOrder as exc:
            outcomes.append((exc.field, str(exc)))
    built, made = outcomes
    if isinstance(built, OrderRequest):
        _same(made, built)
    else:
        assert made == built
