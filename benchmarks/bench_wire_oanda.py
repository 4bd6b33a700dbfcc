"""Benchmark 4 (OANDA): the adapter's submit -> ack and submit -> fill event over loopback,
against a raw HTTP request with the same body to the same local v20 venue.

Target: submit -> ack at most 1.3x the raw request (a default ``requests.Session``, on the main
thread, no transaction stream open).

The venue runs in a process of its own (``python -m autotrader_oanda.venue``), as OANDA's servers
and the IBKR benchmark's TWS do.  In the benchmark's own process, its work for the adapter's
transaction stream (the one side that has a stream open) competed with the client for the GIL:
the adapter measured 1.41x with its stream and 1.13x without it, against 1.21x for oandapyV20
alone.

The machine is shared, and a burst of someone else's load that lands on one half of the run
skews the ratio; so the sides take turns, in blocks (``--blocks``), each block starting fresh
(new session, adapter connected anew) and dropping its first few requests, and the medians are
over all blocks.

Three more lines, for reading the target, not instead of it:

* the raw request from a session that reads requests' environment settings once
  (``trust_env`` off), as the adapter's REST sessions do: how much of the gap is the adapter's
  own work rather than requests' per-request environment lookups;
* oandapyV20 alone: ``API.request`` in a worker thread (``anyio.to_thread``), no adapter and no
  stream, the way the library runs under an event loop out of the box;
* the raw request in a worker thread: what the hop to a thread and back costs by itself.  A
  blocking library (oandapyV20 is built on requests) cannot run on the event loop's thread, so
  that hop is part of every figure built on it.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import logging
import secrets
import statistics
import subprocess
import time
from decimal import Decimal

import anyio
import anyio.to_thread
import requests
from _common import header, percentile, report, start_server
from oandapyV20 import API
from oandapyV20.endpoints.orders import OrderCreate

from autotrader.credentials import Secret
from autotrader.model import Fill, OrderRequest, OrderSide, OrderType
from autotrader_oanda.adapter import OandaAdapter
from autotrader_oanda.config import OandaConfig
from autotrader_oanda.environments import register_environment

ACCOUNT = "101-001-0000001-001"
"""The venue's account (``--account``)."""
WARM_UP = 5
"""Requests each block sends before it measures (a new connection, cold caches)."""


async def adapter_round_trips(
    venue: Venue, token: str, n: int, block: int
) -> tuple[list[float], list[float]]:
    config = OandaConfig(
        account_id=venue.account,
        access_token=Secret(token),
        environment=f"bench-{venue.port}",
        api_url=venue.url,
        stream_url=venue.url,
    )
    adapter = OandaAdapter(config)
    await adapter.connect()
    fill_seen = anyio.Event()
    adapter.add_listener(lambda event: fill_seen.set() if isinstance(event, Fill) else None)
    acks, fills = [], []
    for i in range(WARM_UP + n):
        side = OrderSide.BUY if i % 2 else OrderSide.SELL
        fill_seen = anyio.Event()
        request = OrderRequest(f"b{block}-{i}", "EUR_USD", side, OrderType.MARKET, Decimal(1000))
        started = time.perf_counter()
        await adapter.submit_order(request)
        acks.append(time.perf_counter() - started)
        with anyio.fail_after(5):
            await fill_seen.wait()
        fills.append(time.perf_counter() - started)
    await adapter.disconnect()
    return acks[WARM_UP:], fills[WARM_UP:]


@dataclasses.dataclass(frozen=True)
class Venue:
    """Where the local v20 venue listens, and its account."""

    url: str
    port: int
    account: str = ACCOUNT


def start_venue(token: str) -> tuple[subprocess.Popen[str], Venue]:
    """The local v20 venue in a process of its own (``python -m autotrader_oanda.venue``)."""
    args = ("--token", token, "--account", ACCOUNT, "--heartbeat", "0.25")
    process, url = start_server("autotrader_oanda.venue", *args)
    return process, Venue(url, int(url.rsplit(":", 1)[1]))


def market_body(i: int, prefix: str) -> dict[str, dict[str, object]]:
    return {
        "order": {
            "type": "MARKET",
            "instrument": "EUR_USD",
            "units": "1000" if i % 2 else "-1000",
            "timeInForce": "FOK",
            "clientExtensions": {"id": f"{prefix}{i}"},
        }
    }


