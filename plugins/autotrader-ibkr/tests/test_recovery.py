"""Identity and recovery: orderRef / permId / execId, executions as the last record, reconnects."""

from __future__ import annotations

from decimal import Decimal

import anyio
import anyio.lowlevel
import attrs
import pytest
import trio
from autotrader.errors import UnsupportedBackend
from autotrader.model import OrderRequest, OrderSide, OrderStatus, OrderType, OrderUpdate
from autotrader.testing.harness import HarnessSession
from autotrader.testing.support import away, fills_match_trades, request, wait_for

from autotrader_ibkr.adapter import ClientIdInUse, IbkrAdapter, _Tracked
from autotrader_ibkr.config import IbkrConfig
from autotrader_ibkr.harness import INSTRUMENTS
from autotrader_ibkr.pacing import Pacer, backoff_delays
from autotrader_ibkr.tws.wire import In
from ibkr_support import adapter, control, oms_for

pytestmark = pytest.mark.anyio


def sent(s: HarnessSession, msg_id: In) -> int:
    return sum(1 for r in control(s).server.requests if r[0] == str(int(msg_id)))


async def test_an_order_known_only_by_its_executions_is_found_not_resent(session: HarnessSession) -> None:
    """A fill during the drop, and TWS's completed orders lost (as after a TWS restart)."""
    control(session).faults.completed_orders_lost = True
    await control(session).drop_after_accept()
    oms = oms_for(session)
    req = request(session, OrderSide.BUY, OrderType.MARKET)
    await oms.submit_order(req)
    await wait_for(lambda: (o := oms.get_order(req.client_order_id)) is not None and o.status.is_terminal)
    assert [o.client_order_id for o in await session.control.orders()] == [req.client_order_id]
    assert oms.get_order(req.client_order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert fills_match_trades(
        oms.get_fills(client_order_id=req.client_order_id), await session.control.trades()
    )

    # a process that never saw the order (a restart) still finds it, by its executions alone
    fresh = IbkrAdapter(IbkrConfig(port=control(session).server.port, client_id=2, instruments=INSTRUMENTS))
    await fresh.connect()
    try:
        found = await fresh.get_order(req.client_order_id)
    finally:
        await fresh.disconnect()
    assert found is not None and found.status is OrderStatus.FILLED
    assert found.filled_quantity == session.quantity and "executions" in (found.reason or "")


async def test_a_partly_filled_order_gone_from_tws_is_done_not_working(session: HarnessSession) -> None:
    control(session).faults.completed_orders_lost = True
    await session.control.set_liquidity(session.symbol, Decimal(4))
    req = request(session, OrderSide.BUY, OrderType.MARKET)  # 4 of 10 fill, the rest expires
    await session.adapter.submit_order(req)
    await wait_for(lambda: len(control(session).exchange.executions) == 1)
    found = await session.adapter.get_order(req.client_order_id)
    assert found is not None and found.status is OrderStatus.EXPIRED and found.filled_quantity == 4


def test_an_order_without_its_order_ref_is_matched_by_perm_id() -> None:
    ib = IbkrAdapter(IbkrConfig(instruments=INSTRUMENTS))
    req = attrs_request()
    tracked = _Tracked(req, order_id=5, client_id=1)
    ib._orders[req.client_order_id] = tracked
    ib._by_order_id[5] = req.client_order_id
    ib._learn_perm_id(tracked, 1900000123)
    coid = req.client_order_id
    assert ib._owner("", 1900000123, 0, 9) == coid  # a completed order: no orderId
    assert ib._refers_to(coid, "", 1900000123) and not ib._refers_to(coid, "", 1900000999)
    assert not ib._refers_to(coid, "someone-else", 1900000123)  # an orderRef always wins
    assert ib._owner("", 0, 5, 1) == coid and ib._owner("", 0, 5, 2) is None  # orderIds are per client


def attrs_request() -> OrderRequest:
    return OrderRequest("at-perm-1", "AAPL", OrderSide.BUY, OrderType.LIMIT, Decimal(1), price=Decimal(99))


async def test_farm_notices_are_information(session: HarnessSession) -> None:
    events: list[object] = []
    session.adapter.add_listener(events.append)
    for code, text in (
        (2103, "Market data farm connection is broken:usfarm"),
        (2104, "Market data farm connection is OK:usfarm"),
        (2106, "HMDS data farm connection is OK:ushmds"),
        (2158, "Sec-def data farm connection is OK:secdefnj"),
    ):
        control(session).server.notify(code, text)
    req = request(session, OrderSide.BUY, price=away(session, -5))
    ack = await session.adapter.submit_order(req)  # a request after them goes on as usual
    assert ack.status is OrderStatus.ACCEPTED
    assert await session.adapter.health_check()
    assert [e for e in events if isinstance(e, OrderUpdate) and e.status is not OrderStatus.ACCEPTED] == []


async def test_1101_resubscribes_the_account_and_reconciles(session: HarnessSession) -> None:
    before = (sent(session, In.REQ_ACCT_DATA), sent(session, In.REQ_EXECUTIONS))
    completed = sent(session, In.REQ_COMPLETED_ORDERS)
    await control(session).connectivity_lost()
    await control(session).connectivity_restored(data_lost=True)
    await wait_for(lambda: sent(session, In.REQ_EXECUTIONS) > before[1], what="reconciliation")
    assert sent(session, In.REQ_ACCT_DATA) == before[0] + 1
    assert sent(session, In.REQ_COMPLETED_ORDERS) == completed  # no order to settle: no history


async def test_1102_does_not_resubscribe(session: HarnessSession) -> None:
    before = sent(session, In.REQ_ACCT_DATA)
    await control(session).connectivity_lost()
    await control(session).connectivity_restored(data_lost=False)
    await wait_for(lambda: adapter(session)._link_ok)
    await anyio.sleep(0.1)
    assert sent(session, In.REQ_ACCT_DATA) == before


async def test_reconnects_with_backoff_through_an_outage(session: HarnessSession) -> None:
    control(session).server.drop_connections(outage=0.3)  # connections closed at once for 0.3 s
    await wait_for(lambda: adapter(session).reconnects == 1, timeout=8, what="the reconnect")
    assert adapter(session).reconnect_attempts >= 2  # the first, 0.05 s after the drop, is refused
    assert await session.adapter.health_check()


async def test_a_socket_tws_closes_while_connecting_fails_the_attempt_at_once(
    session: HarnessSession,
) -> None:
    """326 and an outage close the socket mid-handshake: no waiting out a 60 s connect timeout."""
    patient = attrs.evolve(adapter(session).config, connect_timeout=60.0)
    with anyio.fail_after(20):  # generous, and far below the connect timeout
        with pytest.raises(ClientIdInUse):
            await IbkrAdapter(patient).connect()

        other = IbkrAdapter(attrs.evolve(patient, client_id=5))
        await other.connect()
        try:
            control(session).server.drop_connections(outage=0.3)
            await wait_for(lambda: other.reconnects == 1, timeout=15, what="the reconnect")
        finally:
            await other.disconnect()
    assert other.reconnect_attempts >= 2  # at least one refused during the outage


def test_backoff_doubles_up_to_its_cap() -> None:
    delays = backoff_delays(0.5, 30)
    assert [next(delays) for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]


async def test_pacer_keeps_the_message_rate() -> None:
    pacer = Pacer(3, window=0.2)
    started = anyio.current_time()
    for _ in range(7):  # 3 now, 3 after one window, 1 after two
        await pacer.wait()
    assert anyio.current_time() - started >= 0.4


async def test_pacer_keeps_the_rate_for_concurrent_senders_in_their_order() -> None:
    pacer = Pacer(3, window=0.2)
    admitted: list[tuple[int, float]] = []

    async def send(number: int) -> None:
        await pacer.wait()
        admitted.append((number, anyio.current_time()))

    async with anyio.create_task_group() as tg:
        for number in range(7):
            tg.start_soon(send, number)
            await anyio.lowlevel.checkpoint()  # each starts waiting before the next
    assert [number for number, _ in admitted] == list(range(7))
    times = [moment for _, moment in admitted]
    assert all(later - earlier >= 0.2 - 1e-3 for earlier, later in zip(times, times[3:], strict=False))


def test_pacer_with_room_does_not_yield() -> None:
    """With room in the window the order goes straight to the wire (no trip round the loop)."""

    async def run() -> None:
        pacer = Pacer(2)
        waiting = pacer.wait()
        with pytest.raises(StopIteration):
            waiting.send(None)  # done on its first step: it never suspended

    anyio.run(run)


def test_under_trio_the_adapter_refuses_with_a_typed_error() -> None:
    ib = IbkrAdapter(IbkrConfig(instruments=INSTRUMENTS))
    with pytest.raises(UnsupportedBackend, match=r"runs only under asyncio .*built on asyncio.* under trio"):
        trio.run(ib.connect)
