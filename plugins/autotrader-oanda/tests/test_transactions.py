"""Every v20 transaction type the venue makes, and the events it means for the core."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from autotrader.model import Fill, Liquidity, OrderSide, OrderStatus, OrderUpdate
from oandapyV20.endpoints.responses.orders import responses as order_responses

from autotrader_oanda.transactions import TransactionTranslator
from autotrader_oanda.venue import Exchange


def order(units: str, kind: str = "MARKET", cid: str = "c1", **extra: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": kind,
        "instrument": "EUR_USD",
        "units": units,
        "clientExtensions": {"id": cid},
    }
    return {"order": body | extra}


@pytest.fixture
def exchange() -> Exchange:
    return Exchange(commission_rate=Decimal("0.0001"))


def test_market_fill_opens_a_trade(exchange: Exchange) -> None:
    status, body = exchange.create_order(order("1000"))
    assert status == 201
    create, fill = body["orderCreateTransaction"], body["orderFillTransaction"]
    assert create["type"] == "MARKET_ORDER" and create["reason"] == "CLIENT_ORDER"
    assert fill["type"] == "ORDER_FILL" and fill["orderID"] == create["id"] and fill["clientOrderID"] == "c1"
    assert fill["tradeOpened"]["tradeID"] == fill["id"] and fill["tradeOpened"]["units"] == "1000"
    assert body["relatedTransactionIDs"] == [create["id"], fill["id"]]
    translator = TransactionTranslator("USD")
    (accepted,) = translator.events(create)
    assert isinstance(accepted, OrderUpdate) and accepted.status is OrderStatus.ACCEPTED
    assert accepted.venue_order_id == create["id"]
    (event,) = translator.events(fill)
    assert isinstance(event, Fill)
    assert (event.trade_id, event.client_order_id, event.side) == (fill["id"], "c1", OrderSide.BUY)
    assert event.quantity == Decimal(1000) and event.price == Decimal("1.10001")
    assert event.commission == Decimal("0.1100") and event.commission_asset == "USD"
    assert event.liquidity is Liquidity.TAKER and event.venue == "oanda"
    assert translator.events(fill) == [], "a fill is passed on once"


def test_closing_and_reducing_fills(exchange: Exchange) -> None:
    exchange.create_order(order("1000", cid="open"))
    _, reduce = exchange.create_order(order("-400", cid="reduce"))
    reduced = reduce["orderFillTransaction"]
    assert reduced["tradeReduced"]["units"] == "-400" and "tradeOpened" not in reduced
    assert Decimal(reduced["pl"]) == Decimal(reduced["tradeReduced"]["realizedPL"])
    _, flip = exchange.create_order(order("-1000", cid="flip"))
    flipped = flip["orderFillTransaction"]
    assert flipped["tradesClosed"][0]["units"] == "-600" and flipped["tradeOpened"]["units"] == "-400"
    (event,) = TransactionTranslator().events(flipped)
    assert isinstance(event, Fill) and event.side is OrderSide.SELL and event.quantity == Decimal(1000)


def test_limit_rests_then_fills_on_the_cross(exchange: Exchange) -> None:
    status, body = exchange.create_order(order("1000", "LIMIT", price="1.09990"))
    assert status == 201 and set(body) == {
        "orderCreateTransaction",
        "relatedTransactionIDs",
        "lastTransactionID",
    }
    assert body["orderCreateTransaction"]["type"] == "LIMIT_ORDER"
    exchange.set_price("EUR_USD", Decimal("1.09980"))
    fill = exchange.transactions[-1]
    assert fill["type"] == "ORDER_FILL" and fill["reason"] == "LIMIT_ORDER" and fill["price"] == "1.09981"
    assert Decimal(fill["halfSpreadCost"]) == Decimal("0.0100")


def test_stop_order_create_transaction(exchange: Exchange) -> None:
    _, body = exchange.create_order(order("-5", "STOP", price="1.09000", priceBound="1.08990"))
    create = body["orderCreateTransaction"]
    assert create["type"] == "STOP_ORDER" and create["priceBound"] == "1.08990"
    (event,) = TransactionTranslator().events(create)
    assert isinstance(event, OrderUpdate) and event.status is OrderStatus.ACCEPTED


def test_client_cancel_and_the_replace_pair(exchange: Exchange) -> None:
    _, created = exchange.create_order(order("1000", "LIMIT", cid="r1", price="1.00000"))
    status, replaced = exchange.replace_order("@r1", order("2000", "LIMIT", cid="r1", price="1.00100"))
    assert status == 201
    cancel, create = replaced["orderCancelTransaction"], replaced["orderCreateTransaction"]
    assert cancel["reason"] == "CLIENT_REQUEST_REPLACED" and cancel["replacedByOrderID"] == create["id"]
    assert (
        create["reason"] == "REPLACEMENT"
        and create["replacesOrderID"] == created["orderCreateTransaction"]["id"]
    )
    assert create["clientExtensions"] == {"id": "r1"} and cancel["batchID"] == create["batchID"]
    translator = TransactionTranslator()
    assert translator.events(cancel) == [] and translator.events(create) == []
    status, cancelled = exchange.cancel_order("@r1")
    assert status == 200
    (event,) = translator.events(cancelled["orderCancelTransaction"])
    assert isinstance(event, OrderUpdate) and event.status is OrderStatus.CANCELLED and event.reason is None


def test_the_librarys_own_replace_and_cancel_examples() -> None:
    translator = TransactionTranslator()
    replace = order_responses["_v3_accounts_accountID_order_replace"]["response"]
    assert translator.events(replace["orderCancelTransaction"]) == []
    assert translator.events(replace["orderCreateTransaction"]) == []
    cancel = order_responses["_v3_accounts_accountID_order_cancel"]["response"]["orderCancelTransaction"]
    (event,) = translator.events(cancel)
    assert isinstance(event, OrderUpdate) and event.client_order_id == "myID"
    assert event.status is OrderStatus.CANCELLED and event.venue_order_id == "2307"


@pytest.mark.parametrize(
    ("setup", "reason", "status"),
    [
        ("fok_thin", "INSUFFICIENT_LIQUIDITY", OrderStatus.EXPIRED),
        ("halted", "MARKET_HALTED", OrderStatus.REJECTED),
        ("bound", "BOUNDS_VIOLATION", OrderStatus.EXPIRED),
        ("margin", "INSUFFICIENT_MARGIN", OrderStatus.REJECTED),
    ],
)
def test_venue_cancels(exchange: Exchange, setup: str, reason: str, status: OrderStatus) -> None:
    units, extra = "1000", {}
    if setup == "fok_thin":
        exchange.set_liquidity("EUR_USD", Decimal(10))
        extra = {"timeInForce": "FOK"}
    elif setup == "halted":
        exchange.halted.add("EUR_USD")
    elif setup == "bound":
        extra = {"priceBound": "1.09000"}
    else:
        units = "99000000"
    code, body = exchange.create_order(order(units, **extra))
    assert code == 201 and "orderFillTransaction" not in body
    cancel = body["orderCancelTransaction"]
    assert cancel["type"] == "ORDER_CANCEL" and cancel["reason"] == reason
    (event,) = TransactionTranslator().events(cancel)
    assert isinstance(event, OrderUpdate) and event.status is status and event.reason == reason


def test_ioc_partial_fill_then_expiry(exchange: Exchange) -> None:
    exchange.set_liquidity("EUR_USD", Decimal(300))
    _, body = exchange.create_order(order("1000", timeInForce="IOC"))
    assert body["orderFillTransaction"]["units"] == "300"
    translator = TransactionTranslator()
    translator.events(body["orderFillTransaction"])
    (event,) = translator.events(body["orderCancelTransaction"])
    assert isinstance(event, OrderUpdate) and event.status is OrderStatus.EXPIRED


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (order("1000", instrument="XXX_YYY"), "INSTRUMENT_UNKNOWN"),
        (order("1.5"), "UNITS_PRECISION_EXCEEDED"),
        (order("0"), "UNITS_INVALID"),
        (order("1000", "LIMIT", price="1.100001"), "PRICE_PRECISION_EXCEEDED"),
        (order("1000", "LIMIT"), "PRICE_MISSING"),
        (order("1000", timeInForce="GTC"), "TIME_IN_FORCE_INVALID"),
        ({"nope": 1}, "ORDER_TYPE_MISSING"),
    ],
)
def test_rejects(exchange: Exchange, body: dict[str, Any], reason: str) -> None:
    code, reply = exchange.create_order(body)
    assert code == 400 and reply["errorCode"] == reason
    reject = reply["orderRejectTransaction"]
    assert reject["type"].endswith("_ORDER_REJECT") and reject["rejectReason"] == reason
    events = TransactionTranslator().events(reject)
    if reject.get("clientExtensions"):
        assert isinstance(events[0], OrderUpdate) and events[0].status is OrderStatus.REJECTED


def test_duplicate_client_id_only_while_pending(exchange: Exchange) -> None:
    exchange.create_order(order("1000", "LIMIT", cid="dup", price="1.00000"))
    code, reply = exchange.create_order(order("1000", "LIMIT", cid="dup", price="1.00000"))
    assert code == 400 and reply["errorCode"] == "CLIENT_ORDER_ID_ALREADY_EXISTS"
    assert TransactionTranslator().events(reply["orderRejectTransaction"]) == [], "the live order stays live"
    exchange.create_order(order("10", cid="once"))
    code, _ = exchange.create_order(order("10", cid="once"))
    assert code == 201, "after a fill the id is free again: a blind resend trades twice"


def test_cancel_reject_and_other_transactions_mean_nothing(exchange: Exchange) -> None:
    code, reply = exchange.cancel_order("@ghost")
    assert code == 404 and reply["errorCode"] == "ORDER_DOESNT_EXIST"
    reject = reply["orderCancelRejectTransaction"]
    assert reject["type"] == "ORDER_CANCEL_REJECT" and reject["rejectReason"] == "ORDER_DOESNT_EXIST"
    translator = TransactionTranslator()
    assert translator.events(reject) == []
    assert [t["type"] for t in exchange.transactions[:2]] == ["CREATE", "TRANSFER_FUNDS"]
    assert all(translator.events(t) == [] for t in exchange.transactions[:2])
    assert translator.events({"type": "HEARTBEAT", "lastTransactionID": "3"}) == []


def test_fill_without_client_id_is_not_ours(exchange: Exchange) -> None:
    _, body = exchange.create_order({"order": {"type": "MARKET", "instrument": "EUR_USD", "units": "5"}})
    assert TransactionTranslator().events(body["orderFillTransaction"]) == []


def test_transaction_ids_have_no_holes(exchange: Exchange) -> None:
    exchange.create_order(order("1000"))
    exchange.create_order(order("1000", "LIMIT", cid="x", price="1"))
    exchange.cancel_order("@x")
    assert [int(t["id"]) for t in exchange.transactions] == list(range(1, exchange.last_id + 1))
