"""ExecutionDecision: the seed's constructor keeps working, and bad decisions fail where they are made."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autotrader.engine import ExecutionEngine
from autotrader.errors import InvalidOrder
from autotrader.model import OrderSide, OrderType, TimeInForce
from autotrader.strategy import Action, ExecutionDecision

pytestmark = pytest.mark.timeout(60)


def test_seed_example_is_accepted_with_exact_decimals() -> None:
    decision = ExecutionDecision(
        action="LONG",
        symbol="BTCUSDT",
        size=0.1,
        confidence=0.8,
        expected_profit=100.0,
        max_risk=50.0,
        metadata={"limit_price": 50000},
    )
    assert decision.size == Decimal("0.1")
    assert decision.expected_profit == Decimal("100.0")
    assert decision.max_risk == Decimal("50.0")
    assert decision.action == "LONG" and decision.action != "HOLD"
    assert decision.order_type is OrderType.LIMIT
    assert decision.time_in_force is TimeInForce.GTC
    assert decision.limit_price == Decimal("50000")
    assert decision.action.side is OrderSide.BUY


def test_positional_arguments_and_defaults() -> None:
    decision = ExecutionDecision("short", "ETHUSDT", Decimal("2"))
    assert decision.action is Action.SHORT
    assert decision.confidence == 0.0
    assert decision.expected_profit == 0 and decision.max_risk == 0
    assert decision.order_type is OrderType.MARKET
    assert decision.stop_price is None and decision.limit_price is None


@pytest.mark.parametrize("raw", ["long", " Long ", "LONG", Action.LONG])
def test_action_is_case_insensitive(raw: Any) -> None:
    assert ExecutionDecision(raw, "X", 1).action is Action.LONG


@pytest.mark.parametrize("raw", ["BUY", "", None, 3])
def test_unknown_action_is_invalid_order(raw: Any) -> None:
    with pytest.raises(InvalidOrder) as caught:
        ExecutionDecision(raw, "X", 1)
    assert caught.value.field == "action"


@pytest.mark.parametrize("size", [math.nan, math.inf, -math.inf, -0.1, "nan", "-1", "abc", None, True])
def test_bad_sizes_are_refused_naming_the_field(size: Any) -> None:
    with pytest.raises(InvalidOrder) as caught:
        ExecutionDecision("LONG", "X", size)
    assert caught.value.field == "size"


@pytest.mark.parametrize("action", ["LONG", "SHORT"])
def test_opening_decisions_need_a_positive_size(action: str) -> None:
    with pytest.raises(InvalidOrder) as caught:
        ExecutionDecision(action, "X", 0)
    assert caught.value.field == "size"


@pytest.mark.parametrize("action", ["CLOSE", "HOLD"])
def test_close_and_hold_may_have_zero_size(action: str) -> None:
    assert ExecutionDecision(action, "X", 0).size == 0


@pytest.mark.parametrize("symbol", ["", "   ", None])
def test_symbol_must_not_be_empty(symbol: Any) -> None:
    with pytest.raises(InvalidOrder) as caught:
        ExecutionDecision("LONG", symbol, 1)
    assert caught.value.field == "symbol"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_risk", -1),
        ("max_risk", math.nan),
        ("expected_profit", math.inf),
        ("confidence", 1.5),
        ("confidence", -0.1),
        ("confidence", math.nan),
        ("confidence", "high"),
    ],
)
def test_other_numeric_fields_are_checked(field: str, value: Any) -> None:
    with pytest.raises(InvalidOrder) as caught:
        ExecutionDecision("LONG", "X", 1, **{field: value})
    assert caught.value.field == field


def test_expected_profit_may_be_negative() -> None:
    assert ExecutionDecision("LONG", "X", 1, expected_profit=-5.5).expected_profit == Decimal("-5.5")


@pytest.mark.parametrize(
    ("metadata", "order_type", "tif"),
    [
        ({}, OrderType.MARKET, TimeInForce.GTC),
        ({"limit_price": 1}, OrderType.LIMIT, TimeInForce.GTC),
        ({"stop_price": 1}, OrderType.STOP, TimeInForce.GTC),
        ({"stop_price": 1, "limit_price": 2}, OrderType.STOP_LIMIT, TimeInForce.GTC),
        ({"order_type": "ioc", "limit_price": 1}, OrderType.LIMIT, TimeInForce.IOC),
        ({"order_type": "IOC"}, OrderType.MARKET, TimeInForce.IOC),
        ({"order_type": "FOK", "limit_price": 1}, OrderType.LIMIT, TimeInForce.FOK),
        ({"order_type": "FOK", "time_in_force": "fok"}, OrderType.MARKET, TimeInForce.FOK),
        ({"order_type": "limit", "limit_price": 1, "time_in_force": "DAY"}, OrderType.LIMIT, TimeInForce.DAY),
        ({"order_type": OrderType.STOP, "stop_price": "3.5"}, OrderType.STOP, TimeInForce.GTC),
    ],
)
def test_order_shape_from_metadata(metadata: dict[str, Any], order_type: OrderType, tif: TimeInForce) -> None:
    decision = ExecutionDecision("LONG", "X", 1, metadata=metadata)
    assert decision.order_type is order_type
    assert decision.time_in_force is tif


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ({"order_type": "LIMIT"}, "limit_price"),
        ({"order_type": "MARKET", "limit_price": 1}, "limit_price"),
        ({"order_type": "STOP"}, "stop_price"),
        ({"order_type": "LIMIT", "limit_price": 1, "stop_price": 1}, "stop_price"),
        ({"order_type": "TRAILING"}, "order_type"),
        ({"time_in_force": "GTD"}, "time_in_force"),
        ({"order_type": "IOC", "time_in_force": "FOK"}, "time_in_force"),
        ({"limit_price": -1}, "limit_price"),
        ({"limit_price": math.nan}, "limit_price"),
        ({"stop_price": "abc"}, "stop_price"),
    ],
)
def test_malformed_order_metadata_is_refused(metadata: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidOrder) as caught:
        ExecutionDecision("LONG", "X", 1, metadata=metadata)
    assert caught.value.field == field


def test_metadata_is_a_read_only_copy() -> None:
    source: dict[str, Any] = {"limit_price": 0.1, "note": "x"}
    decision = ExecutionDecision("LONG", "X", 1, metadata=source)
    source["note"] = "changed"
    assert decision.metadata["note"] == "x"
    assert decision.metadata["limit_price"] == Decimal("0.1")
    with pytest.raises(TypeError):
        decision.metadata["note"] = "y"  # type: ignore[index]


def test_decisions_are_frozen_hashable_values() -> None:
    a = ExecutionDecision("LONG", "X", 0.1, metadata={"limit_price": 5})
    b = ExecutionDecision("long", "X", Decimal("0.1"), metadata={"limit_price": Decimal(5)})
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.size = Decimal(1)  # type: ignore[misc]


_NAMES = st.sampled_from(
    [None, "MARKET", "LIMIT", "STOP", "STOP_LIMIT", "IOC", "FOK", "limit", OrderType.STOP]
)
_TIFS = st.sampled_from([None, "GTC", "IOC", "FOK", "DAY", "day", TimeInForce.IOC])
_PRICES = st.sampled_from([None, 100, "100.5", Decimal("99.99"), 0.1])


@given(order_type=_NAMES, tif=_TIFS, limit=_PRICES, stop=_PRICES, price=st.sampled_from([None, 50]))
def test_order_terms_are_what_the_engine_reads_from_the_metadata(
    order_type: Any, tif: Any, limit: Any, stop: Any, price: Any
) -> None:
    """The engine builds an ExecutionDecision's request from ``order_terms``, and any other
    decision's from its metadata: for the same metadata the two must agree."""
    raw = {
        "order_type": order_type,
        "time_in_force": tif,
        "limit_price": limit,
        "stop_price": stop,
        "price": price,
    }
    try:
        decision = ExecutionDecision(
            "LONG", "BTCUSDT", 1, metadata={k: v for k, v in raw.items() if v is not None}
        )
    except InvalidOrder:
        assume(False)
    assert decision.order_terms == ExecutionEngine._order_terms(decision.metadata)
