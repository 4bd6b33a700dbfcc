"""Translation between the core's model and v20's JSON (no I/O here).

* orders out: type and time-in-force, signed units, ``priceBound``, ``clientExtensions.id``;
* instruments in: precision and size limits become the core's tick, lot and minimum;
* orders, positions, account summaries and transactions in.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import attrs
from autotrader.errors import InvalidOrder, UnsupportedOrder
from autotrader.model import (
    ZERO,
    Balance,
    Instrument,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
)

VENUE = "oanda"
CREATE_TYPES: Final = frozenset({"MARKET_ORDER", "LIMIT_ORDER", "STOP_ORDER", "MARKET_IF_TOUCHED_ORDER"})
REJECT_TYPES: Final = frozenset(f"{t}_REJECT" for t in CREATE_TYPES)
CLIENT_CANCEL_REASONS: Final = frozenset({"CLIENT_REQUEST"})
REPLACED_REASON: Final = "CLIENT_REQUEST_REPLACED"
REFUSAL_REASONS: Final = frozenset(
    {
        "INSUFFICIENT_MARGIN",
        "MARKET_HALTED",
        "ACCOUNT_LOCKED",
        "ACCOUNT_NEW_POSITIONS_LOCKED",
        "ACCOUNT_ORDER_CREATION_LOCKED",
        "ACCOUNT_ORDER_FILL_LOCKED",
        "POSITION_CLOSEOUT_FAILED",
        "OPEN_TRADES_ALLOWED_EXCEEDED",
        "PENDING_ORDERS_ALLOWED_EXCEEDED",
    }
)
"""Cancel reasons meaning "the venue would not take this order" (REJECTED when nothing filled)."""

_TIF_OUT: Final = {
    TimeInForce.GTC: "GTC",
    TimeInForce.DAY: "GFD",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
}
_TIF_IN: Final = {
    "GTC": TimeInForce.GTC,
    "GTD": TimeInForce.GTC,
    "GFD": TimeInForce.DAY,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
}


@attrs.frozen
class InstrumentDetails:
    """What v20 says about an instrument beyond the core's :class:`Instrument` filters."""

    instrument: Instrument
    pip_location: int
    display_precision: int
    trade_units_precision: int
    type: str
    margin_rate: Decimal

    def price(self, value: Decimal) -> str:
        return str(value.quantize(self.instrument.tick_size))

    def units(self, value: Decimal) -> str:
        return str(value.quantize(self.instrument.lot_size))


def instrument_from_wire(data: dict[str, Any]) -> InstrumentDetails:
    name = str(data["name"])
    base, _, quote = name.partition("_")
    display = int(data["displayPrecision"])
    units_precision = int(data.get("tradeUnitsPrecision", 0))
    maximum = data.get("maximumOrderUnits")
    instrument = Instrument(
        symbol=name,
        base_asset=base,
        quote_asset=quote,
        tick_size=Decimal(1).scaleb(-display),
        lot_size=Decimal(1).scaleb(-units_precision),
        min_quantity=Decimal(str(data.get("minimumTradeSize", "0"))),
        max_quantity=Decimal(str(maximum)) if maximum not in (None, "0") else None,
        venue_symbol=name,
    )
    return InstrumentDetails(
        instrument=instrument,
        pip_location=int(data.get("pipLocation", 0)),
        display_precision=display,
        trade_units_precision=units_precision,
        type=str(data.get("type", "CURRENCY")),
        margin_rate=Decimal(str(data.get("marginRate", "0"))),
    )


# --------------------------------------------------------------------------- orders out


def order_spec(
    order_type: OrderType,
    time_in_force: TimeInForce,
    side: OrderSide,
    units: Decimal,
    details: InstrumentDetails,
    *,
    price: Decimal | None,
    stop_price: Decimal | None,
    client_order_id: str,
    reduce_only: bool = False,
) -> dict[str, Any]:
    """The v20 ``OrderRequest`` for a core order (``units`` unsigned, remaining to work)."""
    signed = units if side is OrderSide.BUY else -units
    body: dict[str, Any] = {
        "instrument": details.instrument.symbol,
        "units": details.units(signed),
        "positionFill": "REDUCE_ONLY" if reduce_only else "DEFAULT",
        "clientExtensions": {"id": client_order_id},
    }
    if order_type is OrderType.MARKET:
        if time_in_force is TimeInForce.DAY:
            raise UnsupportedOrder("time_in_force", "OANDA market orders are FOK or IOC, not DAY")
        # A plain (GTC) market order takes what the market has: IOC, never a resting order.
        body.update(type="MARKET", timeInForce="FOK" if time_in_force is TimeInForce.FOK else "IOC")
        return body
    body["timeInForce"] = _TIF_OUT[time_in_force]
    if order_type is OrderType.LIMIT:
        assert price is not None
        body.update(type="LIMIT", price=details.price(price))
    elif order_type is OrderType.STOP:
        assert stop_price is not None
        body.update(type="STOP", price=details.price(stop_price))
    elif order_type is OrderType.STOP_LIMIT:
        assert price is not None
        assert stop_price is not None
        # OANDA's stop order with a priceBound: triggers at price, never fills beyond the bound.
        body.update(type="STOP", price=details.price(stop_price), priceBound=details.price(price))
    else:  # pragma: no cover - exhaustive over OrderType
        raise UnsupportedOrder("order_type", f"{order_type.value} is not an OANDA order type")
    return body


