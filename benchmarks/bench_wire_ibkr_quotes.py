"""Benchmark (IBKR live quotes): a price move at the local TWS -> the Quote out of the adapter's
``quotes()`` stream, against a hand-framed REQ_MKT_DATA on a raw socket and the library alone.

The TWS runs in the benchmark's own event loop, so a move can be timed from the moment it is
made: ``set_price`` writes the ticks, and each subscriber is timed until it sees the new bid.
Raw: the TICK_PRICE for the bid, read off the socket.  Library: the ticker's ``updateEvent``
showing the bid.  Adapter: the :class:`~autotrader.model.Quote` at the new mid.  The three run
one after the other on the same moves (one tick up or down every ``--interval`` seconds).

No target: the figure to watch is the adapter over the library, the cost of turning ticks into
quote-stream items; the library over raw is the client library's own decoding and event cost.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import anyio
from _common import header, percentile, report

from autotrader_ibkr.adapter import IbkrAdapter
from autotrader_ibkr.compat import IB, LIBRARY, Contract
from autotrader_ibkr.config import IbkrConfig
from autotrader_ibkr.tws import TwsServer, running_tws
from autotrader_ibkr.tws.raw_client import raw_tws_client
from autotrader_ibkr.tws.wire import In, Out

AAPL = 265598
START = Decimal("100.00")
TICK = Decimal("0.01")

Move = Callable[[int], Awaitable[float]]
"""Make move number ``i`` and return how long until the subscriber saw it."""


def price_at(i: int) -> Decimal:
    return START + TICK * (i % 2)


async def timed_moves(
    tws: TwsServer, n: int, interval: float, seen: Callable[[Decimal], Awaitable[None]]
) -> list[float]:
    times = []
    for i in range(1, n + 1):
        price = price_at(i)
        started = time.perf_counter()
        tws.set_price(AAPL, price)
        with anyio.fail_after(5):
            await seen(price - TICK)  # the bid, one tick under the price
        times.append(time.perf_counter() - started)
        await anyio.sleep(interval)
    return times


async def raw_moves(tws: TwsServer, n: int, interval: float) -> list[float]:
    async with raw_tws_client(tws.port, client_id=31) as raw:
        contract = [AAPL, "", "", "", "0.0", "", "", "SMART", "", "", "", ""]
        await raw.send([In.REQ_MKT_DATA, 11, 1, *contract, False, "", False, False, ""])
        tick_price = str(int(Out.TICK_PRICE))

        async def seen(bid: Decimal) -> None:
            await raw.until(lambda f: f[0] == tick_price and f[3] == "1" and Decimal(f[4]) == bid)

        times = await timed_moves(tws, n, interval, seen)
        await raw.send([In.CANCEL_MKT_DATA, 2, 1])
        return times


async def library_moves(tws: TwsServer, n: int, interval: float) -> list[float]:
    ib = IB()
    await ib.connectAsync("127.0.0.1", tws.port, clientId=32, timeout=5)
    try:
        ticker = ib.reqMktData(Contract(conId=AAPL, exchange="SMART"), "", False, False)
        updated = anyio.Event()

        def on_update(_: Any) -> None:
            updated.set()

        ticker.updateEvent += on_update

        async def seen(bid: Decimal) -> None:
            nonlocal updated
            while ticker.bid != float(bid):
                updated = anyio.Event()
                await updated.wait()

        times = await timed_moves(tws, n, interval, seen)
        ib.cancelMktData(ticker.contract)
        return times
    finally:
        ib.disconnect()


async def adapter_moves(tws: TwsServer, n: int, interval: float) -> list[float]:
    adapter = IbkrAdapter(IbkrConfig(port=tws.port, client_id=33, instruments={"AAPL": "STK"}))
    await adapter.connect()
    try:
        async with adapter.quotes(["AAPL"]) as stream:

            async def seen(bid: Decimal) -> None:
                async for quote in stream:
                    if quote.bid == bid:
                        return

            return await timed_moves(tws, n, interval, seen)
    finally:
        await adapter.disconnect()


async def measure(n: int, interval: float) -> dict[str, list[float]]:
    async with running_tws() as tws:
        tws.set_price(AAPL, START)
        await raw_moves(tws, 20, interval)  # warm up
        return {
            "raw": await raw_moves(tws, n, interval),
            "library": await library_moves(tws, n, interval),
            "adapter": await adapter_moves(tws, n, interval),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--moves", type=int, default=300)
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between moves")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    header(f"live quotes: IBKR adapter ({LIBRARY}) vs library vs raw TWS socket, loopback")
    times = anyio.run(measure, args.moves, args.interval)
    medians = {name: statistics.median(values) for name, values in times.items()}
    report("ibkr quotes raw move -> TICK_PRICE, median", medians["raw"] * 1e6, "us", "", None)
    report(f"ibkr quotes {LIBRARY} alone move -> ticker, median", medians["library"] * 1e6, "us", "", None)
    report("ibkr quotes adapter move -> Quote, median", medians["adapter"] * 1e6, "us", "", None)
    report("ibkr quotes adapter move -> Quote, p99", percentile(times["adapter"], 99) * 1e6, "us", "", None)
    report("ibkr quotes adapter / library alone", medians["adapter"] / medians["library"], "x", "", None)
    report(f"ibkr quotes {LIBRARY} alone / raw", medians["library"] / medians["raw"], "x", "", None)


if __name__ == "__main__":
    main()
