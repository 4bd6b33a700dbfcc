"""Every message the local TWS writes, decoded by the IB client library's own decoder.

The decoder is the specification of what a client reads: each message here must come out as
the wrapper call the client expects, with the values the TWS meant (and no decoder error log,
which the autouse guard in conftest turns into a failure).
"""

from __future__ import annotations

import datetime
import importlib
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from autotrader_ibkr.compat import LIBRARY
from autotrader_ibkr.tws import messages as m
from autotrader_ibkr.tws.exchange import default_contracts
from autotrader_ibkr.tws.marketdata import NO_QUOTE, Subscription, TopOfBook
from autotrader_ibkr.tws.model import Execution, Position, VenueOrder
from autotrader_ibkr.tws.wire import SERVER_VERSION, Out, decode_payload, encode_message

Decoder = importlib.import_module(f"{LIBRARY}.decoder").Decoder


class Recorder:
    """A wrapper that records the calls the decoder makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.ib = SimpleNamespace(TimezoneTWS=None)
        self.defaultTimezone = datetime.UTC

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name, args))


def decode(message: m.Message) -> tuple[str, tuple[Any, ...]]:
    recorder = Recorder()
    payload = encode_message(message)[4:]
    Decoder(recorder, SERVER_VERSION).interpret(decode_payload(payload))
    assert len(recorder.calls) == 1, recorder.calls
    return recorder.calls[0]


STOCK, FX, FUTURE = default_contracts()


def order(**changes: Any) -> VenueOrder:
    values: dict[str, Any] = {
        "order_id": 7,
        "client_id": 3,
        "perm_id": 1900000042,
        "contract": STOCK,
        "action": "BUY",
        "total_quantity": Decimal(10),
        "order_type": "LMT",
        "lmt_price": Decimal("99.95"),
        "aux_price": None,
        "tif": "GTC",
        "order_ref": "at1234567890-1",
    }
    values.update(changes)
    return VenueOrder(**values)


def execution(o: VenueOrder) -> Execution:
    return Execution(
        exec_id="0000e0d5.7137a02a.01.01",
        order=o,
        time="20240102 15:04:05 UTC",
        shares=Decimal(4),
        price=Decimal("99.9"),
        cum_qty=Decimal(4),
        avg_price=Decimal("99.9"),
        commission=Decimal("1.25"),
        liquidity=1,
        realized_pnl=Decimal("3.5"),
    )


def _samples() -> dict[Out, tuple[m.Message, str]]:
    o = order()
    e = execution(o)
    p = Position(STOCK, quantity=Decimal(10), average_cost=Decimal("99.5"))
    return {
        Out.ORDER_STATUS: (m.order_status(o), "orderStatus"),
        Out.ERR_MSG: (m.error(-1, 2104, "ok"), "error"),
        Out.OPEN_ORDER: (m.open_order(o), "openOrder"),
        Out.ACCT_VALUE: (m.account_value("NetLiquidation", "1", "USD"), "updateAccountValue"),
        Out.PORTFOLIO_VALUE: (m.portfolio_value(p, Decimal(100)), "updatePortfolio"),
        Out.ACCT_UPDATE_TIME: (m.account_update_time("15:04"), "updateAccountTime"),
        Out.NEXT_VALID_ID: (m.next_valid_id(1), "nextValidId"),
        Out.CONTRACT_DATA: (m.contract_details(1, STOCK), "contractDetails"),
        Out.EXECUTION_DATA: (m.execution_data(3, e), "execDetails"),
        Out.MANAGED_ACCTS: (m.managed_accounts(["DU1"]), "managedAccounts"),
        Out.CURRENT_TIME: (m.current_time(1), "currentTime"),
        Out.CONTRACT_DATA_END: (m.contract_details_end(1), "contractDetailsEnd"),
        Out.OPEN_ORDER_END: (m.open_order_end(), "openOrderEnd"),
        Out.ACCT_DOWNLOAD_END: (m.account_download_end(), "accountDownloadEnd"),
        Out.EXECUTION_DATA_END: (m.execution_data_end(3), "execDetailsEnd"),
        Out.COMMISSION_REPORT: (m.commission_report(e), "commissionReport"),
        Out.POSITION_DATA: (m.position(p), "position"),
        Out.POSITION_END: (m.position_end(), "positionEnd"),
        Out.ACCOUNT_SUMMARY: (m.account_summary(1, "AvailableFunds", "1", "USD"), "accountSummary"),
        Out.ACCOUNT_SUMMARY_END: (m.account_summary_end(1), "accountSummaryEnd"),
        Out.ACCOUNT_UPDATE_MULTI: (
            m.account_update_multi(1, "CashBalance", "1", "USD"),
            "accountUpdateMulti",
        ),
        Out.ACCOUNT_UPDATE_MULTI_END: (m.account_update_multi_end(1), "accountUpdateMultiEnd"),
        Out.COMPLETED_ORDER: (m.completed_order(order(status="Filled")), "completedOrder"),
        Out.COMPLETED_ORDERS_END: (m.completed_orders_end(), "completedOrdersEnd"),
        Out.TICK_PRICE: (m.tick_price(4, 1, Decimal("99.99"), Decimal(100), 1), "priceSizeTick"),
        Out.TICK_SIZE: (m.tick_size(4, 0, Decimal(100)), "tickSize"),
        Out.TICK_SNAPSHOT_END: (m.tick_snapshot_end(4), "tickSnapshotEnd"),
        Out.MARKET_DATA_TYPE: (m.market_data_type(4, 1), "marketDataType"),
        Out.TICK_REQ_PARAMS: (m.tick_req_params(4, Decimal("0.01"), "", 3), "tickReqParams"),
    }


def test_every_message_the_tws_writes_is_covered() -> None:
    assert set(_samples()) == set(Out)


@pytest.mark.parametrize("msg_id", list(Out), ids=[o.name for o in Out])
def test_each_message_decodes_to_its_wrapper_call(msg_id: Out) -> None:
    message, wrapper_call = _samples()[msg_id]
    assert message[0] == msg_id
    assert decode(message)[0] == wrapper_call


def test_session_messages() -> None:
    assert decode(m.next_valid_id(42)) == ("nextValidId", (42,))
    assert decode(m.managed_accounts(["DU1", "DU2"])) == ("managedAccounts", ("DU1,DU2",))
    assert decode(m.current_time(1700000000)) == ("currentTime", (1700000000,))
    assert decode(m.error(7, 201, "Order rejected - reason:no")) == (
        "error",
        (7, 201, "Order rejected - reason:no", ""),
    )


def test_order_status() -> None:
    o = order(
        status="Submitted", filled=Decimal(4), avg_fill_price=Decimal("99.9"), last_fill_price=Decimal("99.9")
    )
    name, args = decode(m.order_status(o))
    assert name == "orderStatus"
    assert args == (7, "Submitted", 4.0, 6.0, 99.9, 1900000042, 0, 99.9, 3, "", 0.0)


@pytest.mark.parametrize(
    ("order_type", "lmt", "aux"),
    [
        ("LMT", Decimal("99.95"), None),
        ("MKT", None, None),
        ("STP", None, Decimal("101")),
        ("STP LMT", Decimal("102"), Decimal("101")),
    ],
)
def test_open_order(order_type: str, lmt: Decimal | None, aux: Decimal | None) -> None:
    o = order(order_type=order_type, lmt_price=lmt, aux_price=aux)
    name, (order_id, contract, ib_order, state) = decode(m.open_order(o))
    assert name == "openOrder" and order_id == 7
    assert (contract.conId, contract.symbol, contract.secType, contract.currency) == (
        265598,
        "AAPL",
        "STK",
        "USD",
    )
    assert (ib_order.orderId, ib_order.clientId, ib_order.permId) == (7, 3, 1900000042)
    assert (ib_order.action, ib_order.totalQuantity, ib_order.orderType, ib_order.tif) == (
        "BUY",
        10.0,
        order_type,
        "GTC",
    )
    assert ib_order.orderRef == "at1234567890-1"
    assert ib_order.lmtPrice == (float(lmt) if lmt is not None else 1.7976931348623157e308)
    assert ib_order.auxPrice == (float(aux) if aux is not None else 1.7976931348623157e308)
    assert state.status == "Submitted"


def test_open_order_of_a_future_and_fx() -> None:
    _, (_, contract, _, _) = decode(m.open_order(order(contract=FUTURE)))
    assert (contract.localSymbol, contract.multiplier, contract.lastTradeDateOrContractMonth) == (
        "ESZ5",
        "50",
        "20251219",
    )
    _, (_, contract, _, _) = decode(m.open_order(order(contract=FX)))
    assert (contract.secType, contract.symbol, contract.currency, contract.exchange) == (
        "CASH",
        "EUR",
        "USD",
        "IDEALPRO",
    )


def test_completed_order() -> None:
    o = order(
        status="Filled",
        filled=Decimal(10),
        completed_time="20240102 15:04:05 UTC",
        completed_status="Filled Size: 10",
    )
    name, (contract, ib_order, state) = decode(m.completed_order(o))
    assert name == "completedOrder"
    assert contract.conId == 265598
    assert (ib_order.orderRef, ib_order.permId, ib_order.filledQuantity) == (
        "at1234567890-1",
        1900000042,
        10.0,
    )
    assert (state.status, state.completedStatus, state.completedTime) == (
        "Filled",
        "Filled Size: 10",
        "20240102 15:04:05 UTC",
    )


def test_execution_and_commission() -> None:
    e = execution(order())
    name, (req_id, contract, ex) = decode(m.execution_data(-1, e))
    assert name == "execDetails" and req_id == -1 and contract.conId == 265598
    assert (ex.execId, ex.orderId, ex.permId, ex.clientId, ex.orderRef) == (
        "0000e0d5.7137a02a.01.01",
        7,
        1900000042,
        3,
        "at1234567890-1",
    )
    assert (ex.side, ex.shares, ex.price, ex.cumQty, ex.avgPrice, ex.lastLiquidity) == (
        "BOT",
        4.0,
        99.9,
        4.0,
        99.9,
        1,
    )
    assert ex.time == datetime.datetime(2024, 1, 2, 15, 4, 5, tzinfo=datetime.UTC)
    name, (report,) = decode(m.commission_report(e))
    assert name == "commissionReport"
    assert (report.execId, report.commission, report.currency, report.realizedPNL) == (
        e.exec_id,
        1.25,
        "USD",
        3.5,
    )


@pytest.mark.parametrize("contract", [STOCK, FX, FUTURE], ids=["STK", "CASH", "FUT"])
def test_contract_details(contract: Any) -> None:
    name, (req_id, details) = decode(m.contract_details(5, contract))
    assert name == "contractDetails" and req_id == 5
    assert details.contract.conId == contract.con_id
    assert (details.contract.localSymbol, details.contract.secType) == (
        contract.local_symbol,
        contract.sec_type,
    )
    assert Decimal(repr(details.minTick)) == contract.min_tick
    assert (details.minSize, details.sizeIncrement) == (
        float(contract.min_size),
        float(contract.size_increment),
    )


def test_end_markers() -> None:
    assert decode(m.contract_details_end(5)) == ("contractDetailsEnd", (5,))
    assert decode(m.open_order_end()) == ("openOrderEnd", ())
    assert decode(m.completed_orders_end()) == ("completedOrdersEnd", ())
    assert decode(m.execution_data_end(9)) == ("execDetailsEnd", (9,))
    assert decode(m.position_end()) == ("positionEnd", ())
    assert decode(m.account_download_end("DU1")) == ("accountDownloadEnd", ("DU1",))
    assert decode(m.account_update_multi_end(4)) == ("accountUpdateMultiEnd", (4,))
    assert decode(m.account_summary_end(4)) == ("accountSummaryEnd", (4,))


def test_account_messages() -> None:
    p = Position(STOCK, quantity=Decimal(10), average_cost=Decimal("99.5"), realized_pnl=Decimal(2))
    name, (account, contract, size, cost) = decode(m.position(p, "DU1"))
    assert (name, account, contract.conId, size, cost) == ("position", "DU1", 265598, 10.0, 99.5)
    name, args = decode(m.portfolio_value(p, Decimal(100), "DU1"))
    assert name == "updatePortfolio" and args[1:] == (10.0, 100.0, 1000.0, 99.5, 5.0, 2.0, "DU1")
    assert decode(m.account_value("CashBalance", "12.5", "USD", "DU1")) == (
        "updateAccountValue",
        ("CashBalance", "12.5", "USD", "DU1"),
    )
    assert decode(m.account_update_time("15:04")) == ("updateAccountTime", ("15:04",))
    assert decode(m.account_update_multi(4, "NetLiquidation", "10", "USD", "DU1")) == (
        "accountUpdateMulti",
        (4, "DU1", "", "NetLiquidation", "10", "USD"),
    )
    assert decode(m.account_summary(4, "AvailableFunds", "10", "USD", "DU1")) == (
        "accountSummary",
        (4, "DU1", "AvailableFunds", "10", "USD"),
    )


def test_market_data_messages() -> None:
    assert decode(m.tick_price(5, 1, Decimal("99.99"), Decimal(100), 1)) == (
        "priceSizeTick",
        (5, 1, 99.99, 100.0),
    )
    assert decode(m.tick_price(5, 2, NO_QUOTE, Decimal(0), 0)) == ("priceSizeTick", (5, 2, -1.0, 0.0))
    assert decode(m.tick_price(5, 66, Decimal("1.10005"), Decimal("2.5"), 0)) == (
        "priceSizeTick",
        (5, 66, 1.10005, 2.5),
    )
    assert decode(m.tick_size(5, 3, Decimal(250))) == ("tickSize", (5, 3, 250.0))
    assert decode(m.tick_req_params(5, Decimal("0.00005"), "", 3)) == ("tickReqParams", (5, 5e-05, "", 3))
    assert decode(m.market_data_type(5, 3)) == ("marketDataType", (5, 3))
    assert decode(m.tick_snapshot_end(5)) == ("tickSnapshotEnd", (5,))


def _ticks(messages: list[m.Message]) -> list[tuple[str, tuple[Any, ...]]]:
    return [decode(message) for message in messages]


def test_a_subscription_sends_both_sides_first_then_only_what_moved() -> None:
    sub = Subscription(req_id=9, con_id=STOCK.con_id)
    book = TopOfBook(Decimal("99.99"), Decimal(100), Decimal("100.01"), Decimal(100))
    first = sub.ticks(book)
    assert [msg[-1] for msg in first if msg[0] == Out.TICK_PRICE] == [1, 1]  # canAutoExecute
    assert _ticks(first) == [
        ("priceSizeTick", (9, 1, 99.99, 100.0)),
        ("tickSize", (9, 0, 100.0)),
        ("priceSizeTick", (9, 2, 100.01, 100.0)),
        ("tickSize", (9, 3, 100.0)),
    ]
    assert sub.ticks(book) == []
    higher_ask = TopOfBook(Decimal("99.99"), Decimal(100), Decimal("100.02"), Decimal(100))
    assert _ticks(sub.ticks(higher_ask)) == [
        ("priceSizeTick", (9, 2, 100.02, 100.0)),
        ("tickSize", (9, 3, 100.0)),
    ]
    thinner_bid = TopOfBook(Decimal("99.99"), Decimal(4), Decimal("100.02"), Decimal(100))
    assert _ticks(sub.ticks(thinner_bid)) == [("tickSize", (9, 0, 4.0))]


def test_no_price_is_minus_one_with_size_zero_and_delayed_data_has_its_own_tick_types() -> None:
    empty = TopOfBook.around(None, Decimal("0.01"), Decimal(100))
    assert (empty.bid, empty.bid_size, empty.ask, empty.ask_size) == (
        NO_QUOTE,
        Decimal(0),
        NO_QUOTE,
        Decimal(0),
    )
    assert TopOfBook.around(Decimal(100), Decimal("0.01"), Decimal(0)) == empty
    messages = Subscription(req_id=3, con_id=1).ticks(empty)
    assert [msg[-1] for msg in messages if msg[0] == Out.TICK_PRICE] == [0, 0]  # not executable
    delayed = Subscription(req_id=3, con_id=1, delayed=True)
    book = TopOfBook.around(Decimal(100), Decimal("0.01"), Decimal(100))
    assert [(name, args[1]) for name, args in _ticks(delayed.ticks(book))] == [
        ("priceSizeTick", 66),
        ("tickSize", 69),
        ("priceSizeTick", 67),
        ("tickSize", 70),
    ]
