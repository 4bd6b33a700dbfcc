"""The unmodified IB client library against the local TWS: handshake, start-up sync, requests.

Each request the client sends is also read back from the TWS's request log with the TWS's own
parsers, so the decoding of what clients send is tested on what a real client wrote.
"""

# ib_async's Client methods (placeOrder, reqMktData...) have no annotations; these tests speak
# to TWS through them on purpose.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from autotrader_ibkr.compat import IB, Contract, Order
from autotrader_ibkr.tws import TwsServer, running_tws
from autotrader_ibkr.tws import requests as rq
from autotrader_ibkr.tws.wire import FrameBuffer, In, Out, decode_payload

pytestmark = pytest.mark.anyio


@pytest.fixture
async def tws(anyio_backend: str) -> AsyncIterator[TwsServer]:
    async with running_tws() as server:
        server.set_price(265598, Decimal(100))
        yield server


async def connected(tws: TwsServer, client_id: int = 5) -> IB:
    ib = IB()
    await ib.connectAsync("127.0.0.1", tws.port, clientId=client_id, timeout=3)
    return ib


def requests(tws: TwsServer, msg_id: int) -> list[list[str]]:
    return [r for r in tws.requests if int(r[0]) == msg_id]


async def test_start_up_sync_answers_every_request(tws: TwsServer) -> None:
    ib = await connected(tws)
    try:
        assert ib.isConnected() and ib.managedAccounts() == ["DU1234567"]
        sent = {int(r[0]) for r in tws.requests}
        # START_API, positions, open orders, completed orders, account updates (+ multi), executions
        assert {71, 61, 5, 99, 6, 76, 7} <= sent
        tags = {(v.tag, v.currency) for v in ib.accountValues()}
        assert ("CashBalance", "USD") in tags and ("NetLiquidation", "USD") in tags
        assert requests(tws, In.START_API)[0][2] == "5"
    finally:
        ib.disconnect()


async def test_place_order_is_read_as_the_client_wrote_it(tws: TwsServer) -> None:
    ib = await connected(tws)
    try:
        [details] = await ib.reqContractDetailsAsync(
            Contract(secType="STK", symbol="AAPL", exchange="SMART", currency="USD")
        )
        assert details.contract is not None  # optional in the library's types
        query = rq.parse_contract_details(requests(tws, In.REQ_CONTRACT_DATA)[-1]).contract
        assert (query.symbol, query.sec_type, query.exchange, query.currency) == (
            "AAPL",
            "STK",
            "SMART",
            "USD",
        )
        order = Order(
            action="SELL",
            totalQuantity=7,
            orderType="STP LMT",
            lmtPrice=98.5,
            auxPrice=99.25,
            tif="GTC",
            orderRef="coid-1",
        )
        trade = ib.placeOrder(details.contract, order)
        await asyncio.sleep(0.1)
        placed = rq.parse_place_order(requests(tws, In.PLACE_ORDER)[-1])
        assert (placed.order_id, placed.action, placed.total_quantity, placed.order_type) == (
            trade.order.orderId,
            "SELL",
            Decimal(7),
            "STP LMT",
        )
        assert (placed.lmt_price, placed.aux_price, placed.tif, placed.order_ref) == (
            Decimal("98.5"),
            Decimal("99.25"),
            "GTC",
            "coid-1",
        )
        assert placed.contract.con_id == 265598
        assert trade.orderStatus.status == "Submitted"
        ib.cancelOrder(trade.order)
        await asyncio.sleep(0.1)
        assert rq.parse_cancel_order(requests(tws, In.CANCEL_ORDER)[-1]).order_id == trade.order.orderId
        assert trade.orderStatus.status == "Cancelled"
        fills = await ib.reqExecutionsAsync()
        query_fields = requests(tws, In.REQ_EXECUTIONS)[-1]
        assert rq.parse_execution_query(query_fields).req_id == int(query_fields[2]) and fills == []
    finally:
        ib.disconnect()


