"""The transaction stream thread over the real oandapyV20 stream, against the bare venue."""

from __future__ import annotations

import threading
from typing import Any

from oandapyV20 import oandapyV20 as v20
from oandapyV20.endpoints.orders import OrderCreate

from autotrader_oanda.client import V20Client
from autotrader_oanda.feedthread import STREAM_READ_SIZE
from autotrader_oanda.stream import TransactionFeed
from autotrader_oanda.venue import VenueServer


def test_a_line_is_handed_over_when_its_chunk_arrives_not_when_a_read_fills(
    client: V20Client, venue: VenueServer
) -> None:
    delivered: list[dict[str, Any]] = []
    filled = threading.Event()

    def deliver(transactions: list[dict[str, Any]]) -> None:
        delivered.extend(transactions)
        if any(t["type"] == "ORDER_FILL" for t in transactions):
            filled.set()

    account = venue.exchange.account_id
    feed = TransactionFeed(
        client,
        account,
        last_id=venue.call(lambda: venue.exchange.last_id),
        deliver=deliver,
        read_timeout=5.0,
        reconnect_initial=0.1,
        reconnect_max=1.0,
    )
    feed.start()
    try:
        assert feed.connected.wait(5)
        assert v20.ITER_LINES_CHUNKSIZE >= STREAM_READ_SIZE
        body = {"order": {"type": "MARKET", "instrument": "EUR_USD", "units": "10", "timeInForce": "FOK"}}
        client.request(OrderCreate(account, data=body), mutating=True)
        # 16 KiB of the venue's 0.1 s heartbeats would take ~20 s: the fill must not wait for them
        assert filled.wait(1.0)
        assert [t["type"] for t in delivered] == ["MARKET_ORDER", "ORDER_FILL"]
        assert feed.connects == 1
    finally:
        feed.stop()
        feed.join(2)
