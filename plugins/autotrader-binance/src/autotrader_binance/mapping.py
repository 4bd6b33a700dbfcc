"""Translation between the core's model and Binance spot's wire format, both ways.

Pure functions, no I/O: every venue message the adapter handles passes through here, so the
unit tests of this module are the map of what Binance says and what the core hears.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

from autotrader.errors import InvalidOrder, UnsupportedOrder
from autotrader.model import (
    ZERO,
    Balance,
    Fill,
    Instrument,
    Liquidity,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Quote,
    TimeInForce,
)

__all__ = [
    "CLIENT_ID_RE",
    "balances_from_account",
    "binance_order_type",
    "core_order_type",
    "fill_from_report",
    "fill_from_trade",
    "fills_from_new_order",
    "instrument_from_symbol",
    "new_order_params",
    "order_from_json",
    "order_status",
    "plain",
    "quote_from_book_ticker",
    "quote_from_book_ticker_answer",
    "report_client_order_id",
    "trade_key",
    "update_from_amend",
    "update_from_json",
    "update_from_report",
]

CLIENT_ID_RE: Final = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
"""Binance's rule for ``newClientOrderId``."""

_STATUS: Final = {
    "NEW": OrderStatus.ACCEPTED,
    "PENDING_NEW": OrderStatus.SUBMITTED,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELLED,
    "PENDING_CANCEL": OrderStatus.PENDING_CANCEL,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}
_CORE_TYPES: Final = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "LIMIT_MAKER": OrderType.LIMIT,
    "STOP_LOSS": OrderType.STOP,
    "TAKE_PROFIT": OrderType.STOP,
    "STOP_LOSS_LIMIT": OrderType.STOP_LIMIT,
    "TAKE_PROFIT_LIMIT": OrderType.STOP_LIMIT,
}
_ORIGINAL_ID_IN_C: Final = frozenset({"CANCELED", "REPLACED"})
_TIME_IN_FORCE: Final = {tif.value: tif for tif in (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK)}
_SIDES: Final = {side.value: side for side in OrderSide}
"""``OrderSide(value)`` by a dict: an enum call by value costs ten times more, twice per order."""


def dec(value: Any) -> Decimal:
    """Binance sends numbers as strings; a stray JSON number is read through ``str``, never float math."""
    return Decimal(value) if type(value) is str else Decimal(str(value))  # a str, nearly always


def _opt_price(value: Any) -> Decimal | None:
    if value is None:
        return None
    price = dec(value)
    return price if price != 0 else None


def _seconds(milliseconds: Any) -> float:
    return int(milliseconds) / 1000.0


def order_status(binance_status: str) -> OrderStatus:
    try:
        return _STATUS[binance_status]
    except KeyError:
        return OrderStatus.UNKNOWN


def core_order_type(binance_type: str) -> OrderType:
    return _CORE_TYPES[binance_type]


def trade_key(symbol: str, trade_id: Any) -> str:
    """The fill's ``trade_id``: Binance trade ids count per symbol, so the symbol makes them unique."""
    return f"{symbol}:{trade_id}"


# --------------------------------------------------------------------------- instruments


def instrument_from_symbol(data: Mapping[str, Any]) -> Instrument:
    """An ``exchangeInfo`` symbol to an :class:`Instrument` with its filters.

    The minimum notional comes from ``NOTIONAL`` or, on symbols that still publish it, the legacy
    ``MIN_NOTIONAL``; a ``tickSize``/``stepSize`` of 0 (filter disabled) becomes the smallest
    step the asset precision allows.
    """
    filters = {f["filterType"]: f for f in data.get("filters", [])}
    price_filter = filters.get("PRICE_FILTER", {})
    lot = filters.get("LOT_SIZE", {})
    notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
    precision = int(data.get("quoteAssetPrecision", data.get("quotePrecision", 8)))
    tick = dec(price_filter.get("tickSize", "0")) or Decimal(1).scaleb(-precision)
    step = dec(lot.get("stepSize", "0")) or Decimal(1).scaleb(-int(data.get("baseAssetPrecision", 8)))
    max_qty = dec(lot["maxQty"]) if lot.get("maxQty") and dec(lot["maxQty"]) > 0 else None
    max_price = (
        dec(price_filter["maxPrice"])
        if price_filter.get("maxPrice") and dec(price_filter["maxPrice"]) > 0
        else None
    )
    return Instrument(
        symbol=data["symbol"],
        base_asset=data["baseAsset"],
        quote_asset=data["quoteAsset"],
        tick_size=tick.normalize(),
        lot_size=step.normalize(),
        min_quantity=dec(lot.get("minQty", "0")),
        max_quantity=max_qty,
        min_notional=dec(notional.get("minNotional", "0")),
        min_price=dec(price_filter.get("minPrice", "0")),
        max_price=max_price,
        venue_symbol=data["symbol"],
    )


