"""Benchmark (IBKR): a busy day.  Connect, reconnect and lookups against a local TWS that already
holds N completed orders and executions (TWS sends all of them for an unfiltered request).

For each N: ``connect()``; ``get_order`` of an order of an earlier session (a completed-orders
request), of the same again (the kept answer) and of one TWS never had (completed orders, then
executions); and a dropped socket until the reconnect's reconciliation is done.

Target: connect and reconnect do not grow with the day -- at the largest N each takes at most
3x its time at the smallest (they used to be ~0.25 ms per completed order, and a reconnect
storm once the answer outgrew the connect timeout).  The missing-order lookup must read the
whole day once and is reported, not judged.
"""

from __future__ import annotations

import argparse
import logging

import anyio
from _common import header, now, report

from autotrader_ibkr.adapter import IbkrAdapter
from autotrader_ibkr.config import IbkrConfig
from autotrader_ibkr.harness import add_history, connection_settings, prepare
from autotrader_ibkr.tws import Exchange, TwsFaults, TwsServer, running_tws


async def measure(history: int) -> dict[str, float]:
    server = TwsServer(Exchange(), faults=TwsFaults(outage_seconds=0.0))
    async with running_tws(server) as tws:
        prepare(tws)
        add_history(tws.exchange, history)
        settings = {**connection_settings(tws, 1, request_timeout=60.0), "connect_timeout": 60.0}
        adapter = IbkrAdapter(IbkrConfig(**settings))
        seconds = {}
        started = now()
        await adapter.connect()
        seconds["connect"] = now() - started
        for name, coid in (("earlier", "earlier-1"), ("kept", "earlier-2"), ("missing", "never-sent")):
            started = now()
            await adapter.get_order(coid)
            seconds[name] = now() - started
        started = now()
        tws.drop_connections(0.0)
        while adapter.reconnects == 0 or adapter._gap_open:  # noqa: ASYNC110 - polling the adapter
            await anyio.sleep(0.005)
        seconds["reconnect"] = now() - started
        await adapter.disconnect()
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 4000])
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    header("IBKR: a busy day (completed orders already at TWS)")
    results = {n: anyio.run(measure, n, backend="asyncio") for n in args.sizes}
    small, large = min(results), max(results)
    for n, seconds in results.items():
        report(f"ibkr connect, {n} completed orders at TWS", seconds["connect"] * 1e3, "ms", "", None)
        report(f"ibkr get_order of an earlier order, {n} at TWS", seconds["earlier"] * 1e3, "ms", "", None)
        report(f"ibkr get_order of it again (kept), {n} at TWS", seconds["kept"] * 1e3, "ms", "", None)
        report(f"ibkr get_order of a missing order, {n} at TWS", seconds["missing"] * 1e3, "ms", "", None)
        report(f"ibkr reconnect + reconcile, {n} at TWS", seconds["reconnect"] * 1e3, "ms", "", None)
    for figure in ("connect", "reconnect"):
        ratio = results[large][figure] / results[small][figure]
        report(f"ibkr {figure} at {large} / at {small} completed orders", ratio, "x", "<= 3", ratio <= 3)


if __name__ == "__main__":
    main()
