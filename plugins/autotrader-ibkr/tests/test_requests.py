"""Every request the local TWS reads, as the IB client library itself encodes it.

The library's ``Client`` is the specification of what arrives on the socket: each request
method is called on a client whose connection writes into a list, and the bytes are read back
with the TWS's own framing and parsers.  A table covers every message id the TWS answers; a
request added to the TWS without a case here fails ``test_every_request_is_covered``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from autotrader_ibkr.compat import LIBRARY, Contract, Order
from autotrader_ibkr.tws import requests as rq
from autotrader_ibkr.tws.wire import SERVER_VERSION, FrameBuffer, In, decode_payload

pytestmark = pytest.mark.anyio  # the library's client throttles on the running loop's clock

_lib = importlib.import_module(LIBRARY)
_client_module = importlib.import_module(f"{LIBRARY}.client")


class _Wrapper:
    def __getattr__(self, name: str) -> Any:
        return lambda *args: None


@pytest.fixture
def client() -> Iterator[Any]:
    """A library client at server version 176 whose socket is a list of written frames."""
    client = _client_module.Client(_Wrapper())
    client.sent = []
    client.conn.sendMsg = client.sent.append
    client.connState = client.CONNECTED
    client._serverVersion = SERVER_VERSION
    client.clientId = 3
    client.MaxRequests = 0  # no throttling: every call is written at once
    yield client
    client.connState = client.DISCONNECTED


def written(client: Any) -> list[str]:
    """The one message the client wrote since the last call, as TWS reads its fields."""
    buffer = FrameBuffer()
    payloads = [p for data in client.sent for p in buffer.feed(data)]
    client.sent.clear()
    assert len(payloads) == 1, payloads
    return decode_payload(payloads[0])


STOCK = Contract(conId=265598, exchange="SMART")
FUTURE = Contract(
    secType="FUT", localSymbol="ESZ5", exchange="CME", currency="USD", lastTradeDateOrContractMonth="202512"
)
ORDER = Order(
    action="SELL",
    totalQuantity=7,
    orderType="STP LMT",
    lmtPrice=98.5,
    auxPrice=99.25,
    tif="GTC",
    orderRef="at-coid-1",
    account="DU1234567",
)

CASES: dict[In, tuple[Callable[[Any], None], rq.Request]] = {
    In.START_API: (lambda c: c.startApi(), rq.StartApi(3, "")),
    In.REQ_IDS: (lambda c: c.reqIds(-1), rq.ReqIds(-1)),
    In.REQ_CURRENT_TIME: (lambda c: c.reqCurrentTime(), rq.NoArguments(In.REQ_CURRENT_TIME)),
    In.REQ_MANAGED_ACCTS: (lambda c: c.reqManagedAccts(), rq.NoArguments(In.REQ_MANAGED_ACCTS)),
    In.REQ_POSITIONS: (lambda c: c.reqPositions(), rq.NoArguments(In.REQ_POSITIONS)),
    In.CANCEL_POSITIONS: (lambda c: c.cancelPositions(), rq.NoArguments(In.CANCEL_POSITIONS)),
    In.REQ_OPEN_ORDERS: (lambda c: c.reqOpenOrders(), rq.NoArguments(In.REQ_OPEN_ORDERS)),
    In.REQ_ALL_OPEN_ORDERS: (lambda c: c.reqAllOpenOrders(), rq.NoArguments(In.REQ_ALL_OPEN_ORDERS)),
    In.REQ_GLOBAL_CANCEL: (lambda c: c.reqGlobalCancel(), rq.NoArguments(In.REQ_GLOBAL_CANCEL)),
    In.REQ_AUTO_OPEN_ORDERS: (lambda c: c.reqAutoOpenOrders(True), rq.AutoOpenOrders(True)),
    In.REQ_COMPLETED_ORDERS: (lambda c: c.reqCompletedOrders(False), rq.CompletedOrdersQuery(False)),
    In.REQ_ACCT_DATA: (lambda c: c.reqAccountUpdates(True, "DU1"), rq.AccountUpdates(True, "DU1")),
    In.REQ_ACCOUNT_UPDATES_MULTI: (
        lambda c: c.reqAccountUpdatesMulti(5, "DU1", "", True),
        rq.AccountUpdatesMulti(5, "DU1", "", True),
    ),
    In.CANCEL_ACCOUNT_UPDATES_MULTI: (
        lambda c: c.cancelAccountUpdatesMulti(5),
        rq.CancelRequest(In.CANCEL_ACCOUNT_UPDATES_MULTI, 5),
    ),
    In.REQ_ACCOUNT_SUMMARY: (
        lambda c: c.reqAccountSummary(6, "All", "NetLiquidation,$LEDGER:ALL"),
        rq.AccountSummaryQuery(6, "All", frozenset({"NetLiquidation", "$LEDGER:ALL"})),
    ),
    In.CANCEL_ACCOUNT_SUMMARY: (
        lambda c: c.cancelAccountSummary(6),
        rq.CancelRequest(In.CANCEL_ACCOUNT_SUMMARY, 6),
    ),
    In.REQ_EXECUTIONS: (
        lambda c: c.reqExecutions(
            7,
            _lib.ExecutionFilter(clientId=3, acctCode="DU1", symbol="AAPL", secType="STK", side="BUY"),
        ),
        rq.ExecutionQuery(7, 3, "DU1", "AAPL", "STK", "BUY"),
    ),
    In.REQ_CONTRACT_DATA: (
        lambda c: c.reqContractDetails(8, FUTURE),
        rq.ContractDetailsQuery(
            8, rq.ContractQuery(0, "", "FUT", "202512", "CME", "", "USD", "ESZ5", ""), include_expired=False
        ),
    ),
    In.PLACE_ORDER: (
        lambda c: c.placeOrder(9, STOCK, ORDER),
        rq.PlaceOrder(
            order_id=9,
            contract=rq.ContractQuery(265598, "", "", "", "SMART", "", "", "", ""),
            action="SELL",
            total_quantity=Decimal(7),
            order_type="STP LMT",
            lmt_price=Decimal("98.5"),
            aux_price=Decimal("99.25"),
            tif="GTC",
            account="DU1234567",
            order_ref="at-coid-1",
            transmit=True,
        ),
    ),
    In.CANCEL_ORDER: (lambda c: c.cancelOrder(9, ""), rq.CancelOrder(9, "")),
    In.REQ_MARKET_DATA_TYPE: (lambda c: c.reqMarketDataType(3), rq.MarketDataType(3)),
    In.REQ_MKT_DATA: (
        lambda c: c.reqMktData(10, STOCK, "", False, False, []),
        rq.MarketDataQuery(10, rq.ContractQuery(265598, "", "", "", "SMART", "", "", "", "")),
    ),
    In.CANCEL_MKT_DATA: (lambda c: c.cancelMktData(10), rq.CancelRequest(In.CANCEL_MKT_DATA, 10)),
}


def test_every_request_is_covered() -> None:
    assert set(CASES) == set(In) == set(rq.PARSERS)


@pytest.mark.parametrize("msg_id", list(CASES), ids=[m.name for m in CASES])
async def test_request_as_the_client_encodes_it(client: Any, msg_id: In) -> None:
    call, expected = CASES[msg_id]
    call(client)
    fields = written(client)
    assert int(fields[0]) == msg_id
    assert rq.parse_request(fields) == expected


@pytest.mark.parametrize(
    ("order_type", "lmt", "aux"),
    [("MKT", None, None), ("LMT", 99.5, None), ("STP", None, 101.0), ("STP LMT", 102.0, 101.0)],
)
@pytest.mark.parametrize("tif", ["DAY", "GTC", "IOC", "FOK"])
async def test_place_order_types_and_tifs(
    client: Any, order_type: str, lmt: float | None, aux: float | None, tif: str
) -> None:
    order = Order(action="BUY", totalQuantity=3, orderType=order_type, tif=tif, orderRef="r")
    if lmt is not None:
        order.lmtPrice = lmt
    if aux is not None:
        order.auxPrice = aux
    client.placeOrder(4, STOCK, order)
    placed = rq.parse_place_order(written(client))
    assert (placed.order_type, placed.tif, placed.total_quantity) == (order_type, tif, Decimal(3))
    assert placed.lmt_price == (Decimal(repr(lmt)) if lmt is not None else None)
    assert placed.aux_price == (Decimal(repr(aux)) if aux is not None else None)


async def test_market_data_request_options(client: Any) -> None:
    client.reqMktData(11, STOCK, "233,236", True, False, [_lib.TagValue("x", "y")])
    query = rq.parse_market_data(written(client))
    assert (query.req_id, query.generic_ticks, query.snapshot, query.regulatory_snapshot) == (
        11,
        "233,236",
        True,
        False,
    )


async def test_market_data_request_past_combo_legs_and_a_delta_neutral_contract(client: Any) -> None:
    legs = [
        _lib.ComboLeg(conId=265598, ratio=1, action="BUY", exchange="SMART"),
        _lib.ComboLeg(conId=12087792, ratio=2, action="SELL", exchange="IDEALPRO"),
    ]
    combo = Contract(secType="BAG", symbol="AAPL", exchange="SMART", currency="USD", comboLegs=legs)
    combo.deltaNeutralContract = _lib.DeltaNeutralContract(conId=265598, delta=0.5, price=100.0)
    client.reqMktData(12, combo, "100", False, True, [])
    query = rq.parse_market_data(written(client))
    assert (query.contract.sec_type, query.generic_ticks, query.snapshot, query.regulatory_snapshot) == (
        "BAG",
        "100",
        False,
        True,
    )


async def test_fractional_quantities_survive(client: Any) -> None:
    client.placeOrder(4, STOCK, Order(action="BUY", totalQuantity=20000.5, orderType="MKT"))
    assert rq.parse_place_order(written(client)).total_quantity == Decimal("20000.5")


@pytest.mark.parametrize(
    "fields",
    [
        ["3", "9", "265598"],
        ["71"],
        ["7", "3", "1"],
        ["9", "8", "1", "0"],
        ["x", "1"],
        ["1", "11", "5", "265598", *[""] * 11, "0", ""],
        ["1", "11", "5", "0", "AAPL", "BAG", *[""] * 4, "SMART", "", "USD", "", "", "3", "1", "1"],
    ],
    ids=[
        "short PLACE_ORDER",
        "START_API without client id",
        "short REQ_EXECUTIONS",
        "short contract",
        "id",
        "short REQ_MKT_DATA",
        "REQ_MKT_DATA missing its combo legs",
    ],
)
def test_malformed_requests_are_refused(fields: list[str]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message differs per request
        rq.parse_request(fields)


def test_unknown_request_is_not_answered() -> None:
    assert rq.parse_request(["999", "1"]) is None


def test_handshake_range_the_client_sends_includes_176() -> None:
    from autotrader_ibkr.tws.wire import negotiate_version, parse_version_range

    low, high = _client_module.Client.MinClientVersion, _client_module.Client.MaxClientVersion
    assert negotiate_version(*parse_version_range(f"v{low}..{high}")[:2]) == SERVER_VERSION
