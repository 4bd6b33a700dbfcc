"""Binance's JSON shapes, field for field, built from the engine's orders and trades.

Kept apart from the engine so that the shapes can be read next to Binance's documentation
(``rest-api.md``, ``user-data-stream.md``) and tested on their own.  Decimals are written the way
Binance writes them: strings with eight decimals.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autotrader_binance.venue.book import BookTop
    from autotrader_binance.venue.exchange import SymbolSpec, VenueOrder, VenueTrade

__all__ = [
    "account_position",
    "amend_response",
    "book_ticker",
    "book_ticker_event",
    "cancel_response",
    "exchange_info",
    "execution_report",
    "fmt",
    "new_order_response",
    "order_json",
    "trade_json",
]

_ORDER_TYPES = [
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
]


def fmt(value: Decimal) -> str:
    """``Decimal("0.1")`` -> ``"0.10000000"`` (Binance's eight-decimal strings)."""
    return f"{value:.8f}"


def _conditional(order: VenueOrder, body: dict[str, Any]) -> dict[str, Any]:
    """The fields Binance adds only when they apply (stop orders, expired orders)."""
    if order.stop_price:
        body["stopPrice"] = fmt(order.stop_price)
    if order.expiry_reason and order.status == "EXPIRED":
        body["expiryReason"] = order.expiry_reason
    return body


def _base_fields(order: VenueOrder) -> dict[str, Any]:
    return {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
    }


def _state_fields(order: VenueOrder) -> dict[str, Any]:
    return {
        "price": fmt(order.price),
        "origQty": fmt(order.orig_qty),
        "executedQty": fmt(order.executed_qty),
        "origQuoteOrderQty": fmt(Decimal(0)),
        "cummulativeQuoteQty": fmt(order.cum_quote),
        "status": order.status,
        "timeInForce": order.time_in_force or "GTC",
        "type": order.type,
        "side": order.side,
    }


def order_json(order: VenueOrder) -> dict[str, Any]:
    """``GET /api/v3/order`` and each item of ``GET /api/v3/openOrders``."""
    body = _base_fields(order)
    body.update(_state_fields(order))
    body["stopPrice"] = fmt(order.stop_price)
    body["icebergQty"] = fmt(Decimal(0))
    body["time"] = order.time
    body["updateTime"] = order.update_time
    body["isWorking"] = order.working
    body["workingTime"] = order.working_time
    body["selfTradePreventionMode"] = "NONE"
    if order.status == "EXPIRED" and order.expiry_reason:
        body["expiryReason"] = order.expiry_reason
    return body


def new_order_response(
    order: VenueOrder, trades: Iterable[VenueTrade], response_type: str, transact_time: int
) -> dict[str, Any]:
    """``POST /api/v3/order`` in its ACK, RESULT or FULL form."""
    body = _base_fields(order)
    body["transactTime"] = transact_time
    if response_type == "ACK":
        return body
    body.update(_state_fields(order))
    body["workingTime"] = order.working_time
    body["selfTradePreventionMode"] = "NONE"
    _conditional(order, body)
    if response_type == "FULL":
        body["fills"] = [
            {
                "price": fmt(t.price),
                "qty": fmt(t.qty),
                "commission": fmt(t.commission),
                "commissionAsset": t.commission_asset,
                "tradeId": t.trade_id,
            }
            for t in trades
        ]
    return body


def cancel_response(order: VenueOrder, cancel_client_id: str, transact_time: int) -> dict[str, Any]:
    """``DELETE /api/v3/order``: ``clientOrderId`` names the cancel, ``origClientOrderId`` the order."""
    body: dict[str, Any] = {
        "symbol": order.symbol,
        "origClientOrderId": order.client_order_id,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": cancel_client_id,
        "transactTime": transact_time,
    }
    body.update(_state_fields(order))
    body["selfTradePreventionMode"] = "NONE"
    return _conditional(order, body)


def amend_response(order: VenueOrder, orig_client_id: str, transact_time: int) -> dict[str, Any]:
    """``PUT /api/v3/order/amend/keepPriority``: the order as amended, under ``amendedOrder``."""
    return {
        "transactTime": transact_time,
        "executionId": transact_time,
        "amendedOrder": {
            "symbol": order.symbol,
            "orderId": order.order_id,
            "orderListId": -1,
            "origClientOrderId": orig_client_id,
            "clientOrderId": order.client_order_id,
            "price": fmt(order.price),
            "qty": fmt(order.orig_qty),
            "executedQty": fmt(order.executed_qty),
            "preventedQty": fmt(Decimal(0)),
            "quoteOrderQty": fmt(Decimal(0)),
            "cumulativeQuoteQty": fmt(order.cum_quote),
            "status": order.status,
            "timeInForce": order.time_in_force or "GTC",
            "type": order.type,
            "side": order.side,
            "workingTime": order.working_time,
            "selfTradePreventionMode": "NONE",
        },
    }


def trade_json(trade: VenueTrade) -> dict[str, Any]:
    """One item of ``GET /api/v3/myTrades``."""
    return {
        "symbol": trade.symbol,
        "id": trade.trade_id,
        "orderId": trade.order_id,
        "orderListId": -1,
        "price": fmt(trade.price),
        "qty": fmt(trade.qty),
        "quoteQty": fmt(trade.quote_qty),
        "commission": fmt(trade.commission),
        "commissionAsset": trade.commission_asset,
        "time": trade.time,
        "isBuyer": trade.side == "BUY",
        "isMaker": trade.is_maker,
        "isBestMatch": True,
    }


def execution_report(
    order: VenueOrder,
    execution_type: str,
    *,
    event_time: int,
    trade: VenueTrade | None = None,
    cancel_client_id: str | None = None,
) -> dict[str, Any]:
    """The ``executionReport`` user-data event (the inner ``event`` object)."""
    canceled = execution_type in ("CANCELED", "REPLACED") and cancel_client_id is not None
    event: dict[str, Any] = {
        "e": "executionReport",
        "E": event_time,
        "s": order.symbol,
        "c": cancel_client_id if canceled else order.client_order_id,
        "S": order.side,
        "o": order.type,
        "f": order.time_in_force or "GTC",
        "q": fmt(order.orig_qty),
        "p": fmt(order.price),
        "P": fmt(order.stop_price),
        "F": fmt(Decimal(0)),
        "g": -1,
        "C": order.client_order_id if canceled else "",
        "x": execution_type,
        "X": order.status,
        "r": "NONE",
        "i": order.order_id,
        "l": fmt(trade.qty if trade else Decimal(0)),
        "z": fmt(order.executed_qty),
        "L": fmt(trade.price if trade else Decimal(0)),
        "n": fmt(trade.commission) if trade else "0",
        "N": trade.commission_asset if trade else None,
        "T": trade.time if trade else event_time,
        "t": trade.trade_id if trade else -1,
        "I": event_time,
        "w": order.working and order.status in ("NEW", "PARTIALLY_FILLED"),
        "m": trade.is_maker if trade else False,
        "M": False,
        "O": order.time,
        "Z": fmt(order.cum_quote),
        "Y": fmt(trade.quote_qty if trade else Decimal(0)),
        "Q": fmt(Decimal(0)),
        "V": "NONE",
    }
    if order.working_time > 0:
        event["W"] = order.working_time
    if execution_type == "EXPIRED" and order.expiry_reason:
        event["eR"] = order.expiry_reason
    return event


def account_position(rows: Iterable[tuple[str, Decimal, Decimal]], *, event_time: int) -> dict[str, Any]:
    """The ``outboundAccountPosition`` user-data event."""
    return {
        "e": "outboundAccountPosition",
        "E": event_time,
        "u": event_time,
        "B": [{"a": asset, "f": fmt(free), "l": fmt(locked)} for asset, free, locked in rows],
    }


def symbol_json(spec: SymbolSpec) -> dict[str, Any]:
    return {
        "symbol": spec.symbol,
        "status": "TRADING",
        "baseAsset": spec.base,
        "baseAssetPrecision": 8,
        "quoteAsset": spec.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": list(_ORDER_TYPES),
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "opoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": True,
        "amendAllowed": spec.amend_allowed,
        "pegInstructionsAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fmt(spec.min_price),
                "maxPrice": fmt(spec.max_price),
                "tickSize": fmt(spec.tick),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt(spec.min_qty),
                "maxQty": fmt(spec.max_qty),
                "stepSize": fmt(spec.step),
            },
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": fmt(Decimal(0)),
                "maxQty": fmt(spec.market_max_qty),
                "stepSize": fmt(Decimal(0)),
            },
            _notional_filter(spec),
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": spec.max_num_orders},
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def _notional_filter(spec: SymbolSpec) -> dict[str, Any]:
    if spec.legacy_min_notional:
        return {
            "filterType": "MIN_NOTIONAL",
            "minNotional": fmt(spec.min_notional),
            "applyToMarket": True,
            "avgPriceMins": 5,
        }
    return {
        "filterType": "NOTIONAL",
        "minNotional": fmt(spec.min_notional),
        "applyMinToMarket": True,
        "maxNotional": fmt(spec.max_notional),
        "applyMaxToMarket": False,
        "avgPriceMins": 5,
    }


def exchange_info(
    specs: Iterable[SymbolSpec], rate_limits: list[dict[str, Any]], server_time: int
) -> dict[str, Any]:
    return {
        "timezone": "UTC",
        "serverTime": server_time,
        "rateLimits": rate_limits,
        "exchangeFilters": [],
        "symbols": [symbol_json(s) for s in specs],
    }


def book_ticker(top: BookTop) -> dict[str, Any]:
    """One item of ``GET /api/v3/ticker/bookTicker`` (spot publishes no update id here)."""
    return {
        "symbol": top.symbol,
        "bidPrice": fmt(top.bid),
        "bidQty": fmt(top.bid_qty),
        "askPrice": fmt(top.ask),
        "askQty": fmt(top.ask_qty),
    }


def book_ticker_event(top: BookTop) -> dict[str, Any]:
    """The ``<symbol>@bookTicker`` stream payload (no event type, no event time: Binance sends none)."""
    return {
        "u": top.update_id,
        "s": top.symbol,
        "b": fmt(top.bid),
        "B": fmt(top.bid_qty),
        "a": fmt(top.ask),
        "A": fmt(top.ask_qty),
    }
