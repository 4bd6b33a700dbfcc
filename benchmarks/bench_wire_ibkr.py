"""Benchmark 4 (IBKR): the adapter's submit -> ack and submit -> fill event over loopback,
against a hand-framed PLACE_ORDER on a raw socket to the same local TWS.

The TWS runs as its own process (``python -m autotrader_ibkr.tws``), as a real TWS would.  Raw:
after the handshake, one framed PLACE_ORDER, timed until the ORDER_STATUS ``Submitted`` for its
order id (the ack) and until its COMMISSION_REPORT (the fill).  Adapter: ``submit_order`` until
it returns (the first ORDER_STATUS, ``Submitted``), and until the Fill event (its execution joined
with its commission report).  Both place AAPL market orders of 1 share, alternating sides, at
the same pace: one every ``--interval`` seconds, below IB's 50 messages/s and the libraries'
own throttle of 45/s, so neither side measures a rate cap.  The three take turns (``--rounds``,
each a fresh connection placing its share of the orders), so a load change on a shared machine
hits them alike instead of only the one running at the time.

The raw client reads every message TWS sends before the ORDER_STATUS (the OPEN_ORDER, which the
local TWS sends in the same write, as the acknowledgement): it splits it into fields like any
client, but builds nothing from it.

The client library alone (``placeOrder`` until its ``Submitted`` status, no adapter) is measured
too: it is the floor the adapter cannot go under, since the issue has it built on the library.
It is measured once more with the reprs of its order objects stubbed out, to show where that
floor comes from: both libraries log each order event with an f-string of the whole ``Trade``
(``placeOrder: New order {trade}``, ``orderStatus: {trade}``...), built whatever the log level,
and ``Order.__repr__`` alone walks ~150 fields.  That line reads the target; it is not the
adapter's figure, and the stub is undone before the adapter runs.

Target: submit -> ack at most 1.3x the raw round trip.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import statistics
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Final

import anyio
from _common import header, percentile, report, start_server

from autotrader.model import Fill, OrderRequest, OrderSide, OrderType
from autotrader_ibkr.adapter import IbkrAdapter
from autotrader_ibkr.compat import IB, LIBRARY, Contract, Order
from autotrader_ibkr.config import IbkrConfig
from autotrader_ibkr.tws.model import ACCOUNT
from autotrader_ibkr.tws.raw_client import RawTwsClient, raw_tws_client
from autotrader_ibkr.tws.wire import Field, In, Out

AAPL = 265598
PLACE_ORDER_FIELDS = 115
"""How many fields ib_async/ib_insync write for a plain order at version 176 (the rest are empty)."""


def place_order(order_id: int, side: str, ref: str) -> list[Field]:
    """PLACE_ORDER by hand: id, the 12 contract fields, secId type/id, then the order's own."""
    contract = [AAPL, "", "", "", "0.0", "", "", "SMART", "", "", "", ""]
    order = [side, 1, "MKT", "", "", "DAY", "", ACCOUNT, "O", 0, ref, 1]
    fields: list[Field] = [In.PLACE_ORDER, order_id, *contract, "", "", *order]
    return fields + [""] * (PLACE_ORDER_FIELDS - len(fields))


async def raw_round_trips(port: int, n: int, interval: float) -> tuple[list[float], list[float]]:
    acks, fills = [], []
    async with raw_tws_client(port, client_id=21) as raw:
        # the subscriptions the libraries make at start-up, so both get the same account traffic
        await raw.send([In.REQ_ACCT_DATA, 2, 1, ACCOUNT])
        await raw.send([In.REQ_POSITIONS, 1])
        await raw.until(lambda f: f[0] == str(int(Out.POSITION_END)))
        order_id = raw.next_order_id
        for i in range(n):
            side = "BUY" if i % 2 else "SELL"
            started = time.perf_counter()
            await raw.send(place_order(order_id, side, f"raw{i}"))
            await _until_status(raw, order_id)
            acks.append(time.perf_counter() - started)
            await raw.until(lambda f: f[0] == str(int(Out.COMMISSION_REPORT)))
            fills.append(time.perf_counter() - started)
            order_id += 1
            await anyio.sleep(interval)
    return acks, fills


async def _until_status(raw: RawTwsClient, order_id: int) -> None:
    status, oid = str(int(Out.ORDER_STATUS)), str(order_id)
    await raw.until(lambda f: f[0] == status and f[1] == oid and f[2] == "Submitted")


async def library_round_trips(port: int, n: int, interval: float) -> list[float]:
    """The client library alone (no adapter): ``placeOrder`` until its orderStatus ``Submitted``."""
    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=23, timeout=5)
    [details] = await ib.reqContractDetailsAsync(Contract(conId=AAPL, exchange="SMART"))
    acks = []
    try:
        for i in range(n):
            submitted = anyio.Event()

            def on_status(trade: Any, done: anyio.Event = submitted) -> None:
                if trade.orderStatus.status == "Submitted":
                    done.set()

            order = Order(
                action="BUY" if i % 2 else "SELL", totalQuantity=1, orderType="MKT", orderRef=f"l{i}"
            )
            started = time.perf_counter()
            trade = ib.placeOrder(details.contract, order)
            trade.statusEvent += on_status
            with anyio.fail_after(5):
                await submitted.wait()
            acks.append(time.perf_counter() - started)
            await anyio.sleep(interval)
    finally:
        ib.disconnect()
    return acks