async def test_fill_reaches_the_client_with_its_commission(tws: TwsServer) -> None:
    ib = await connected(tws)
    try:
        [details] = await ib.reqContractDetailsAsync(Contract(conId=265598, exchange="SMART"))
        assert details.contract is not None  # optional in the library's types
        trade = ib.placeOrder(
            details.contract, Order(action="BUY", totalQuantity=3, orderType="MKT", orderRef="mkt")
        )
        await asyncio.sleep(0.2)
        assert trade.orderStatus.status == "Filled"
        # acknowledged as it arrived (Submitted, nothing filled), then Filled after its execution
        statuses = list(dict.fromkeys(entry.status for entry in trade.log))
        assert statuses == ["PendingSubmit", "Submitted", "Filled"]
        assert trade.log[1].status == "Submitted" and not trade.log[1].message.startswith("Fill")
        [fill] = trade.fills
        assert fill.execution.execId == tws.exchange.executions[0].exec_id
        assert Decimal(repr(fill.commissionReport.commission)) == tws.exchange.executions[0].commission
        assert [p.position for p in ib.positions()] == [3.0]
        completed = await ib.reqCompletedOrdersAsync(False)
        assert [(t.order.orderRef, t.orderStatus.status) for t in completed] == [("mkt", "Filled")]
    finally:
        ib.disconnect()