# --------------------------------------------------------------------------- requests


def binance_order_type(request: OrderRequest, last_price: Decimal | None) -> str:
    """The spot order type for a core order.

    Spot has no plain "stop": a stop that triggers when the price *rises* to it is STOP_LOSS for
    a buy and TAKE_PROFIT for a sell, and the other way round when it *falls* to it (Binance's
    trigger rules).  As Binance's own "Stop-Limit" form does, the kind is chosen by where the
    stop price lies against the last price: the order triggers when the market reaches it.
    """
    if request.order_type is OrderType.MARKET:
        return "MARKET"
    if request.order_type is OrderType.LIMIT:
        return "LIMIT"
    assert request.stop_price is not None
    rising = request.side is OrderSide.BUY if last_price is None else request.stop_price > last_price
    stop_loss = rising == (request.side is OrderSide.BUY)
    base = "STOP_LOSS" if stop_loss else "TAKE_PROFIT"
    return base + ("_LIMIT" if request.order_type is OrderType.STOP_LIMIT else "")


def plain(value: Decimal) -> str:
    """A decimal as Binance reads it: no exponent (``1E+1`` would be refused)."""
    return f"{value:f}"


def new_order_params(request: OrderRequest, binance_type: str) -> dict[str, str]:
    """``POST /api/v3/order`` parameters; raises :class:`UnsupportedOrder` for what spot lacks.

    Spot has no reduce-only flag: a ``reduce_only`` order goes out as a plain order.  The core
    decides what reduces exposure from its own positions (a buy back of inventory the strategy
    sold reduces them, though the spot balance never goes below zero).
    """
    if not CLIENT_ID_RE.match(request.client_order_id):
        raise InvalidOrder("client_order_id", "Binance needs 1-36 characters of [.A-Z:/a-z0-9_-]")
    if request.time_in_force is TimeInForce.DAY:
        raise UnsupportedOrder("time_in_force", "Binance spot has no DAY orders (GTC, IOC, FOK)")
    params = {
        "symbol": request.symbol,
        "side": request.side.value,
        "type": binance_type,
        "quantity": plain(request.quantity),
        "newClientOrderId": request.client_order_id,
        "newOrderRespType": "FULL",
    }
    if request.order_type is OrderType.MARKET:
        if request.time_in_force is TimeInForce.FOK:
            raise UnsupportedOrder(
                "time_in_force", "a Binance market order is immediate-or-cancel; FOK is not offered"
            )
    else:
        if request.price is not None:
            params["price"] = plain(request.price)
        if request.stop_price is not None:
            params["stopPrice"] = plain(request.stop_price)
        if request.order_type.needs_price:
            params["timeInForce"] = request.time_in_force.value
        elif request.time_in_force is not TimeInForce.GTC:
            raise UnsupportedOrder("time_in_force", "a spot stop-market order takes no time-in-force")
    return params


# --------------------------------------------------------------------------- orders


def _average(quote: Decimal, quantity: Decimal) -> Decimal | None:
    return quote / quantity if quantity else None


def update_from_json(
    data: Mapping[str, Any], venue: str, *, prior_filled: Decimal = ZERO, prior_quote: Decimal = ZERO
) -> OrderUpdate:
    """A REST order answer (new order, cancel, query) to an :class:`OrderUpdate`.

    ``prior_*`` add the executions of earlier legs of a cancel-replaced order (the core sees one
    order; Binance sees one per leg).  A cancel's own id is ``clientOrderId``; the order's is
    ``origClientOrderId`` there.
    """
    client_id = data.get("origClientOrderId") or data["clientOrderId"]
    executed = dec(data.get("executedQty", "0"))
    quote = dec(data.get("cummulativeQuoteQty", "0"))
    status = order_status(data.get("status", "NEW"))
    orig = data.get("origQty")
    return OrderUpdate(
        client_order_id=client_id,
        status=status,
        venue=venue,
        venue_order_id=str(data["orderId"]),
        filled_quantity=prior_filled + executed,
        average_price=_average(prior_quote + quote, prior_filled + executed),
        reason=data.get("expiryReason"),
        quantity=prior_filled + dec(orig) if orig is not None else None,
        price=_opt_price(data.get("price")),
        stop_price=_opt_price(data.get("stopPrice")),
        timestamp=_seconds(data.get("transactTime") or data.get("updateTime") or 0) or time.time(),
    )


