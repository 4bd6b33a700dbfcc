"""The unmodified IB client library against the local TWS: handshake, start-up sync, requests.

Each request the client sends is also read back from the TWS's request log with the TWS's own
parsers, so the decoding of what clients send is tested on what a real client wrote.
"""

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

FILL_MESSAGES = (Out.EXECUTION_DATA, Out.OPEN_ORDER, Out.ORDER_STATUS, Out.COMMISSION_REPORT)


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


async def test_an_order_is_acknowledged_in_a_write_of_its_own_before_its_fill(
    tws: TwsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OPEN_ORDER + ORDER_STATUS go out before the execution, the account and the position are
    even encoded: a client reading them in one burst would decode all of it before its ack."""
    ib = await connected(tws)
    writes: list[list[str]] = []
    stream = tws.sessions[5].stream
    send = stream.send

    async def recording(data: bytes) -> None:
        buffer = FrameBuffer()
        writes.append([decode_payload(p)[0] for p in buffer.feed(data)])
        await send(data)

    monkeypatch.setattr(stream, "send", recording)
    try:
        [details] = await ib.reqContractDetailsAsync(Contract(conId=265598, exchange="SMART"))
        writes.clear()
        trade = ib.placeOrder(details.contract, Order(action="BUY", totalQuantity=1, orderType="MKT"))
        await asyncio.sleep(0.2)
        assert trade.orderStatus.status == "Filled"
    finally:
        ib.disconnect()
    ack, fill = writes[:2]
    assert ack == [str(int(Out.OPEN_ORDER)), str(int(Out.ORDER_STATUS))]
    execution, open_order, status, commission = (str(int(o)) for o in FILL_MESSAGES)
    assert fill[:4] == [execution, open_order, status, commission]
    assert str(int(Out.POSITION_DATA)) in fill  # one write for what the fill changed, not one each


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
