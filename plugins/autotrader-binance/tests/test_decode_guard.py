"""The guard in conftest.py sees python-binance's complaints about messages it could not read."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal as D

import pytest
from autotrader.model import Fill, OrderRequest, OrderSide, OrderType
from autotrader.testing.harness import HarnessSession

from autotrader_binance.harness import BinanceVenueControl
from conftest import UndecodableMessages

pytestmark = pytest.mark.anyio


async def _complaint(guard: UndecodableMessages) -> list[str]:
    for _ in range(200):
        if guard.complaints:
            break
        await asyncio.sleep(0.01)
    found, guard.complaints = guard.complaints, []  # seen: this test expects them
    return found


@pytest.mark.parametrize(
    ("frame", "complaint"),
    [
        ("this is not JSON", "JSON Value Error parsing message"),
        (json.dumps({"id": "nobody-asked", "status": 200, "result": {}}), "unknown message"),
    ],
)
async def test_a_message_the_library_cannot_read_is_caught(
    session: HarnessSession, undecodable_messages: UndecodableMessages, frame: str, complaint: str
) -> None:
    assert isinstance(session.control, BinanceVenueControl)
    for connection in session.control.venue.ws.sessions:
        connection.outbox.send_text(frame)  # straight onto the wire, as a broken venue would send it
    found = await _complaint(undecodable_messages)
    assert any(complaint in line for line in found), found


async def test_the_stream_recovers_from_a_frame_that_stopped_the_librarys_reader(
    session: HarnessSession, undecodable_messages: UndecodableMessages
) -> None:
    """An undecodable frame stops python-binance's reader for good: the adapter must notice, open a
    new connection, subscribe again and reconcile, or no fill would ever arrive again."""
    assert isinstance(session.control, BinanceVenueControl)
    adapter = session.adapter
    fills: list[Fill] = []
    adapter.add_listener(lambda event: fills.append(event) if isinstance(event, Fill) else None)
    order = OrderRequest(
        "after-garbage", "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, D("0.01"), price=D("49000")
    )
    await adapter.submit_order(order)
    for connection in session.control.venue.ws.sessions:
        connection.outbox.send_text("}{ not JSON")
    assert await _complaint(undecodable_messages)
    await session.control.set_price("BTCUSDT", D("48000.00"))  # fills while the reader is down
    for _ in range(1000):
        if fills:
            break
        await asyncio.sleep(0.01)
    assert [f.client_order_id for f in fills] == ["after-garbage"]
    stream = adapter.user_stream  # type: ignore[attr-defined]
    assert stream is not None and stream.resubscriptions == 1
