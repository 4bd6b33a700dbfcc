"""Core <-> v20 translation: order bodies, instruments, orders, positions, balances."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from autotrader.errors import InvalidOrder, UnsupportedOrder
from autotrader.model import OrderRequest, OrderSide, OrderStatus, OrderType, TimeInForce
from oandapyV20.endpoints.responses.accounts import responses as account_responses
from oandapyV20.endpoints.responses.positions import responses as position_responses

from autotrader_oanda.mapping import (
    balances_from_summary,
    cancel_status,
    check_symbol,
    core_type,
    instrument_from_wire,
    order_body,
    order_from_wire,
    parse_time,
    positions_from_wire,
)

EUR_USD = {
    "name": "EUR_USD",
    "type": "CURRENCY",
    "displayName": "EUR/USD",
    "displayPrecision": 5,
    "pipLocation": -4,
    "tradeUnitsPrecision": 0,
    "minimumTradeSize": "1",
    "maximumOrderUnits": "100000000",
    "marginRate": "0.02",
}
DETAILS = instrument_from_wire(EUR_USD)


def req(
    order_type: OrderType, side: OrderSide = OrderSide.BUY, tif: TimeInForce = TimeInForce.GTC, **kw: Any
) -> OrderRequest:
    return OrderRequest(
        client_order_id="cid-1",
        symbol="EUR_USD",
        side=side,
        order_type=order_type,
        quantity=Decimal(1000),
        time_in_force=tif,
        **kw,
    )


def test_instrument_precision_becomes_tick_lot_and_minimum() -> None:
    instrument = DETAILS.instrument
    assert instrument.tick_size == Decimal("0.00001")
    assert instrument.lot_size == Decimal(1)
    assert instrument.min_quantity == Decimal(1)
    assert instrument.max_quantity == Decimal(100000000)
    assert (instrument.base_asset, instrument.quote_asset) == ("EUR", "USD")
    assert DETAILS.pip_location == -4 and DETAILS.display_precision == 5


def test_instruments_from_the_librarys_own_example() -> None:
    listed = account_responses["_v3_account_by_accountID_instruments"]["response"]["instruments"]
    details = {d.instrument.symbol: d for d in map(instrument_from_wire, listed)}
    assert details["DE30_EUR"].instrument.tick_size == Decimal("0.1")
    assert details["DE30_EUR"].type == "CFD"
    assert details["EUR_USD"].instrument.tick_size == Decimal("0.00001")


def test_fractional_units_instrument() -> None:
    spx = instrument_from_wire(
        EUR_USD
        | {"name": "SPX500_USD", "displayPrecision": 1, "tradeUnitsPrecision": 1, "minimumTradeSize": "0.1"}
    )
    assert spx.instrument.lot_size == Decimal("0.1")
    assert spx.units(Decimal("-2.5")) == "-2.5"


def test_market_orders_are_ioc_or_fok_with_signed_units() -> None:
    body = order_body(req(OrderType.MARKET, OrderSide.SELL), DETAILS)["order"]
    assert body == {
        "type": "MARKET",
        "instrument": "EUR_USD",
        "units": "-1000",
        "timeInForce": "IOC",
        "positionFill": "DEFAULT",
        "clientExtensions": {"id": "cid-1"},
    }
    fok = order_body(req(OrderType.MARKET, tif=TimeInForce.FOK), DETAILS)["order"]
    assert fok["timeInForce"] == "FOK" and fok["units"] == "1000"
    with pytest.raises(UnsupportedOrder):
        order_body(req(OrderType.MARKET, tif=TimeInForce.DAY), DETAILS)


@pytest.mark.parametrize(
    ("tif", "wire"),
    [(TimeInForce.GTC, "GTC"), (TimeInForce.DAY, "GFD"), (TimeInForce.IOC, "IOC"), (TimeInForce.FOK, "FOK")],
)
def test_limit_time_in_force(tif: TimeInForce, wire: str) -> None:
    body = order_body(req(OrderType.LIMIT, tif=tif, price=Decimal("1.1")), DETAILS)["order"]
    assert body["type"] == "LIMIT" and body["timeInForce"] == wire and body["price"] == "1.10000"


def test_stop_and_stop_limit_use_price_and_price_bound() -> None:
    stop = order_body(req(OrderType.STOP, stop_price=Decimal("1.2")), DETAILS)["order"]
    assert stop["type"] == "STOP" and stop["price"] == "1.20000" and "priceBound" not in stop
    stop_limit = order_body(
        req(OrderType.STOP_LIMIT, price=Decimal("1.21"), stop_price=Decimal("1.2")), DETAILS
    )["order"]
    assert stop_limit["type"] == "STOP" and stop_limit["price"] == "1.20000"
    assert stop_limit["priceBound"] == "1.21000"
    assert core_type(stop_limit) == (OrderType.STOP_LIMIT, Decimal("1.21000"), Decimal("1.20000"))
    assert core_type(stop) == (OrderType.STOP, None, Decimal("1.20000"))
    assert core_type({"type": "MARKET_ORDER"}) == (OrderType.MARKET, None, None)


def test_reduce_only_is_position_fill() -> None:
    body = order_body(req(OrderType.MARKET, reduce_only=True), DETAILS)["order"]
    assert body["positionFill"] == "REDUCE_ONLY"


def test_unknown_symbol_is_invalid_before_the_wire() -> None:
    with pytest.raises(InvalidOrder) as info:
        check_symbol("NOPE", {"EUR_USD": DETAILS})
    assert info.value.field == "symbol"


@pytest.mark.parametrize(
    ("reason", "filled", "status"),
    [
        ("CLIENT_REQUEST", 0, OrderStatus.CANCELLED),
        ("CLIENT_REQUEST_REPLACED", 0, OrderStatus.CANCELLED),
        ("INSUFFICIENT_LIQUIDITY", 0, OrderStatus.EXPIRED),
        ("BOUNDS_VIOLATION", 0, OrderStatus.EXPIRED),
        ("TIME_IN_FORCE_EXPIRED", 0, OrderStatus.EXPIRED),
        ("MARKET_HALTED", 0, OrderStatus.REJECTED),
        ("INSUFFICIENT_MARGIN", 0, OrderStatus.REJECTED),
        ("INSUFFICIENT_MARGIN", 5, OrderStatus.EXPIRED),
    ],
)
def test_cancel_reasons(reason: str, filled: int, status: OrderStatus) -> None:
    assert cancel_status(reason, Decimal(filled)) is status


def test_order_from_a_replace_chain_counts_earlier_fills() -> None:
    head = {
        "id": "20",
        "type": "LIMIT",
        "instrument": "EUR_USD",
        "units": "-600",
        "price": "1.25000",
        "timeInForce": "GFD",
        "state": "PENDING",
        "createTime": "2024-01-02T03:04:05.123456789Z",
        "replacesOrderID": "12",
    }
    order = order_from_wire(
        head,
        client_order_id="c",
        filled=Decimal(400),
        filled_before=Decimal(400),
        average_price=Decimal("1.25"),
        commission=Decimal("0.01"),
        cancel_reason=None,
    )
    assert order.quantity == Decimal(1000) and order.filled_quantity == Decimal(400)
    assert order.side is OrderSide.SELL and order.status is OrderStatus.PARTIALLY_FILLED
    assert order.time_in_force is TimeInForce.DAY and order.venue_order_id == "20"
    assert order.created_at == pytest.approx(1704164645.123456789)


def test_positions_from_the_librarys_example_net_long_and_short_legs() -> None:
    data = position_responses["_v3_accounts_accountID_openpositions"]["response"]["positions"]
    positions = {p.symbol: p for p in positions_from_wire(data)}
    assert positions["DE30_EUR"].quantity == Decimal(10)
    assert positions["DE30_EUR"].average_price == Decimal("10678.3")
    assert positions["EUR_USD"].quantity == Decimal(-100)
    assert positions["EUR_USD"].average_price == Decimal("1.09843")


def test_hedged_legs_net_out() -> None:
    data = [
        {
            "instrument": "EUR_USD",
            "pl": "1.0",
            "long": {"units": "300", "averagePrice": "1.1"},
            "short": {"units": "-100", "averagePrice": "1.2"},
        }
    ]
    (position,) = positions_from_wire(data)
    assert position.quantity == Decimal(200) and position.average_price == Decimal("1.1")


def test_balance_is_nav_split_into_available_and_used_margin() -> None:
    summary = account_responses["_v3_account_by_accountID_summary"]["response"]["account"]
    (balance,) = balances_from_summary(summary)
    assert balance.asset == "EUR"
    assert balance.free == Decimal("24872.9740") and balance.locked == Decimal("10581.5000")
    assert balance.total == Decimal(summary["NAV"])


def test_parse_time_rfc3339_nanoseconds_and_unix() -> None:
    assert parse_time("1970-01-01T00:00:01.500000000Z") == pytest.approx(1.5)
    assert parse_time("12.25") == 12.25
