"""The engine process the conformance suite's crash test kills: places a fixed list of decided
orders, resumably.  ``python -m autotrader.testing.crash_worker --venue V --journal J``.

It reaches the plugin's external venue the way a user's process reaches a broker: the plugin's
own factory, called with the broker settings the test wrote to ``--venue`` (a JSON file), with
the credentials in the environment.  Each decided order has a fixed client order id
(``crash<i>``), so a restarted worker skips what the journal says it already handled, and the
test knows exactly which orders the strategy decided.

``--kill`` makes the process SIGKILL itself at an exact point:

* ``intent:<i>``: right after order i's intent is journaled, before the send;
* ``sent:<i>``: right after the venue accepted order i, before the ack is applied;
* ``event:<k>``: right after the k-th order update or fill the OMS announced (the journal has
  seen it, buffered or on disk), wherever in the order path that falls.

(The test adds kills at random times of its own.)  Output, one JSON object a line: after a
resume the recovery report, then ``"ready"`` once connected, then the OMS's orders, fills
and positions.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import attrs

from autotrader.engine import ExecutionConfig, ExecutionEngine
from autotrader.hookspecs import hookimpl
from autotrader.model import Fill, Order, OrderRequest, OrderSide, OrderStatus, OrderType
from autotrader.plugins import BrokerRegistry
from autotrader.risk import RiskLimits
from autotrader.testing.support import IdleStrategy

RESTING_OFFSET = Decimal("0.01")
"""Resting limits sit this fraction away from the market price the test passes (it moves the
price 2% between runs, so some fill while no engine is alive; none fills while one is)."""


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillAfterIntent:
    def __init__(self, coid: str) -> None:
        self.coid = coid

    @hookimpl(trylast=True)  # after the journal wrote the intent
    def autotrader_order_updated(self, order: Order, previous: Order | None) -> None:
        if order.client_order_id == self.coid and order.status is OrderStatus.PENDING:
            die()


class KillAfterEvents:
    def __init__(self, count: int) -> None:
        self.left = count

    def _count(self) -> None:
        self.left -= 1
        if self.left == 0:
            die()

    @hookimpl(trylast=True)
    def autotrader_order_updated(self, order: Order, previous: Order | None) -> None:
        self._count()

    @hookimpl(trylast=True)
    def autotrader_fill(self, fill: Fill, order: Order) -> None:
        self._count()


@attrs.frozen
class Venue:
    broker: str
    broker_config: dict[str, Any]
    symbol: str
    price: Decimal
    quantity: Decimal
    tick: Decimal

    @classmethod
    def read(cls, path: Path) -> Venue:
        data = json.loads(path.read_text())
        return cls(
            data["broker"],
            data["broker_config"],
            data["symbol"],
            *(Decimal(data[k]) for k in ("price", "quantity", "tick")),
        )


def decided(i: int, venue: Venue) -> OrderRequest:
    """Order i of the strategy's fixed plan: mostly market orders both ways, every fourth resting."""
    side = OrderSide.SELL if i % 3 == 2 else OrderSide.BUY
    if i % 4 == 3:  # some rest, to be found open at the venue after a crash (or filled meanwhile)
        offset = (venue.price * RESTING_OFFSET / venue.tick).to_integral_value() * venue.tick
        price = venue.price - offset if side is OrderSide.BUY else venue.price + offset
        return OrderRequest(f"crash{i}", venue.symbol, side, OrderType.LIMIT, venue.quantity, price=price)
    return OrderRequest(f"crash{i}", venue.symbol, side, OrderType.MARKET, venue.quantity * (1 + i % 2))


def emit(data: Any) -> None:
    """One line of the worker's output protocol (the test reads stdout line by line)."""
    sys.stdout.write(json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


async def main(args: argparse.Namespace) -> None:
    venue = Venue.read(Path(args.venue))
    spec = BrokerRegistry.discover(allow=[venue.broker]).get(venue.broker)
    adapter = spec.factory(**venue.broker_config)
    kind, _, value = (args.kill or ":").partition(":")
    plugins: list[Any] = []
    if kind == "intent":
        plugins.append(KillAfterIntent(f"crash{value}"))
    elif kind == "event":
        plugins.append(KillAfterEvents(int(value)))
    engine_config = ExecutionConfig(
        initial_backoff=0.05,
        enable_oms_monitoring=False,
        risk=RiskLimits(price_band_pct=None, check_balance=False),
    )
    engine = ExecutionEngine(IdleStrategy(), adapter, engine_config, plugins=plugins, journal=args.journal)
    engine.resiliency.reconcile_delay = 0.05
    if kind == "sent":
        original = adapter.submit_order

        async def submit_then_die(request: OrderRequest) -> Any:
            ack = await original(request)
            if request.client_order_id == f"crash{value}":
                die()
            return ack

        adapter.submit_order = submit_then_die  # type: ignore[method-assign]
    if args.resume:
        report = await engine.resume()
        emit({"recovered": attrs.asdict(report)})
    else:
        await engine.connect()
    emit("ready")
    for i in range(args.orders):
        request = decided(i, venue)
        if engine.oms.get_order(request.client_order_id) is None:
            await engine.submit(request)
    with anyio.move_on_after(5):
        while any(o.order_type is OrderType.MARKET for o in engine.oms.get_active_orders()):
            await adapter.health_check()  # lets lazy adapters re-subscribe after a drop
            await anyio.sleep(0.05)  # polling the OMS is the point: it must settle by itself
    await engine.oms.catch_up_missing_fills()
    emit(
        {
            "orders": {
                o.client_order_id: {"status": o.status.value, "filled": str(o.filled_quantity)}
                for o in [*engine.oms.get_active_orders(), *engine.oms.get_completed_orders()]
            },
            "fills": [
                {"trade_id": f.trade_id, "coid": f.client_order_id, "qty": str(f.quantity)}
                for f in engine.oms.get_fills()
            ],
            "positions": {s: str(p.quantity) for s, p in engine.oms.get_positions().items() if p.quantity},
        }
    )
    await engine.disconnect()


def run(argv: list[str] | None = None) -> None:
    """The command line: parse ``argv`` and run the engine under the backend it names."""
    parser = argparse.ArgumentParser(prog="python -m autotrader.testing.crash_worker")
    parser.add_argument("--venue", required=True, help="JSON: broker, broker_config, symbol, price...")
    parser.add_argument("--journal", required=True)
    parser.add_argument("--orders", type=int, default=8)
    parser.add_argument("--kill", help="intent:<i>, sent:<i> or event:<k>")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--backend", default="asyncio")
    options = parser.parse_args(argv)
    anyio.run(main, options, backend=options.backend)


if __name__ == "__main__":
    run()