def update_from_amend(
    data: Mapping[str, Any], venue: str, *, prior_filled: Decimal = ZERO, prior_quote: Decimal = ZERO
) -> OrderUpdate:
    """A ``PUT /api/v3/order/amend/keepPriority`` answer to an :class:`OrderUpdate`.

    The amended order is under ``amendedOrder``, in a shape of its own: ``qty`` (not ``origQty``)
    and ``cumulativeQuoteQty`` (spelled right, unlike everywhere else).
    """
    order = data["amendedOrder"]
    executed = dec(order.get("executedQty", "0"))
    quote = dec(order.get("cumulativeQuoteQty", "0"))
    return OrderUpdate(
        client_order_id=order.get("origClientOrderId") or order["clientOrderId"],
        status=order_status(order.get("status", "NEW")),
        venue=venue,
        venue_order_id=str(order["orderId"]),
        filled_quantity=prior_filled + executed,
        average_price=_average(prior_quote + quote, prior_filled + executed),
        quantity=prior_filled + dec(order["qty"]),
        price=_opt_price(order.get("price")),
        timestamp=_seconds(data.get("transactTime") or 0) or time.time(),
    )


def order_from_json(
    data: Mapping[str, Any], *, prior_filled: Decimal = ZERO, prior_quote: Decimal = ZERO
) -> Order:
    """``GET /api/v3/order`` / ``openOrders`` item to an :class:`Order`."""
    executed = prior_filled + dec(data["executedQty"])
    quote = prior_quote + dec(data["cummulativeQuoteQty"])
    return Order(
        client_order_id=data["clientOrderId"],
        symbol=data["symbol"],
        side=_SIDES[data["side"]],
        order_type=core_order_type(data["type"]),
        quantity=prior_filled + dec(data["origQty"]),
        price=_opt_price(data.get("price")),
        stop_price=_opt_price(data.get("stopPrice")),
        time_in_force=_TIME_IN_FORCE.get(data.get("timeInForce", "GTC"), TimeInForce.GTC),
        status=order_status(data["status"]),
        filled_quantity=executed,
        average_fill_price=_average(quote, executed),
        venue_order_id=str(data["orderId"]),
        reason=data.get("expiryReason"),
        created_at=_seconds(data.get("time", 0)),
        updated_at=_seconds(data.get("updateTime", data.get("time", 0))),
    )


def fill_from_trade(data: Mapping[str, Any], client_order_id: str, venue: str) -> Fill:
    """A ``GET /api/v3/myTrades`` item (which carries no client id: the caller knows it)."""
    return Fill(
        venue=venue,
        trade_id=trade_key(data["symbol"], data["id"]),
        client_order_id=client_order_id,
        symbol=data["symbol"],
        side=OrderSide.BUY if data["isBuyer"] else OrderSide.SELL,
        quantity=dec(data["qty"]),
        price=dec(data["price"]),
        commission=dec(data["commission"]),
        commission_asset=data.get("commissionAsset"),
        liquidity=Liquidity.MAKER if data.get("isMaker") else Liquidity.TAKER,
        venue_order_id=str(data["orderId"]),
        timestamp=_seconds(data["time"]),
    )


def fills_from_new_order(data: Mapping[str, Any], venue: str) -> list[Fill]:
    """The fills a ``newOrderRespType=FULL`` answer carries (the order's immediate executions).

    They are the same trades the user data stream reports (same ``tradeId``, so the same
    ``trade_id``): delivering them with the answer means an order the answer calls FILLED is never
    seen without its fills, and the stream's copies are harmless duplicates.  An arriving order
    that executes at once takes liquidity, so these fills are always taker fills.
    """
    symbol = data["symbol"]
    side = _SIDES[data["side"]]
    client_order_id = data["clientOrderId"]
    timestamp = _seconds(data.get("transactTime") or 0) or time.time()
    return [
        Fill(
            venue=venue,
            trade_id=trade_key(symbol, item["tradeId"]),
            client_order_id=client_order_id,
            symbol=symbol,
            side=side,
            quantity=dec(item["qty"]),
            price=dec(item["price"]),
            commission=dec(item.get("commission") or "0"),
            commission_asset=item.get("commissionAsset") or None,
            liquidity=Liquidity.TAKER,
            venue_order_id=str(data["orderId"]),
            timestamp=timestamp,
        )
        for item in data.get("fills") or ()
    ]