def order_body(request: OrderRequest, details: InstrumentDetails) -> dict[str, Any]:
    return {
        "order": order_spec(
            request.order_type,
            request.time_in_force,
            request.side,
            request.quantity,
            details,
            price=request.price,
            stop_price=request.stop_price,
            client_order_id=request.client_order_id,
            reduce_only=request.reduce_only,
        )
    }


# --------------------------------------------------------------------------- orders in


def side_of(units: Decimal) -> OrderSide:
    return OrderSide.BUY if units > 0 else OrderSide.SELL


def core_type(order: dict[str, Any]) -> tuple[OrderType, Decimal | None, Decimal | None]:
    """``(type, limit price, stop price)`` of a v20 order or order-create transaction."""
    kind = str(order.get("type", "")).removesuffix("_ORDER")
    price = _opt_decimal(order.get("price"))
    bound = _opt_decimal(order.get("priceBound"))
    if kind == "LIMIT":
        return OrderType.LIMIT, price, None
    if kind == "STOP":
        if bound is not None:
            return OrderType.STOP_LIMIT, bound, price
        return OrderType.STOP, None, price
    if kind == "MARKET_IF_TOUCHED":
        return OrderType.LIMIT, price, None
    return OrderType.MARKET, None, None


def cancel_status(reason: str | None, filled: Decimal) -> OrderStatus:
    """The core status of a v20 order cancelled with ``reason``."""
    if reason in CLIENT_CANCEL_REASONS or reason == REPLACED_REASON:
        return OrderStatus.CANCELLED
    if reason in REFUSAL_REASONS and filled == 0:
        return OrderStatus.REJECTED
    return OrderStatus.EXPIRED


def order_status(state: str, filled: Decimal, quantity: Decimal, cancel_reason: str | None) -> OrderStatus:
    if state == "FILLED" or (quantity > 0 and filled >= quantity):
        return OrderStatus.FILLED
    if state == "CANCELLED":
        return cancel_status(cancel_reason, filled)
    return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.ACCEPTED


def order_from_wire(
    head: dict[str, Any],
    *,
    client_order_id: str,
    filled: Decimal,
    filled_before: Decimal,
    average_price: Decimal | None,
    commission: Decimal,
    cancel_reason: str | None,
    created_at: float | None = None,
) -> Order:
    """The core's :class:`Order` for the newest v20 order of a replace chain.

    ``filled`` counts every fill of the chain, ``filled_before`` those of the replaced orders:
    the core's quantity is what the replaced orders filled plus what the head asks for.
    """
    units = Decimal(str(head["units"]))
    order_type, price, stop = core_type(head)
    quantity = filled_before + abs(units)
    status = order_status(str(head.get("state", "PENDING")), filled, quantity, cancel_reason)
    stamp = created_at if created_at is not None else parse_time(head.get("createTime"))
    return Order(
        client_order_id=client_order_id,
        symbol=str(head["instrument"]),
        side=side_of(units),
        order_type=order_type,
        quantity=quantity,
        price=price,
        stop_price=stop,
        time_in_force=_TIF_IN.get(str(head.get("timeInForce", "GTC")), TimeInForce.GTC),
        status=status,
        filled_quantity=filled,
        average_fill_price=average_price,
        venue_order_id=str(head["id"]),
        reason=cancel_reason if status in (OrderStatus.EXPIRED, OrderStatus.REJECTED) else None,
        commission=commission,
        created_at=stamp,
        updated_at=stamp,
        reduce_only=head.get("positionFill") == "REDUCE_ONLY",
    )


# --------------------------------------------------------------------------- account


def positions_from_wire(positions: list[dict[str, Any]]) -> list[Position]:
    """Net positions from v20's long and short legs (both may be open on a hedging account)."""
    result = []
    for data in positions:
        long_leg, short_leg = data.get("long", {}), data.get("short", {})
        long_units = Decimal(str(long_leg.get("units", "0")))
        short_units = Decimal(str(short_leg.get("units", "0")))
        net = long_units + short_units
        if net == 0 and long_units == 0:
            continue
        leg = long_leg if abs(long_units) >= abs(short_units) else short_leg
        average = _opt_decimal(leg.get("averagePrice")) or ZERO
        realized = Decimal(str(data.get("pl", "0")))
        result.append(
            Position(
                symbol=str(data["instrument"]), quantity=net, average_price=average, realized_pnl=realized
            )
        )
    return result


def balances_from_summary(account: dict[str, Any]) -> list[Balance]:
    """One balance in the home currency: free = margin available, locked = margin used (total = NAV)."""
    return [
        Balance(
            asset=str(account["currency"]),
            free=Decimal(str(account["marginAvailable"])),
            locked=Decimal(str(account["marginUsed"])),
        )
    ]


# --------------------------------------------------------------------------- helpers


def _opt_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def parse_time(value: Any) -> float:
    """v20 RFC 3339 (nanoseconds) or UNIX seconds -> epoch seconds."""
    if value is None:
        return 0.0
    text = str(value)
    try:
        return float(text)
    except ValueError:
        pass
    if text.endswith("Z"):
        text = text[:-1]
    main, _, fraction = text.partition(".")
    stamp = datetime.fromisoformat(main + "+00:00").timestamp()
    return stamp + (float(f"0.{fraction}") if fraction.isdigit() else 0.0)


def check_symbol(symbol: str, instruments: dict[str, InstrumentDetails]) -> InstrumentDetails:
    try:
        return instruments[symbol]
    except KeyError:
        raise InvalidOrder("symbol", f"{symbol!r} is not tradable on this OANDA account") from None
