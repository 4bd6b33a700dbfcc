"""Benchmark 3: resident memory after 1 000 000 completed orders, against 100 000.

Target: within 1.5x -- completed orders live in a bounded window (the journal keeps history).
"""

from __future__ import annotations

import gc
import logging
from decimal import Decimal

from _common import header, report, rss_mib

from autotrader.model import Fill, OrderRequest, OrderSide, OrderStatus, OrderType, OrderUpdate
from autotrader.oms import OrderManager


class _NoVenue:
    name = "bench"

    def add_listener(self, listener: object) -> None:
        return None


def run(oms: OrderManager, start: int, count: int) -> None:
    price = Decimal("100")
    one = Decimal(1)
    for i in range(start, start + count):
        coid = f"c{i}"
        side = OrderSide.BUY if i % 2 else OrderSide.SELL
        oms.track(OrderRequest(coid, "SYM", side, OrderType.MARKET, one))
        oms.apply_update(OrderUpdate(coid, OrderStatus.SUBMITTED, "bench"))
        oms.apply_fill(Fill("bench", f"t{i}", coid, "SYM", side, one, price))


def main() -> None:
    logging.disable(logging.WARNING)
    header("memory after completed orders")
    oms = OrderManager(_NoVenue(), listen=False)  # type: ignore[arg-type]
    run(oms, 0, 100_000)
    gc.collect()
    at_100k = rss_mib()
    report("resident memory after   100,000 completed orders", at_100k, "MiB", "", None)
    run(oms, 100_000, 900_000)
    gc.collect()
    at_1m = rss_mib()
    report("resident memory after 1,000,000 completed orders", at_1m, "MiB", "", None)
    assert oms.get_metrics()["filled_orders"] == 1_000_000
    ratio = at_1m / at_100k
    report("memory ratio 1M/100k completed orders", ratio, "x", "<= 1.5", ratio <= 1.5)


if __name__ == "__main__":
    main()