# --------------------------------------------------------------------------- user data stream


def report_client_order_id(event: Mapping[str, Any]) -> str:
    """The order's own client id in an ``executionReport``.

    For a cancellation Binance puts the *cancel request's* id in ``c`` and the order's in ``C``;
    an amendment (``REPLACED``) may give the order a new id in ``c``, with the one it had in
    ``C`` (the adapter keeps the id, so the two agree; the original is what the core knows).
    """
    original = event.get("C")
    if event.get("x") in _ORIGINAL_ID_IN_C and original:
        return str(original)
    return str(event["c"])


def update_from_report(
    event: Mapping[str, Any], venue: str, *, prior_filled: Decimal = ZERO, prior_quote: Decimal = ZERO
) -> OrderUpdate:
    executed = prior_filled + dec(event["z"])
    quote = prior_quote + dec(event["Z"])
    reason = event.get("eR")
    if event.get("r") not in (None, "NONE"):
        reason = str(event["r"])
    return OrderUpdate(
        client_order_id=report_client_order_id(event),
        status=order_status(event["X"]),
        venue=venue,
        venue_order_id=str(event["i"]),
        filled_quantity=executed,
        average_price=_average(quote, executed),
        reason=reason,
        quantity=prior_filled + dec(event["q"]),
        price=_opt_price(event.get("p")),
        stop_price=_opt_price(event.get("P")),
        timestamp=_seconds(event["E"]),
    )


def fill_from_report(event: Mapping[str, Any], venue: str) -> Fill | None:
    """The fill an ``executionReport`` of execution type TRADE carries, else ``None``."""
    if event.get("x") != "TRADE":
        return None
    commission_asset = event.get("N")
    return Fill(
        venue=venue,
        trade_id=trade_key(event["s"], event["t"]),
        client_order_id=report_client_order_id(event),
        symbol=event["s"],
        side=_SIDES[event["S"]],
        quantity=dec(event["l"]),
        price=dec(event["L"]),
        commission=dec(event.get("n") or "0"),
        commission_asset=str(commission_asset) if commission_asset else None,
        liquidity=Liquidity.MAKER if event.get("m") else Liquidity.TAKER,
        venue_order_id=str(event["i"]),
        timestamp=_seconds(event["T"]),
    )


# --------------------------------------------------------------------------- account


def balances_from_rows(
    rows: Iterable[Mapping[str, Any]], *, asset: str, free: str, locked: str
) -> list[Balance]:
    return [Balance(asset=r[asset], free=dec(r[free]), locked=dec(r[locked])) for r in rows]


def balances_from_account(data: Mapping[str, Any]) -> list[Balance]:
    """``GET /api/v3/account`` balances (every asset, zero ones too)."""
    return balances_from_rows(data.get("balances", []), asset="asset", free="free", locked="locked")


# --------------------------------------------------------------------------- live quotes


def _quote(symbol: Any, bid: Any, ask: Any, venue: str) -> Quote | None:
    bid_price, ask_price = dec(bid), dec(ask)
    if bid_price <= 0 or ask_price <= 0:  # an empty side: Binance writes it as zeros
        return None
    return Quote(symbol=str(symbol), bid=bid_price, ask=ask_price, venue=venue)


def quote_from_book_ticker(message: Any, venue: str) -> Quote | None:
    """A ``<symbol>@bookTicker`` payload (``{"u", "s", "b", "B", "a", "A"}``, bare from a raw stream
    or under ``data`` from a combined one) as a :class:`Quote`; ``None`` for anything else
    (an answer to a request, an empty side).  bookTicker has no event time: the quote's is the
    time received."""
    if not isinstance(message, Mapping):
        return None
    data = message.get("data") if "stream" in message else message
    if not isinstance(data, Mapping) or not {"s", "b", "a"} <= data.keys():
        return None
    return _quote(data["s"], data["b"], data["a"], venue)


def quote_from_book_ticker_answer(answer: Mapping[str, Any], venue: str) -> Quote | None:
    """One item of ``GET /api/v3/ticker/bookTicker`` (``symbol``, ``bidPrice``, ``askPrice``...)."""
    return _quote(answer["symbol"], answer["bidPrice"], answer["askPrice"], venue)