def record_writes(tws: TwsServer, client_id: int, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The message ids of each socket write the TWS makes to ``client_id`` from now on."""
    writes: list[list[str]] = []
    stream = tws.sessions[client_id].stream
    send = stream.send

    async def recording(data: bytes) -> None:
        writes.append([decode_payload(p)[0] for p in FrameBuffer().feed(data)])
        await send(data)

    monkeypatch.setattr(stream, "send", recording)
    return writes


async def place_market_order(ib: IB, wait: float) -> str:
    [details] = await ib.reqContractDetailsAsync(Contract(conId=265598, exchange="SMART"))
    assert details.contract is not None  # optional in the library's types
    trade = ib.placeOrder(details.contract, Order(action="BUY", totalQuantity=1, orderType="MKT"))
    await asyncio.sleep(wait)
    return str(trade.orderStatus.status)


ACK = [str(int(Out.OPEN_ORDER)), str(int(Out.ORDER_STATUS))]
FILL = [str(int(o)) for o in (Out.EXECUTION_DATA, Out.OPEN_ORDER, Out.ORDER_STATUS, Out.COMMISSION_REPORT)]


async def test_an_order_is_acknowledged_in_a_write_of_its_own_before_its_fill(
    tws: TwsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OPEN_ORDER + ORDER_STATUS go out before the execution, the account and the position are
    even encoded: a client reading them in one burst would decode all of it before its ack."""
    ib = await connected(tws)
    writes = record_writes(tws, 5, monkeypatch)
    try:
        assert await place_market_order(ib, 0.2) == "Filled"
    finally:
        ib.disconnect()
    acknowledged = next(n for n, write in enumerate(writes) if ACK[1] in write)
    ack, fill = writes[acknowledged : acknowledged + 2]
    assert ack == ACK
    assert fill[:4] == FILL
    assert str(int(Out.POSITION_DATA)) in fill  # one write for what the fill changed, not one each


async def test_a_held_order_s_messages_come_out_in_their_order(
    tws: TwsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The accept-then-timeout fault holds the acknowledgement and the fill, routed apart, alike."""
    ib = await connected(tws)
    tws.faults.hold_orders, tws.faults.hold_seconds = 1, 0.3
    writes = record_writes(tws, 5, monkeypatch)
    try:
        assert await place_market_order(ib, 0.15) == "PendingSubmit"
        await asyncio.sleep(0.4)
    finally:
        ib.disconnect()
    order_messages = [i for write in writes[1:] for i in write if i in ACK + FILL]
    assert order_messages == ACK + FILL


async def test_client_id_in_use_is_refused_with_326(tws: TwsServer) -> None:
    first = await connected(tws, client_id=9)
    codes: list[int] = []
    second = IB()
    second.errorEvent += lambda req_id, code, text, contract: codes.append(code)
    try:
        with pytest.raises((TimeoutError, ConnectionError, asyncio.TimeoutError)):
            await second.connectAsync("127.0.0.1", tws.port, clientId=9, timeout=1)
        assert 326 in codes
        assert first.isConnected()
    finally:
        first.disconnect()
        second.disconnect()


async def test_a_client_outside_version_176_is_refused(tws: TwsServer) -> None:
    import struct

    import anyio

    stream = await anyio.connect_tcp("127.0.0.1", tws.port)
    async with stream:
        text = b"v100..120"
        await stream.send(b"API\0" + struct.pack(">I", len(text)) + text)
        with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
            with anyio.fail_after(2):
                await stream.receive()


async def test_ib_error_codes_reach_the_client(tws: TwsServer) -> None:
    """201 reject, 202 cancelled, 103 duplicate id, 104 modify filled, 110 off tick, 10147/161 cancel."""
    ib = await connected(tws)
    codes: list[tuple[int, int]] = []
    ib.errorEvent += lambda req_id, code, text, contract: codes.append((req_id, code))
    try:
        [details] = await ib.reqContractDetailsAsync(Contract(conId=265598, exchange="SMART"))
        assert details.contract is not None  # optional in the library's types
        contract = details.contract
        filled = ib.placeOrder(contract, Order(action="BUY", totalQuantity=1, orderType="MKT", orderRef="f"))
        await asyncio.sleep(0.1)
        tws.exchange.forced_rejects.append("no")
        rejected = ib.placeOrder(
            contract, Order(action="BUY", totalQuantity=1, orderType="MKT", orderRef="r")
        )
        resting = ib.placeOrder(
            contract, Order(action="BUY", totalQuantity=1, orderType="LMT", lmtPrice=90.0, orderRef="l")
        )
        await asyncio.sleep(0.1)
        ib.cancelOrder(resting.order)
        off_tick = Order(action="BUY", totalQuantity=1, orderType="LMT", lmtPrice=90.001, orderRef="t")
        off_tick.orderId = ib.client.getReqId()
        ib.client.placeOrder(off_tick.orderId, contract, off_tick)
        again = Order(action="BUY", totalQuantity=1, orderType="MKT", orderRef="d")
        ib.client.placeOrder(rejected.order.orderId, contract, again)  # an id already used
        ib.client.placeOrder(filled.order.orderId, contract, filled.order)  # modify a filled order
        ib.client.cancelOrder(filled.order.orderId, "")  # cancel a filled order
        ib.client.cancelOrder(999999, "")  # cancel an order TWS never had
        await asyncio.sleep(0.2)
    finally:
        ib.disconnect()
    assert (rejected.order.orderId, 201) in codes
    assert (resting.order.orderId, 202) in codes
    assert (off_tick.orderId, 110) in codes
    assert (rejected.order.orderId, 103) in codes
    assert (filled.order.orderId, 104) in codes
    assert (filled.order.orderId, 161) in codes
    assert (999999, 10147) in codes


async def test_market_data_snapshot_stream_and_its_errors_reach_the_client(tws: TwsServer) -> None:
    ib = await connected(tws)
    codes: list[tuple[int, int]] = []
    ib.errorEvent += lambda req_id, code, text, contract: codes.append((req_id, code))
    try:
        [details] = await ib.reqContractDetailsAsync(Contract(conId=265598, exchange="SMART"))
        assert details.contract is not None  # optional in the library's types
        contract = details.contract
        [snapshot] = await ib.reqTickersAsync(contract)  # snapshot: ends with TICK_SNAPSHOT_END
        assert (snapshot.bid, snapshot.bidSize, snapshot.ask, snapshot.askSize) == (99.99, 100, 100.01, 100)
        assert [s.req_id for s in tws.sessions[5].market_data.values()] == []
        ticker = ib.reqMktData(contract, "", False, False)
        await asyncio.sleep(0.1)
        assert (ticker.bid, ticker.ask, ticker.minTick, ticker.marketDataType) == (99.99, 100.01, 0.01, 1)
        tws.set_price(265598, Decimal("100.5"))
        tws.set_liquidity(265598, Decimal(7))
        await asyncio.sleep(0.1)
        assert (ticker.bid, ticker.bidSize, ticker.ask, ticker.askSize) == (100.49, 7, 100.51, 7)
        [req_id] = tws.sessions[5].market_data
        ib.client.reqMktData(req_id, contract, "", False, False, [])  # the same request id again
        ib.client.cancelMktData(999999)  # a request TWS never had
        ib.client.reqMktData(ib.client.getReqId(), Contract(conId=1, exchange="SMART"), "", False, False, [])
        ib.cancelMktData(contract)
        await asyncio.sleep(0.1)
        assert tws.sessions[5].market_data == {}
    finally:
        ib.disconnect()
    assert (req_id, 102) in codes and (999999, 300) in codes and any(code == 200 for _, code in codes)
