"""A busy day: the TWS already holds thousands of completed orders and executions.

TWS answers a completed-orders request with every completed order of the day, and an
unfiltered executions request with every execution, so these tests check on the wire that the
connect, a reconnect and the lookups ask for that history only when nothing else can answer,
and that the answers stay right when they do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import anyio
import attrs
import pytest
from autotrader.errors import TransientError
from autotrader.model import Fill, OrderSide, OrderStatus, OrderType, OrderUpdate
from autotrader.testing.harness import HarnessSession
from autotrader.testing.support import away, request, wait_for

from autotrader_ibkr.adapter import IbkrAdapter
from autotrader_ibkr.config import IbkrConfig
from autotrader_ibkr.harness import TwsVenueControl, add_history, connection_settings, prepare
from autotrader_ibkr.shared_request import SharedRequest
from autotrader_ibkr.tws import Exchange, TwsFaults, TwsServer, running_tws
from autotrader_ibkr.tws import messages as m
from autotrader_ibkr.tws.raw_client import RawTwsClient, raw_tws_client
from autotrader_ibkr.tws.wire import In, Out, decode_payload, encode_message
from ibkr_support import adapter, control, record

pytestmark = pytest.mark.anyio

HISTORY = 3000


@pytest.fixture
async def busy(anyio_backend: str) -> AsyncIterator[HarnessSession]:
    """A connected adapter whose TWS held :data:`HISTORY` completed orders before it connected."""
    server = TwsServer(Exchange(), faults=TwsFaults(outage_seconds=0.3))
    async with running_tws(server) as tws:
        con_ids = prepare(tws)
        add_history(tws.exchange, HISTORY)
        settings = connection_settings(tws, 1, request_timeout=5.0)
        live = IbkrAdapter(IbkrConfig(**{**settings, "history_timeout": 60.0}))
        await live.connect()
        try:
            yield HarnessSession(
                adapter=live,
                control=TwsVenueControl(tws, con_ids),
                symbol="AAPL",
                price=Decimal("100.00"),
                quantity=Decimal(10),
                tick=Decimal("0.01"),
                request_timeout=5.0,
            )
        finally:
            await live.disconnect()


def sent(s: HarnessSession, msg_id: In) -> list[list[str]]:
    return [r for r in control(s).server.requests if r[0] == str(int(msg_id))]


def history_requests(s: HarnessSession) -> tuple[int, int]:
    """How many completed-orders requests and unfiltered executions requests TWS received."""
    unfiltered = [r for r in sent(s, In.REQ_EXECUTIONS) if not r[5]]
    return len(sent(s, In.REQ_COMPLETED_ORDERS)), len(unfiltered)


async def test_the_connect_asks_for_no_history_and_lookups_of_settled_orders_ask_nothing(
    busy: HarnessSession,
) -> None:
    assert history_requests(busy) == (0, 0)
    events = record(busy)
    req = request(busy, OrderSide.BUY, OrderType.MARKET)
    await busy.adapter.submit_order(req)
    await wait_for(lambda: adapter(busy)._settled(req.client_order_id) is not None, what="the fill")

    found = await busy.adapter.get_order(req.client_order_id)
    fills = await busy.adapter.get_order_fills(req.client_order_id)

    assert found is not None and found.status is OrderStatus.FILLED and found.filled_quantity == 10
    assert found.venue_order_id is not None
    assert [f.trade_id for f in fills] == [e.exec_id for e in control(busy).exchange.executions[HISTORY:]]
    assert fills == [e for e in events if isinstance(e, Fill)]
    assert history_requests(busy) == (0, 0)  # answered from what the adapter saw


async def test_an_earlier_sessions_order_is_found_among_thousands_and_the_answer_is_kept(
    busy: HarnessSession,
) -> None:
    found = await busy.adapter.get_order("earlier-1234")
    assert found is not None and found.status is OrderStatus.FILLED and found.filled_quantity == 10
    assert history_requests(busy) == (1, 0)

    again = await busy.adapter.get_order("earlier-2999")  # completed orders cannot change again
    assert again is not None and again.status is OrderStatus.FILLED
    assert history_requests(busy) == (1, 0)

    assert await busy.adapter.get_order("never-sent") is None  # fresh history, then executions
    assert history_requests(busy) == (2, 1)


async def test_concurrent_lookups_share_the_completed_orders_request(busy: HarnessSession) -> None:
    missing = [f"never-sent-{i}" for i in range(6)]
    with anyio.fail_after(120):
        answers: list[object] = ["unanswered"] * len(missing)

        async def look(i: int) -> None:
            answers[i] = await busy.adapter.get_order(missing[i])

        async with anyio.create_task_group() as tg:
            for i in range(len(missing)):
                tg.start_soon(look, i)
    assert answers == [None] * len(missing)
    completed, _ = history_requests(busy)
    assert 1 <= completed <= 2  # one, plus one for lookups whose open-orders answer came after it began


async def test_a_history_request_that_times_out_leaves_the_order_unknown_and_the_socket_up(
    busy: HarnessSession,
) -> None:
    live = adapter(busy)
    patient = live.config
    live.config = attrs.evolve(patient, history_timeout=1e-4)  # no answer can make it in time
    with pytest.raises(TransientError, match="completed orders"):
        await live.get_order("never-sent")
    assert live.ib.isConnected() and live.reconnects == 0 and await live.health_check()

    live.config = patient  # the abandoned answer streams in first; the next request is whole
    assert await live.get_order("never-sent") is None
    found = await live.get_order("earlier-7")
    assert found is not None and found.status is OrderStatus.FILLED


async def test_a_reconnect_with_thousands_of_completed_orders_catches_up_on_what_changed(
    busy: HarnessSession,
) -> None:
    live = adapter(busy)
    events = record(busy)
    await busy.adapter.submit_order(request(busy, OrderSide.BUY, OrderType.MARKET))  # a last execution
    await wait_for(lambda: live._last_execution is not None, what="the first fill")
    resting = request(busy, OrderSide.BUY, price=away(busy, -5))
    cancelled = request(busy, OrderSide.BUY, price=away(busy, -8))
    await busy.adapter.submit_order(resting)
    await busy.adapter.submit_order(cancelled)
    before = history_requests(busy)
    executions_before = len(sent(busy, In.REQ_EXECUTIONS))

    server = control(busy).server
    server.drop_connections()
    await busy.control.set_price(busy.symbol, away(busy, -6))  # fills `resting` in the gap
    victim = next(o for o in server.exchange.orders if o.order_ref == cancelled.client_order_id)
    server.route(server.exchange.cancel(victim.client_id, victim.order_id))  # ends `cancelled`
    await wait_for(lambda: live.reconnects == 1, timeout=30, what="the reconnect")

    def status(coid: str) -> OrderStatus | None:
        updates = [e for e in events if isinstance(e, OrderUpdate) and e.client_order_id == coid]
        return updates[-1].status if updates else None

    await wait_for(
        lambda: (
            status(resting.client_order_id) is OrderStatus.FILLED
            and status(cancelled.client_order_id) is OrderStatus.CANCELLED
        ),
        timeout=30,
        what="reconciliation",
    )
    gap_fills = [e for e in events if isinstance(e, Fill) and e.client_order_id == resting.client_order_id]
    assert [f.quantity for f in gap_fills] == [busy.quantity]
    assert await busy.adapter.health_check()
    catch_up = sent(busy, In.REQ_EXECUTIONS)[executions_before:]
    assert catch_up and all(r[5] for r in catch_up)  # executions since the gap, not the day's
    completed, unfiltered = history_requests(busy)
    assert (completed - before[0], unfiltered - before[1]) == (1, 0)  # once, for the cancelled one


async def test_a_reconnect_before_any_fill_reads_only_since_the_session_began(busy: HarnessSession) -> None:
    live = adapter(busy)
    control(busy).server.drop_connections()
    await wait_for(lambda: live.reconnects == 1 and not live._gap_open, timeout=30, what="the catch-up")
    catch_up = sent(busy, In.REQ_EXECUTIONS)
    assert catch_up and all(r[5] for r in catch_up)
    assert history_requests(busy) == (0, 0)
    assert await busy.adapter.get_order("earlier-5") is not None  # the day is still there when asked


# ----------------------------------------------------------------------------- the local TWS


async def completed_answer(raw: RawTwsClient) -> list[list[str]]:
    await raw.send([In.REQ_COMPLETED_ORDERS, "0"])
    messages = []
    while (fields := await raw.receive())[0] != str(int(Out.COMPLETED_ORDERS_END)):
        if fields[0] == str(int(Out.COMPLETED_ORDER)):
            messages.append(fields)
    return messages


async def test_the_tws_sends_each_completed_order_as_encoded_fresh_also_after_a_change(
    anyio_backend: str,
) -> None:
    async with running_tws() as tws:
        add_history(tws.exchange, 3)
        fresh = [decode_payload(encode_message(m.completed_order(o))[4:]) for o in tws.exchange.orders]
        async with raw_tws_client(tws.port, client_id=3) as raw:
            assert await completed_answer(raw) == fresh
            assert await completed_answer(raw) == fresh  # from the kept encoding
            tws.exchange.orders[1].completed_status = "changed"
            tws.exchange.orders[1].status = "Cancelled"
            again = await completed_answer(raw)
        assert again[1] == decode_payload(encode_message(m.completed_order(tws.exchange.orders[1]))[4:])
        assert again[1] != fresh[1] and again[0] == fresh[0]


async def test_the_tws_filters_executions_by_time(anyio_backend: str) -> None:
    async with running_tws() as tws:
        add_history(tws.exchange, 4)
        tws.exchange.executions[2].time = tws.exchange.executions[3].time = "20261201 10:15:00 UTC"

        async def execution_ids(since: str) -> list[str]:
            await raw.send([In.REQ_EXECUTIONS, 3, 5, 0, "", since, "", "", "", ""])
            ids = []
            while (fields := await raw.receive())[0] != str(int(Out.EXECUTION_DATA_END)):
                if fields[0] == str(int(Out.EXECUTION_DATA)):
                    ids.append(fields[14])
            return ids

        everything = [e.exec_id for e in tws.exchange.executions]
        async with raw_tws_client(tws.port, client_id=3) as raw:
            assert await execution_ids("") == everything
            assert await execution_ids("20261201-10:15:00") == everything[2:]  # from then on
            assert await execution_ids("20261201-10:15:01") == []


async def test_a_shared_request_serves_waiters_only_with_an_answer_begun_after_they_asked() -> None:
    asked = 0
    release = anyio.Event()

    async def ask() -> int:
        nonlocal asked
        asked += 1
        await release.wait()
        return asked

    shared = SharedRequest(ask)
    answers: list[int] = []

    async def get(mark: int | None = None) -> None:
        answers.append(await shared.get(mark))

    async with anyio.create_task_group() as tg:
        tg.start_soon(get)  # begins request 1
        await wait_for(lambda: asked == 1)
        early = shared.mark()  # taken while request 1 runs: request 1 began before it
        tg.start_soon(get, early)
        tg.start_soon(get, early)
        await anyio.sleep(0.01)
        release.set()
    assert sorted(answers) == [1, 2, 2] and asked == 2
    assert await shared.get(early) == 2  # request 2 began after `early`: kept and reused
