"""Reading a new-order request the way Binance does: parameter checks, then symbol filters.

Binance answers a malformed request with an -11xx code and a filter failure with -1013, both
before the matching engine sees the order; the same order of checks is kept here so that an
adapter is tested against the real sequence of answers.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Final

from autotrader_binance.venue.exchange import (
    LIMIT_TYPES,
    MARKET_TYPES,
    STOP_TYPES,
    Exchange,
    NewOrder,
    SymbolSpec,
    VenueError,
)

__all__ = [
    "check_client_id",
    "check_filters",
    "generated_client_id",
    "optional_decimal",
    "parse_new_order",
    "require",
]

_DECIMAL_RE: Final = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
_DECIMAL_RANGE: Final = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
_CLIENT_ID_RE: Final = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
_CLIENT_ID_RANGE: Final = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"
_SIDES: Final = frozenset({"BUY", "SELL"})
_TYPES: Final = STOP_TYPES | LIMIT_TYPES | MARKET_TYPES
_TIME_IN_FORCE: Final = frozenset({"GTC", "IOC", "FOK"})
_ID_ALPHABET: Final = string.ascii_letters + string.digits


def generated_client_id() -> str:
    """A client order id like the ones Binance generates when none is sent (22 characters)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(22))


def check_client_id(client_id: str, param: str) -> None:
    """Binance's rule for client order ids (-1100 naming the parameter)."""
    if not _CLIENT_ID_RE.match(client_id):
        raise VenueError(
            -1100, f"Illegal characters found in parameter '{param}'; legal range is '{_CLIENT_ID_RANGE}'."
        )


def require(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise VenueError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
    return value


def optional_decimal(params: Mapping[str, str], name: str) -> Decimal | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not _DECIMAL_RE.match(raw):
        raise VenueError(
            -1100, f"Illegal characters found in parameter '{name}'; legal range is '{_DECIMAL_RANGE}'."
        )
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        raise VenueError(-1100, f"Illegal characters found in parameter '{name}'.") from None
    if value.as_tuple().exponent < -8:  # type: ignore[operator]
        raise VenueError(-1111, f"Parameter '{name}' has too much precision.")
    return value


def _not_required(params: Mapping[str, str], name: str) -> None:
    if params.get(name) not in (None, ""):
        raise VenueError(-1106, f"Parameter '{name}' sent when not required.")


def parse_new_order(
    params: Mapping[str, str],
    exchange: Exchange,
    *,
    prefix: str = "",
    client_id_param: str = "newClientOrderId",
) -> NewOrder:
    """Build a :class:`NewOrder` from request parameters, or raise the error Binance would."""
    symbol = require(params, "symbol")
    spec = exchange.spec(symbol)
    side = require(params, "side")
    if side not in _SIDES:
        raise VenueError(-1117, "Invalid side.")
    order_type = require(params, "type")
    if order_type not in _TYPES:
        raise VenueError(-1116, "Invalid orderType.")
    if params.get("quoteOrderQty"):
        raise VenueError(-1020, "This operation is not supported.")
    quantity = optional_decimal(params, "quantity")
    if quantity is None:
        require(params, "quantity")
    assert quantity is not None
    price = optional_decimal(params, "price")
    stop_price = optional_decimal(params, "stopPrice")
    tif = params.get("timeInForce") or None
    if order_type in LIMIT_TYPES and price is None:
        require(params, "price")
    if order_type in MARKET_TYPES:
        _not_required(params, "price")
    if order_type in STOP_TYPES and stop_price is None:
        require(params, "stopPrice")
    if order_type not in STOP_TYPES:
        _not_required(params, "stopPrice")
    if order_type in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
        tif = require(params, "timeInForce")
        if tif not in _TIME_IN_FORCE:
            raise VenueError(-1115, "Invalid timeInForce.")
    else:
        _not_required(params, "timeInForce")
    client_id = params.get(client_id_param) or generated_client_id()
    check_client_id(client_id, client_id_param)
    request = NewOrder(
        symbol=symbol,
        side=side,
        type=order_type,
        quantity=quantity,
        client_order_id=client_id,
        price=price,
        stop_price=stop_price,
        time_in_force=tif,
    )
    check_filters(request, spec, exchange)
    return request


def _multiple(value: Decimal, step: Decimal) -> bool:
    return step == 0 or value % step == 0


def check_filters(request: NewOrder, spec: SymbolSpec, exchange: Exchange) -> None:
    """The symbol filters, in the order exchangeInfo lists them; the first failure is the answer."""
    for value in (request.price, request.stop_price):
        if value is None:
            continue
        if (
            (spec.min_price and value < spec.min_price)
            or (spec.max_price and value > spec.max_price)
            or not _multiple(value, spec.tick)
        ):
            raise VenueError(-1013, "Filter failure: PRICE_FILTER")
    qty = request.quantity
    if qty <= 0:
        raise VenueError(-1013, "Filter failure: LOT_SIZE")
    if qty < spec.min_qty or qty > spec.max_qty or not _multiple(qty, spec.step):
        raise VenueError(-1013, "Filter failure: LOT_SIZE")
    if request.type in MARKET_TYPES and qty > spec.market_max_qty:
        raise VenueError(-1013, "Filter failure: MARKET_LOT_SIZE")
    reference = request.price or request.stop_price or spec.price
    notional = qty * reference
    name = "MIN_NOTIONAL" if spec.legacy_min_notional else "NOTIONAL"
    if notional < spec.min_notional:
        raise VenueError(-1013, f"Filter failure: {name}")
    if not spec.legacy_min_notional and request.type not in MARKET_TYPES and notional > spec.max_notional:
        raise VenueError(-1013, "Filter failure: NOTIONAL")
    if len(exchange.open_orders(request.symbol)) >= spec.max_num_orders:
        raise VenueError(-1013, "Filter failure: MAX_NUM_ORDERS")