_LOGGED_CLASSES: Final = (
    "Trade",
    "Order",
    "OrderStatus",
    "TradeLogEntry",
    "Contract",
    "Fill",
    "Execution",
    "CommissionReport",
)
"""The library's classes whose reprs its order-event log lines build."""


@contextlib.contextmanager
def reprs_stubbed() -> Iterator[None]:
    """The library's order objects with a constant repr, for the library's floor without them."""
    library = importlib.import_module(LIBRARY)
    classes = [getattr(library, name) for name in _LOGGED_CLASSES]
    saved = [
        (cls, {name: cls.__dict__[name] for name in ("__repr__", "__str__") if name in cls.__dict__})
        for cls in classes
    ]
    try:
        for cls in classes:
            cls.__repr__ = cls.__str__ = _stub_repr
        yield
    finally:
        for cls, own in saved:
            for name in ("__repr__", "__str__"):
                if name in own:
                    setattr(cls, name, own[name])
                else:
                    delattr(cls, name)


def _stub_repr(self: object) -> str:
    return type(self).__name__


async def adapter_round_trips(port: int, n: int, interval: float) -> tuple[list[float], list[float]]:
    adapter = IbkrAdapter(IbkrConfig(port=port, client_id=22, instruments={"AAPL": "STK"}))
    await adapter.connect()
    fill_seen = anyio.Event()

    def on_event(event: object) -> None:
        if isinstance(event, Fill):
            fill_seen.set()

    adapter.add_listener(on_event)
    acks, fills = [], []
    try:
        for i in range(n):
            side = OrderSide.BUY if i % 2 else OrderSide.SELL
            fill_seen = anyio.Event()
            started = time.perf_counter()
            await adapter.submit_order(OrderRequest(f"b{i}", "AAPL", side, OrderType.MARKET, Decimal(1)))
            acks.append(time.perf_counter() - started)
            with anyio.fail_after(5):
                await fill_seen.wait()
            fills.append(time.perf_counter() - started)
            await anyio.sleep(interval)
    finally:
        await adapter.disconnect()
    return acks, fills


def start_tws() -> tuple[subprocess.Popen[str], int]:
    """The local TWS in a process of its own, as a real TWS runs, and its port."""
    process, url = start_server("autotrader_ibkr.tws")
    return process, int(url.rsplit(":", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--interval", type=float, default=0.03, help="seconds between orders")
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="the three measurements take turns this many times (each round places orders/rounds "
        "per side), so a load change on a shared machine hits all three alike",
    )
    args = parser.parse_args()
    per_round = max(1, args.orders // args.rounds)
    logging.disable(logging.WARNING)
    header(f"wire overhead: IBKR adapter ({LIBRARY}) vs raw TWS socket, loopback")
    process, port = start_tws()
    try:
        anyio.run(raw_round_trips, port, 20, args.interval)  # warm up
        raw_acks: list[float] = []
        raw_fills: list[float] = []
        library: list[float] = []
        stubbed: list[float] = []
        acks: list[float] = []
        fills: list[float] = []
        for _round in range(args.rounds):
            raw = anyio.run(raw_round_trips, port, per_round, args.interval)
            library += anyio.run(library_round_trips, port, per_round, args.interval)
            with reprs_stubbed():
                stubbed += anyio.run(library_round_trips, port, per_round, args.interval)
            adapter = anyio.run(adapter_round_trips, port, per_round, args.interval)
            for into, got in zip((raw_acks, raw_fills, acks, fills), (*raw, *adapter), strict=True):
                into.extend(got)
    finally:
        process.terminate()
        process.wait(timeout=10)
    raw_median, ack_median = statistics.median(raw_acks), statistics.median(acks)
    report("ibkr raw PLACE_ORDER -> ORDER_STATUS, median", raw_median * 1e6, "us", "", None)
    report(
        "ibkr raw PLACE_ORDER -> COMMISSION_REPORT, median",
        statistics.median(raw_fills) * 1e6,
        "us",
        "",
        None,
    )
    report(
        f"ibkr {LIBRARY} alone placeOrder -> Submitted, median",
        statistics.median(library) * 1e6,
        "us",
        "",
        None,
    )
    report("ibkr adapter submit -> ack, median", ack_median * 1e6, "us", "", None)
    report("ibkr adapter submit -> ack, p99", percentile(acks, 99) * 1e6, "us", "", None)
    report("ibkr adapter submit -> fill event, median", statistics.median(fills) * 1e6, "us", "", None)
    ratio = ack_median / raw_median
    report("ibkr submit -> ack / raw round trip", ratio, "x", "<= 1.3", ratio <= 1.3)
    library_ratio = statistics.median(library) / raw_median
    report(f"ibkr {LIBRARY} alone / raw round trip (the library's floor)", library_ratio, "x", "", None)
    stubbed_ratio = statistics.median(stubbed) / raw_median
    report(f"ibkr {LIBRARY} alone, its log lines' reprs stubbed / raw", stubbed_ratio, "x", "", None)
    fill_ratio = statistics.median(fills) / statistics.median(raw_fills)
    report("ibkr submit -> fill event / raw round trip", fill_ratio, "x", "", None)


if __name__ == "__main__":
    main()
