"""The guard in conftest.py sees python-binance's complaints about messages it could not read."""

from __future__ import annotations

import asyncio
import json

import pytest
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
        connection.queue.put_nowait(frame)  # straight onto the wire, as a broken venue would send it
    found = await _complaint(undecodable_messages)
    assert any(complaint in line for line in found), found
