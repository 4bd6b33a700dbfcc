"""Benchmark 4 (Binance): the adapter's submit -> ack and submit -> fill event over loopback,
against a raw aiohttp request with the same signed body to the same local Binance venue.

Both sides send ``POST /api/v3/order`` (MARKET, ``newOrderRespType=FULL``) signed with HMAC-SHA256
over the same parameters, and both listen on a WebSocket API user data stream subscription for
the order's ``executionReport`` TRADE.  The adapter delivers the fills of the FULL answer before
it returns the ack, so its first fill event comes with the ack; the stream's copy is reported on
its own line.

The client library alone is measured too, as bench_wire_ibkr.py does for ib_async: the unmodified
python-binance ``AsyncClient.create_order``, with its own ``user_socket()`` subscription read on
the same loop (a program on python-binance has its user data stream there), no adapter.  That
ratio is the library's floor; the adapter replaces parts of the library's WebSocket API reading
(see ``autotrader_binance.wsapi``), which is why it can come in under it.

Target: submit -> ack at most 1.3x the raw request.
Run: ``python benchmarks/bench_wire_binance.py [--orders N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import logging
import statistics
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
from _common import header, percentile, report
from binance import AsyncClient
from binance.ws.streams import BinanceSocketManager

from autotrader.adapter import ExecutionEvent
from autotrader.model import Fill, OrderRequest, OrderSide, OrderType
from autotrader_binance.adapter import BinanceAdapter
from autotrader_binance.client import close_client
from autotrader_binance.harness import local_config
from autotrader_binance.venue import DEFAULT_API_KEY, DEFAULT_API_SECRET, BinanceVenue, RateLimits

SYMBOL = "BTCUSDT"
QUANTITY = "0.01"
RECV_WINDOW = 5000


def _sign(payload: str) -> str:
    return hmac.new(DEFAULT_API_SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signed_body(params: dict[str, str]) -> str:
    """The body python-binance sends: parameters sorted by name, timestamp, recvWindow, signature."""
    fields = {**params, "recvWindow": str(RECV_WINDOW), "timestamp": str(int(time.time() * 1000))}
    query = urlencode(sorted(fields.items()))
    return f"{query}&signature={_sign(query)}"


async def _subscribe(ws: aiohttp.ClientWebSocketResponse) -> None:
    params = {"apiKey": DEFAULT_API_KEY, "timestamp": int(time.time() * 1000)}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    request = {
        "id": "s",
        "method": "userDataStream.subscribe.signature",
        "params": {**params, "signature": _sign(payload)},
    }
    await ws.send_str(json.dumps(request))
    answer = json.loads((await ws.receive()).data)
    assert answer["status"] == 200, answer


async def raw_round_trips(venue: BinanceVenue, n: int, prefix: str) -> tuple[list[float], list[float]]:
    acks, fills = [], []
    headers = {"X-MBX-APIKEY": DEFAULT_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}
    url = venue.rest_url + "/v3/order"
    async with aiohttp.ClientSession() as http, http.ws_connect(venue.ws_api_url) as ws:
        await _subscribe(ws)
        for i in range(n):
            cid = f"{prefix}{i}"
            params = {
                "symbol": SYMBOL,
                "side": "BUY" if i % 2 == 0 else "SELL",
                "type": "MARKET",
                "quantity": QUANTITY,
                "newClientOrderId": cid,
                "newOrderRespType": "FULL",
            }
            started = time.perf_counter()
            async with http.post(url, data=signed_body(params), headers=headers) as response:
                body = await response.json()
            acks.append(time.perf_counter() - started)
            assert response.status == 200 and body["status"] == "FILLED", body
            while True:
                event = json.loads((await ws.receive()).data)["event"]
                if event.get("e") == "executionReport" and event["x"] == "TRADE" and event["c"] == cid:
                    fills.append(time.perf_counter() - started)
                    break
    return acks, fills


async def library_round_trips(venue: BinanceVenue, n: int, prefix: str) -> tuple[list[float], list[float]]:
    """python-binance alone: the stock ``AsyncClient`` and its ``user_socket()``, no adapter."""
    urls = {"API_URL": venue.rest_url, "WS_API_URL": venue.ws_api_url, "REQUEST_RECVWINDOW": RECV_WINDOW}
    client = await type("LocalAsyncClient", (AsyncClient,), urls).create(DEFAULT_API_KEY, DEFAULT_API_SECRET)
    trades: dict[str, float] = {}
    arrived = asyncio.Event()

    async def read(socket: Any) -> None:
        while True:
            event = await socket.recv()
            if event.get("e") == "executionReport" and event["x"] == "TRADE":
                trades[event["c"]] = time.perf_counter()
                arrived.set()

    acks, fills = [], []
    try:
        async with BinanceSocketManager(client).user_socket() as socket:
            reader = asyncio.create_task(read(socket))
            for i in range(n):
                cid = f"{prefix}{i}"
                side = "BUY" if i % 2 == 0 else "SELL"
                started = time.perf_counter()
                answer = await client.create_order(
                    symbol=SYMBOL,
                    side=side,
                    type="MARKET",
                    quantity=QUANTITY,
                    newClientOrderId=cid,
                    newOrderRespType="FULL",
                )
                acks.append(time.perf_counter() - started)
                assert answer["status"] == "FILLED", answer
                while cid not in trades:
                    arrived.clear()
                    await asyncio.wait_for(arrived.wait(), 5)
                fills.append(trades[cid] - started)
            reader.cancel()
    finally:
        await close_client(client)
    return acks, fills


async def adapter_round_trips(venue: BinanceVenue, n: int) -> tuple[list[float], list[float], list[float]]:
    adapter = BinanceAdapter(local_config(venue, recv_window=RECV_WINDOW))
    await adapter.connect()
    seen: dict[str, list[float]] = {}
    arrived = asyncio.Event()

    def on_event(event: ExecutionEvent) -> None:
        if isinstance(event, Fill):
            seen.setdefault(event.client_order_id, []).append(time.perf_counter())
            arrived.set()

    adapter.add_listener(on_event)
    acks, first_fills, stream_fills = [], [], []
    try:
        for i in range(n):
            cid = f"ad{i}"
            side = OrderSide.BUY if i % 2 == 0 else OrderSide.SELL
            started = time.perf_counter()
            await adapter.submit_order(OrderRequest(cid, SYMBOL, side, OrderType.MARKET, Decimal(QUANTITY)))
            acks.append(time.perf_counter() - started)
            while len(seen.get(cid, ())) < 2:  # the answer's fill, then the stream's
                arrived.clear()
                await asyncio.wait_for(arrived.wait(), 5)
            first_fills.append(seen[cid][0] - started)
            stream_fills.append(seen[cid][1] - started)
    finally:
        await adapter.disconnect()
    return acks, first_fills, stream_fills


async def measure(n: int) -> None:
    limits = RateLimits(orders_per_10s=10**9, orders_per_day=10**9, weight_per_minute=10**9)
    async with BinanceVenue(limits=limits) as venue:
        await raw_round_trips(venue, 20, "warm")
        raw_acks, raw_fills = await raw_round_trips(venue, n, "raw")
        await library_round_trips(venue, 20, "lwarm")
        library_acks, library_fills = await library_round_trips(venue, n, "lib")
        await adapter_round_trips(venue, 20)
        acks, first_fills, stream_fills = await adapter_round_trips(venue, n)
    med = statistics.median
    us = 1e6
    report("binance raw aiohttp submit -> ack, median", med(raw_acks) * us, "us", "", None)
    report("binance raw submit -> stream TRADE, median", med(raw_fills) * us, "us", "", None)
    report("binance python-binance alone create_order -> ack, median", med(library_acks) * us, "us", "", None)
    report("binance python-binance alone -> stream TRADE, median", med(library_fills) * us, "us", "", None)
    library_ratio = med(library_acks) / med(raw_acks)
    report("binance python-binance alone / raw request (library floor)", library_ratio, "x", "", None)
    report("binance adapter submit -> ack, median", med(acks) * us, "us", "", None)
    report("binance adapter submit -> ack, p99", percentile(acks, 99) * us, "us", "", None)
    report("binance adapter submit -> first fill event, median", med(first_fills) * us, "us", "", None)
    report("binance adapter submit -> stream fill event, median", med(stream_fills) * us, "us", "", None)
    stream_ratio = med(stream_fills) / med(raw_fills)
    report("binance stream fill event / raw stream TRADE", stream_ratio, "x", "", None)
    ratio = med(acks) / med(raw_acks)
    report("binance submit -> ack / raw request", ratio, "x", "<= 1.3", ratio <= 1.3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=300)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    header("wire overhead: Binance adapter (python-binance) vs raw aiohttp, loopback")
    asyncio.run(measure(args.orders))


if __name__ == "__main__":
    main()