def raw_round_trips(venue: Venue, token: str, n: int, block: int, *, trust_env: bool = True) -> list[float]:
    session = requests.Session()
    session.trust_env = trust_env
    url = f"{venue.url}/v3/accounts/{venue.account}/orders"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    prefix = f"raw{block}-" if trust_env else f"rawenv{block}-"
    times = []
    for i in range(WARM_UP + n):
        body = market_body(i, prefix)
        started = time.perf_counter()
        response = session.post(url, json=body, headers=headers, timeout=5)
        times.append(time.perf_counter() - started)
        assert response.status_code == 201, response.text
    return times[WARM_UP:]


async def raw_threaded_round_trips(venue: Venue, token: str, n: int, block: int) -> list[float]:
    """The raw request (a default session) in a worker thread: the thread hop's share."""
    session = requests.Session()
    url = f"{venue.url}/v3/accounts/{venue.account}/orders"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    times = []
    for i in range(WARM_UP + n):
        body = market_body(i, f"rawthread{block}-")
        started = time.perf_counter()
        response = await anyio.to_thread.run_sync(
            functools.partial(session.post, url, json=body, headers=headers, timeout=5)
        )
        times.append(time.perf_counter() - started)
        assert response.status_code == 201, response.text
    session.close()
    return times[WARM_UP:]


async def library_round_trips(venue: Venue, token: str, n: int, block: int) -> list[float]:
    """oandapyV20 alone: ``API.request(OrderCreate)`` in a worker thread, no adapter, no stream."""
    environment = f"bench-lib-{venue.port}"
    register_environment(environment, venue.url, venue.url)
    api = API(access_token=token, environment=environment, request_params={"timeout": 5})
    account = venue.account
    times = []
    for i in range(WARM_UP + n):
        endpoint = OrderCreate(account, data=market_body(i, f"lib{block}-"))
        started = time.perf_counter()
        await anyio.to_thread.run_sync(api.request, endpoint)
        times.append(time.perf_counter() - started)
    api.close()
    return times[WARM_UP:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=300, help="measured orders per side")
    parser.add_argument("--blocks", type=int, default=5, help="turns each side takes")
    args = parser.parse_args()
    per_block = max(1, args.orders // args.blocks)
    logging.disable(logging.WARNING)
    header("wire overhead: OANDA adapter vs raw HTTP, loopback")
    token = secrets.token_urlsafe(16)
    process, venue = start_venue(token)
    try:
        raw_round_trips(venue, token, 20, -1)  # warm up
        raw: list[float] = []
        raw_env_once: list[float] = []
        library: list[float] = []
        threaded: list[float] = []
        acks: list[float] = []
        fills: list[float] = []
        for block in range(args.blocks):
            raw += raw_round_trips(venue, token, per_block, block)
            raw_env_once += raw_round_trips(venue, token, per_block, block, trust_env=False)
            threaded += anyio.run(raw_threaded_round_trips, venue, token, per_block, block)
            library += anyio.run(library_round_trips, venue, token, per_block, block)
            block_acks, block_fills = anyio.run(adapter_round_trips, venue, token, per_block, block)
            acks += block_acks
            fills += block_fills
    finally:
        process.terminate()
        process.wait(timeout=10)
    raw_median, ack_median = statistics.median(raw), statistics.median(acks)
    env_once_median, library_median = statistics.median(raw_env_once), statistics.median(library)
    report("oanda raw HTTP submit, median", raw_median * 1e6, "us", "", None)
    report("oanda raw HTTP submit, environment read once, median", env_once_median * 1e6, "us", "", None)
    report(
        "oanda raw HTTP submit in a worker thread, median", statistics.median(threaded) * 1e6, "us", "", None
    )
    report("oanda oandapyV20 alone, worker thread, median", library_median * 1e6, "us", "", None)
    report("oanda adapter submit -> ack, median", ack_median * 1e6, "us", "", None)
    report("oanda adapter submit -> ack, p99", percentile(acks, 99) * 1e6, "us", "", None)
    report("oanda adapter submit -> fill event, median", statistics.median(fills) * 1e6, "us", "", None)
    ratio = ack_median / raw_median
    report("oanda submit -> ack / raw request", ratio, "x", "<= 1.3", ratio <= 1.3)
    env_once_ratio = ack_median / env_once_median
    report("oanda submit -> ack / raw request, environment read once", env_once_ratio, "x", "", None)
    report("oanda oandapyV20 alone / raw request", library_median / raw_median, "x", "", None)
    threaded_ratio = statistics.median(threaded) / raw_median
    report("oanda raw request in a worker thread / raw request", threaded_ratio, "x", "", None)


if __name__ == "__main__":
    main()
