"""Every Binance message the adapter reads, mapped to the core's model."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from autotrader.errors import InvalidOrder, UnsupportedOrder
from autotrader.model import Liquidity, OrderRequest, OrderSide, OrderStatus, OrderType, TimeInForce

from autotrader_binance import mapping


def report(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "e": "executionReport",
        "E": 1499405658658,
        "s": "BTCUSDT",
        "c": "at-1",
        "S": "BUY",
        "o": "LIMIT",
        "f": "GTC",
        "q": "1.00000000",
        "p": "100.00000000",
        "P": "0.00000000",
        "F": "0.00000000",
        "g": -1,
        "C": "",
        "x": "NEW",
        "X": "NEW",
        "r": "NONE",
        "i": 4293153,
        "l": "0.00000000",
        "z": "0.00000000",
        "L": "0.00000000",
        "n": "0",
        "N": None,
        "T": 1499405658657,
        "t": -1,
        "I": 8641984,
        "w": True,
        "m": False,
        "M": False,
        "O": 1499405658657,
        "Z": "0.00000000",
        "Y": "0.00000000",
        "Q": "0.00000000",
    }
    base.update(fields)
    return base


@pytest.mark.parametrize(
    ("binance", "core"),
    [
        ("NEW", OrderStatus.ACCEPTED),
        ("PARTIALLY_FILLED", OrderStatus.PARTIALLY_FILLED),
        ("FILLED", OrderStatus.FILLED),
        ("CANCELED", OrderStatus.CANCELLED),
        ("PENDING_CANCEL", OrderStatus.PENDING_CANCEL),
        ("REJECTED", OrderStatus.REJECTED),
        ("EXPIRED", OrderStatus.EXPIRED),
        ("EXPIRED_IN_MATCH", OrderStatus.EXPIRED),
        ("PENDING_NEW", OrderStatus.SUBMITTED),
        ("SOMETHING_NEW", OrderStatus.UNKNOWN),
    ],
)
def test_order_status(binance: str, core: OrderStatus) -> None:
    assert mapping.order_status(binance) is core


def test_new_report_is_an_acceptance_without_fill() -> None:
    event = report()
    update = mapping.update_from_report(event, "binance")
    assert update.status is OrderStatus.ACCEPTED
    assert update.client_order_id == "at-1"
    assert update.venue_order_id == "4293153"
    assert update.filled_quantity == 0
    assert update.quantity == D("1") and update.price == D("100")
    assert mapping.fill_from_report(event, "binance") is None


def test_trade_report_carries_the_fill() -> None:
    event = report(
        x="TRADE",
        X="PARTIALLY_FILLED",
        l="0.40000000",
        z="0.40000000",
        L="99.50000000",
        n="0.00040000",
        N="BTC",
        t=77,
        m=True,
        Z="39.80000000",
    )
    fill = mapping.fill_from_report(event, "binance")
    assert fill is not None
    assert fill.trade_id == "BTCUSDT:77"
    assert (fill.quantity, fill.price, fill.commission, fill.commission_asset) == (
        D("0.4"),
        D("99.5"),
        D("0.0004"),
        "BTC",
    )
    assert fill.liquidity is Liquidity.MAKER
    assert fill.side is OrderSide.BUY
    update = mapping.update_from_report(event, "binance")
    assert update.status is OrderStatus.PARTIALLY_FILLED
    assert update.filled_quantity == D("0.4") and update.average_price == D("99.5")


def test_cancel_report_names_the_order_by_its_original_id() -> None:
    event = report(x="CANCELED", X="CANCELED", c="cancelRequestId", C="at-1")
    assert mapping.report_client_order_id(event) == "at-1"
    assert mapping.update_from_report(event, "binance").status is OrderStatus.CANCELLED


def test_expired_report_keeps_the_expiry_reason() -> None:
    event = report(x="EXPIRED", X="EXPIRED", eR="INSUFFICIENT_LIQUIDITY")
    update = mapping.update_from_report(event, "binance")
    assert update.status is OrderStatus.EXPIRED and update.reason == "INSUFFICIENT_LIQUIDITY"


def test_rejected_report_keeps_the_reject_reason() -> None:
    event = report(x="REJECTED", X="REJECTED", r="INSUFFICIENT_BALANCES")
    assert mapping.update_from_report(event, "binance").reason == "INSUFFICIENT_BALANCES"


def test_earlier_legs_of_a_replaced_order_add_up() -> None:
    event = report(x="TRADE", X="FILLED", q="0.6", z="0.6", Z="60", l="0.6", L="100", t=2)
    update = mapping.update_from_report(event, "binance", prior_filled=D("0.4"), prior_quote=D("40"))
    assert (
        update.quantity == D("1.0")
        and update.filled_quantity == D("1.0")
        and update.average_price == D("100")
    )


def test_rest_answers() -> None:
    ack = {
        "symbol": "BTCUSDT",
        "orderId": 28,
        "orderListId": -1,
        "clientOrderId": "at-1",
        "transactTime": 1507725176595,
        "price": "0.00000000",
        "origQty": "10.00000000",
        "executedQty": "10.00000000",
        "cummulativeQuoteQty": "10.00000000",
        "status": "FILLED",
        "timeInForce": "GTC",
        "type": "MARKET",
        "side": "SELL",
    }
    update = mapping.update_from_json(ack, "binance")
    assert update.status is OrderStatus.FILLED and update.average_price == D("1") and update.price is None
    cancel = dict(ack, clientOrderId="cancelId", origClientOrderId="at-1", status="CANCELED")
    assert mapping.update_from_json(cancel, "binance").client_order_id == "at-1"
    query = dict(
        ack,
        stopPrice="0.0",
        time=1499827319559,
        updateTime=1499827319559,
        type="STOP_LOSS_LIMIT",
        price="0.1",
        status="NEW",
        executedQty="0.0",
        cummulativeQuoteQty="0.0",
    )
    order = mapping.order_from_json(query)
    assert order.order_type is OrderType.STOP_LIMIT and order.status is OrderStatus.ACCEPTED
    assert order.average_fill_price is None and order.price == D("0.1") and order.stop_price is None


def test_full_answer_fills_are_the_streams_trades() -> None:
    answer = {
        "symbol": "BTCUSDT",
        "orderId": 28,
        "orderListId": -1,
        "clientOrderId": "at-1",
        "transactTime": 1507725176595,
        "status": "FILLED",
        "side": "BUY",
        "fills": [
            {
                "price": "4000.00000000",
                "qty": "1.00000000",
                "commission": "4.00000000",
                "commissionAsset": "USDT",
                "tradeId": 56,
            },
            {
                "price": "3999.00000000",
                "qty": "5.00000000",
                "commission": "0",
                "commissionAsset": "BNB",
                "tradeId": 57,
            },
        ],
    }
    first, second = mapping.fills_from_new_order(answer, "binance")
    assert first.trade_id == mapping.fill_from_report(report(x="TRADE", t=56), "binance").trade_id  # type: ignore[union-attr]
    assert (first.client_order_id, first.venue_order_id, first.side) == ("at-1", "28", OrderSide.BUY)
    assert (first.quantity, first.price, first.commission, first.commission_asset) == (
        D("1"),
        D("4000"),
        D("4"),
        "USDT",
    )
    assert first.liquidity is Liquidity.TAKER and first.timestamp == 1507725176.595
    assert second.trade_id == "BTCUSDT:57" and second.commission == 0
    assert mapping.fills_from_new_order({**answer, "fills": []}, "binance") == []
    ack = {k: v for k, v in answer.items() if k != "fills"}  # newOrderRespType ACK / RESULT
    assert mapping.fills_from_new_order(ack, "binance") == []


def test_my_trades_item() -> None:
    trade = {
        "symbol": "BNBBTC",
        "id": 28457,
        "orderId": 100234,
        "orderListId": -1,
        "price": "4.00000100",
        "qty": "12.00000000",
        "quoteQty": "48.000012",
        "commission": "10.10000000",
        "commissionAsset": "BNB",
        "time": 1499865549590,
        "isBuyer": True,
        "isMaker": False,
        "isBestMatch": True,
    }
    fill = mapping.fill_from_trade(trade, "at-9", "binance")
    assert fill.trade_id == "BNBBTC:28457" and fill.client_order_id == "at-9"
    assert fill.side is OrderSide.BUY and fill.liquidity is Liquidity.TAKER and fill.commission == D("10.1")


def _symbol(notional_filter: dict[str, Any]) -> dict[str, Any]:
    return {
        "symbol": "ETHBTC",
        "status": "TRADING",
        "baseAsset": "ETH",
        "quoteAsset": "BTC",
        "baseAssetPrecision": 8,
        "quoteAssetPrecision": 8,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": "0.00000100",
                "maxPrice": "100000.00000000",
                "tickSize": "0.00000100",
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": "0.00100000",
                "maxQty": "100000.00000000",
                "stepSize": "0.00100000",
            },
            notional_filter,
        ],
    }


def test_instrument_from_notional_filter() -> None:
    instrument = mapping.instrument_from_symbol(
        _symbol(
            {
                "filterType": "NOTIONAL",
                "minNotional": "10.00000000",
                "applyMinToMarket": False,
                "maxNotional": "10000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            }
        )
    )
    assert instrument.tick_size == D("0.000001") and instrument.lot_size == D("0.001")
    assert instrument.min_quantity == D("0.001") and instrument.max_quantity == D("100000")
    assert instrument.min_notional == D("10") and instrument.min_price == D("0.000001")


def test_instrument_from_legacy_min_notional() -> None:
    instrument = mapping.instrument_from_symbol(
        _symbol(
            {
                "filterType": "MIN_NOTIONAL",
                "minNotional": "0.00100000",
                "applyToMarket": True,
                "avgPriceMins": 5,
            }
        )
    )
    assert instrument.min_notional == D("0.001")


def _request(order_type: OrderType, side: OrderSide, **fields: Any) -> OrderRequest:
    return OrderRequest("at-1", "BTCUSDT", side, order_type, D("1"), **fields)


@pytest.mark.parametrize(
    ("order_type", "side", "stop", "last", "expected"),
    [
        (OrderType.STOP, OrderSide.BUY, "110", "100", "STOP_LOSS"),
        (OrderType.STOP, OrderSide.SELL, "90", "100", "STOP_LOSS"),
        (OrderType.STOP, OrderSide.BUY, "90", "100", "TAKE_PROFIT"),
        (OrderType.STOP, OrderSide.SELL, "110", "100", "TAKE_PROFIT"),
        (OrderType.STOP_LIMIT, OrderSide.BUY, "110", "100", "STOP_LOSS_LIMIT"),
        (OrderType.STOP_LIMIT, OrderSide.SELL, "110", "100", "TAKE_PROFIT_LIMIT"),
    ],
)
def test_stop_kind_follows_where_the_stop_lies(
    order_type: OrderType, side: OrderSide, stop: str, last: str, expected: str
) -> None:
    price = {"price": D(stop)} if order_type is OrderType.STOP_LIMIT else {}
    request = _request(order_type, side, stop_price=D(stop), **price)
    assert mapping.binance_order_type(request, D(last)) == expected


def test_params_of_each_type() -> None:
    market = mapping.new_order_params(_request(OrderType.MARKET, OrderSide.BUY), "MARKET")
    assert "timeInForce" not in market and "price" not in market and market["newClientOrderId"] == "at-1"
    limit = _request(OrderType.LIMIT, OrderSide.SELL, price=D("100.5"), time_in_force=TimeInForce.IOC)
    assert mapping.new_order_params(limit, "LIMIT") | {} == {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT",
        "quantity": "1",
        "price": "100.5",
        "timeInForce": "IOC",
        "newClientOrderId": "at-1",
        "newOrderRespType": "FULL",
    }
    stop = mapping.new_order_params(_request(OrderType.STOP, OrderSide.SELL, stop_price=D("90")), "STOP_LOSS")
    assert stop["stopPrice"] == "90" and "timeInForce" not in stop


def test_quantities_are_written_without_exponent() -> None:
    request = OrderRequest("at-1", "BTCUSDT", OrderSide.BUY, OrderType.MARKET, D("1E+1"))
    assert mapping.new_order_params(request, "MARKET")["quantity"] == "10"


@pytest.mark.parametrize(
    "request_",
    [
        _request(OrderType.LIMIT, OrderSide.BUY, price=D("1"), time_in_force=TimeInForce.DAY),
        _request(OrderType.MARKET, OrderSide.BUY, time_in_force=TimeInForce.FOK),
        _request(OrderType.STOP, OrderSide.BUY, stop_price=D("1"), time_in_force=TimeInForce.IOC),
    ],
)
def test_what_spot_cannot_express_is_refused(request_: OrderRequest) -> None:
    with pytest.raises(UnsupportedOrder):
        mapping.new_order_params(request_, "MARKET")


def test_client_order_id_outside_binance_rules_is_refused() -> None:
    request = OrderRequest("has space", "BTCUSDT", OrderSide.BUY, OrderType.MARKET, D("1"))
    with pytest.raises(InvalidOrder):
        mapping.new_order_params(request, "MARKET")


def test_account_balances() -> None:
    balances = mapping.balances_from_account(
        {"balances": [{"asset": "BTC", "free": "4723846.89208129", "locked": "0.00000000"}]}
    )
    assert balances[0].asset == "BTC" and balances[0].total == D("4723846.89208129")


def test_amend_answer() -> None:
    answer = {
        "transactTime": 1741926410255,
        "executionId": 75,
        "amendedOrder": {
            "symbol": "BTCUSDT",
            "orderId": 33,
            "orderListId": -1,
            "origClientOrderId": "at-1",
            "clientOrderId": "at-1",
            "price": "6.00000000",
            "qty": "5.00000000",
            "executedQty": "1.00000000",
            "preventedQty": "0.00000000",
            "quoteOrderQty": "0.00000000",
            "cumulativeQuoteQty": "6.00000000",
            "status": "PARTIALLY_FILLED",
            "timeInForce": "GTC",
            "type": "LIMIT",
            "side": "SELL",
            "workingTime": 1741926410242,
            "selfTradePreventionMode": "NONE",
        },
    }
    update = mapping.update_from_amend(answer, "binance")
    assert (update.client_order_id, update.venue_order_id, update.status) == (
        "at-1",
        "33",
        OrderStatus.PARTIALLY_FILLED,
    )
    assert (update.quantity, update.filled_quantity, update.average_price, update.price) == (
        D("5"),
        D("1"),
        D("6"),
        D("6"),
    )
    later_leg = mapping.update_from_amend(answer, "binance", prior_filled=D("2"), prior_quote=D("10"))
    assert (later_leg.quantity, later_leg.filled_quantity) == (D("7"), D("3"))


def test_replaced_report_is_an_amendment_of_the_same_order() -> None:
    event = report(x="REPLACED", X="NEW", q="0.50000000", c="at-1", C="at-1")
    update = mapping.update_from_report(event, "binance")
    assert (update.client_order_id, update.status, update.quantity) == (
        "at-1",
        OrderStatus.ACCEPTED,
        D("0.5"),
    )
    assert mapping.fill_from_report(event, "binance") is None
    renamed = report(x="REPLACED", X="NEW", c="random-new-id", C="at-1")  # an amend that changed the id
    assert mapping.report_client_order_id(renamed) == "at-1"


def test_self_trade_prevention_expiry() -> None:
    event = report(x="TRADE_PREVENTION", X="EXPIRED_IN_MATCH", eR="NONE")
    update = mapping.update_from_report(event, "binance")
    assert update.status is OrderStatus.EXPIRED and mapping.fill_from_report(event, "binance") is None


def test_trade_report_with_a_json_number_is_read_exactly() -> None:
    """Binance sends strings; a number that slipped through is read through ``str``, never as float math."""
    fill = mapping.fill_from_report(report(x="TRADE", X="FILLED", l=0.1, L="3.3", t=1, n=0), "binance")
    assert fill is not None and fill.quantity == D("0.1") and fill.commission == 0


@pytest.mark.parametrize("side", [OrderSide.BUY, OrderSide.SELL])
def test_reduce_only_goes_out_as_a_plain_order(side: OrderSide) -> None:
    request = OrderRequest("at-1", "BTCUSDT", side, OrderType.MARKET, D("1"), reduce_only=True)
    params = mapping.new_order_params(request, "MARKET")
    assert params["side"] == side.value and "reduceOnly" not in params


BOOK_TICKER = {
    "u": 400900217,
    "s": "BNBUSDT",
    "b": "25.35190000",
    "B": "31.21000000",
    "a": "25.36520000",
    "A": "40.66000000",
}


def test_book_ticker_payload_raw_and_combined() -> None:
    raw = mapping.quote_from_book_ticker(BOOK_TICKER, "binance")
    combined = mapping.quote_from_book_ticker(
        {"stream": "bnbusdt@bookTicker", "data": BOOK_TICKER}, "binance"
    )
    assert raw is not None and combined is not None
    for quote in (raw, combined):
        assert (quote.symbol, quote.bid, quote.ask, quote.venue) == (
            "BNBUSDT",
            D("25.35190000"),
            D("25.36520000"),
            "binance",
        )
        assert type(quote.bid) is D and quote.spread == D("0.0133")


def test_what_is_not_a_book_ticker_is_no_quote() -> None:
    assert mapping.quote_from_book_ticker({"result": None, "id": 1}, "binance") is None
    assert (
        mapping.quote_from_book_ticker({"stream": "bnbusdt@trade", "data": {"e": "trade"}}, "binance") is None
    )
    assert mapping.quote_from_book_ticker([BOOK_TICKER], "binance") is None
    empty_bids = dict(BOOK_TICKER, b="0.00000000", B="0.00000000")  # Binance writes an empty side as zeros
    assert mapping.quote_from_book_ticker(empty_bids, "binance") is None


def test_book_ticker_answer() -> None:
    answer = {
        "symbol": "LTCBTC",
        "bidPrice": "4.00000000",
        "bidQty": "431.00000000",
        "askPrice": "4.00000200",
        "askQty": "9.00000000",
    }
    quote = mapping.quote_from_book_ticker_answer(answer, "binance")
    assert quote is not None and (quote.symbol, quote.bid, quote.ask) == ("LTCBTC", D("4"), D("4.000002"))
    assert mapping.quote_from_book_ticker_answer(dict(answer, askPrice="0.00000000"), "binance") is None
    number = mapping.quote_from_book_ticker({**BOOK_TICKER, "b": 25.3519}, "binance")  # a stray JSON number
    assert number is not None and number.bid == D("25.3519")
