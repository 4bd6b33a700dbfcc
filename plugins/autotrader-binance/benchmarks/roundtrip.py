"""Order round trip over loopback: the adapter (python-binance) against raw aiohttp, same venue.

Measures submit -> ack (the REST answer) and submit -> fill event (the executionReport TRADE on
the user data stream), median of N, and prints adapter/raw ratios.
Run: ``python benchmarks/roundtrip.py [N]``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import statistics
import sys
import time
from decimal import Decimal
from urllib.parse import urlencode

import aiohttp
from autotrader.model import Fill, OrderRequest, OrderSide, OrderType

from autotrader_binance.adapter import BinanceAdapter
from autotrader_binance.config import BinanceConfig
from autotrader_binance.venue import DEFAULT_API_KEY, DEFAULT_API_SECRET, BinanceVenue, RateLimits


def _signed(params: dict[str, str]) -> str:
    query = urlencode({**params, "timestamp": str(int(time.time() * 1000))})
    signature = hmac.new(DEFAULT_API_SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{query}&signature={signature}"


async def raw_round_trips(venue: BinanceVenue, n: int) -> tuple[list[float], list[float]]:
    acks, fills = [], []
    headers = {"X-MBX-APIKEY": DEFAULT_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession() as http, http.ws_connect(venue.ws_api_url) as ws:
        ts = str(int(time.time() * 1000))
        payload = f"apiKey={DEFAULT_API_KEY}&timestamp={ts}"
        sig = hmac.new(DEFAULT_API_SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
        params = {"apiKey": DEFAULT_API_KEY, "timestamp": ts, "signature": sig}
        await ws.send_str(
            json.dumps({"id": "s", "method": "userDataStream.subscribe.signature", "params": params})
        )
        await ws.receive()
        url = venue.rest_url + "/v3/order"
        for i in range(n):
            side = "BUY" if i % 2 == 0 else "SELL"
            body = _signed(
                {
                    "symbol": "BTCUSDT",
                    "side": side,
                    "type": "MARKET",
                    "quantity": "0.01",
                    "newClientOrderId": f"raw-{i}",
                    "newOrderRespType": "FULL",
                }
            )
            start = time.perf_counter()
            async with http.post(url, data=body, headers=headers) as response:
                await response.read()
            acks.append(time.perf_counter() - start)
            while True:
                event = json.loads((await ws.receive()).data)["event"]
                if event.get("e") == "executionReport" and event["x"] == "TRADE" and event["c"] == f"raw-{i}":
                    fills.append(time.perf_counter() - start)
                    break
    return acks, fills


async def adapter_round_trips(venue: BinanceVenue, n: int) -> tuple[list[float], list[float]]:
    adapter = BinanceAdapter(
        BinanceConfig(
            api_key=DEFAULT_API_KEY,
            api_secret=DEFAULT_API_SECRET,
            api_url=venue.rest_url,
            ws_api_url=venue.ws_api_url,
        )
    )
    await adapter.connect()
    filled: dict[str, float] = {}
    arrived = asyncio.Event()

    def on_event(event: object) -> None:
        if isinstance(event, Fill):
            filled.setdefault(event.client_order_id, time.perf_counter())
            arrived.set()

    adapter.add_listener(on_event)
    acks, fills = [], []
    try:
        for i in range(n):
            side = OrderSide.BUY if i % 2 == 0 else OrderSide.SELL
            cid = f"ad-{i}"
            start = time.perf_counter()
            await adapter.submit_order(OrderRequest(cid, "BTCUSDT", side, OrderType.MARKET, Decimal("0.01")))
            acks.append(time.perf_counter() - start)
            while cid not in filled:
                arrived.clear()
                await arrived.wait()
            fills.append(filled[cid] - start)
    finally:
        await adapter.disconnect()
    return acks, fills


async def main(n: int) -> None:
    async with BinanceVenue(limits=RateLimits(orders_per_10s=100000, weight_per_minute=10**9)) as venue:
        await raw_round_trips(venue, 20)  # warm-up
        raw_ack, raw_fill = await raw_round_trips(venue, n)
        ad_ack, ad_fill = await adapter_round_trips(venue, n)
    med = statistics.median
    print(f"N={n} median, loopback")
    print(
        f"submit->ack        raw {med(raw_ack) * 1e3:7.3f} ms  adapter {med(ad_ack) * 1e3:7.3f} ms  "
        f"ratio {med(ad_ack) / med(raw_ack):5.2f}"
    )
    print(
        f"submit->fill event raw {med(raw_fill) * 1e3:7.3f} ms  adapter {med(ad_fill) * 1e3:7.3f} ms  "
        f"ratio {med(ad_fill) / med(raw_fill):5.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
