"""Benchmark 2: the cost of one order event with 10, 1 000, 10 000 and 100 000 open orders.

Target: flat -- the 100 000 case no more than 1.5x the 10 case.
"""

from __future__ import annotations

import time
from decimal import Decimal

from _common import header, report

from autotrader.model import Fill, OrderRequest, OrderSide, OrderStatus, OrderType, OrderUpdate
from autotrader.oms import OrderManager

EVENTS = 20_000


class _NoVenue:
    """The OMS only needs an adapter object to subscribe to; this benchmark feeds events directly."""

    name = "bench"

    def add_listener(self, listener: object) -> None:
        return None


def event_cost(open_orders: int) -> float:
    oms = OrderManager(_NoVenue(), listen=False)  # type: ignore[arg-type]
    price = Decimal("100")
    for i in range(open_orders):
        oms.track(OrderRequest(f"o{i}", "SYM", OrderSide.BUY, OrderType.LIMIT, Decimal(1), price=price))
        oms.apply_update(OrderUpdate(f"o{i}", OrderStatus.SUBMITTED, "bench"))
        oms.apply_update(OrderUpdate(f"o{i}", OrderStatus.ACCEPTED, "bench"))
    # The measured event: a new order's ack and fill (3 events per order), among the open ones.
    for i in range(EVENTS // 3):
        oms.track(OrderRequest(f"n{i}", "SYM", OrderSide.BUY, OrderType.LIMIT, Decimal(1), price=price))
        oms.apply_update(OrderUpdate(f"n{i}", OrderStatus.SUBMITTED, "bench"))
    anomalies = oms.get_metrics()["anomalies"]
    started = time.perf_counter()
    for i in range(EVENTS // 3):
        coid = f"n{i}"
        oms.apply_update(OrderUpdate(coid, OrderStatus.ACCEPTED, "bench"))
        oms.apply_fill(Fill("bench", f"t{i}", coid, "SYM", OrderSide.BUY, Decimal(1), price))
        oms.apply_update(OrderUpdate(coid, OrderStatus.FILLED, "bench"))
    elapsed = time.perf_counter() - started
    assert oms.get_metrics()["anomalies"] == anomalies, "the benchmark must exercise legal transitions only"
    return elapsed / (EVENTS // 3 * 3)


def main() -> None:
    header("OMS scale: cost of one order event")
    costs = {}
    for n in (10, 1_000, 10_000, 100_000):
        costs[n] = min(event_cost(n) for _ in range(3))
        report(f"oms event cost with {n:>7,} open orders", costs[n] * 1e6, "us", "", None)
    ratio = costs[100_000] / costs[10]
    report("oms event cost ratio 100k/10 open orders", ratio, "x", "<= 1.5", ratio <= 1.5)


if __name__ == "__main__":
    main()
