"""The engine process the crash test kills: places a fixed list of decided orders, resumably.

Each decided order has a fixed client order id (``crash<i>``), so a restarted worker skips what
the journal says it already handled and the test knows exactly which orders the strategy decided.
``--kill intent:<i>`` dies right after order i's intent is journaled (before the send);
``--kill sent:<i>`` dies right after the venue accepted order i (before the ack is applied).
Output: one JSON line with the OMS's fills and positions.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
from decimal import Decimal
from typing import Any

import anyio

from autotrader.credentials import Secret
from autotrader.engine import ExecutionConfig, ExecutionEngine
from autotrader.hookspecs import hookimpl
from autotrader.model import Order, OrderRequest, OrderSide, OrderStatus, OrderType
from autotrader.risk import RiskLimits
from autotrader.testing.support import IdleStrategy
from autotrader_oanda.adapter import OandaAdapter
from autotrader_oanda.config import OandaConfig
from autotrader_oanda.environments import register_environment

SYMBOL = "EUR_USD"


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillAfterIntent:
    def __init__(self, coid: str) -> None:
        self.coid = coid

    @hookimpl(trylast=True)  # after the journal wrote the intent
    def autotrader_order_updated(self, order: Order, previous: Order | None) -> None:
        if order.client_order_id == self.coid and order.status is OrderStatus.PENDING:
            die()


def decided(i: int) -> OrderRequest:
    side = OrderSide.SELL if i % 3 == 2 else OrderSide.BUY
    if i % 4 == 3:  # some rest, to be found open at the venue after a crash
        price = Decimal("1.09000") if side is OrderSide.BUY else Decimal("1.11000")
        return OrderRequest(f"crash{i}", SYMBOL, side, OrderType.LIMIT, Decimal(1000), price=price)
    return OrderRequest(f"crash{i}", SYMBOL, side, OrderType.MARKET, Decimal(1000 * (1 + i % 2)))


async def main(args: argparse.Namespace) -> None:
    register_environment(args.environment, args.url, args.url)
    config = OandaConfig(
        account_id=args.account,
        access_token=Secret(os.environ["OANDA_ACCESS_TOKEN"]),
        environment=args.environment,
        request_timeout=1.5,
        connect_timeout=1.0,
        stream_timeout=1.5,
        reconnect_initial=0.05,
        reconnect_max=0.5,
    )
    adapter = OandaAdapter(config)
    kind, _, index = (args.kill or ":").partition(":")
    plugins: list[Any] = [KillAfterIntent(f"crash{index}")] if kind == "intent" else []
    engine_config = ExecutionConfig(
        initial_backoff=0.05,
        enable_oms_monitoring=False,
        risk=RiskLimits(price_band_pct=None, check_balance=False),
    )
    engine = ExecutionEngine(IdleStrategy(), adapter, engine_config, plugins=plugins, journal=args.journal)
    if kind == "sent":
        original = adapter.submit_order

        async def submit_then_die(request: OrderRequest) -> Any:
            ack = await original(request)
            if request.client_order_id == f"crash{index}":
                die()
            return ack

        adapter.submit_order = submit_then_die  # type: ignore[method-assign]
    if args.resume:
        await engine.resume()
    else:
        await engine.connect()
    for i in range(args.orders):
        request = decided(i)
        if engine.oms.get_order(request.client_order_id) is None:
            await engine.submit(request)
    with anyio.move_on_after(5):
        while any(o.order_type is OrderType.MARKET for o in engine.oms.get_active_orders()):  # noqa: ASYNC110
            await anyio.sleep(0.05)  # polling the OMS is the point: it must settle by itself
    await engine.oms.catch_up_missing_fills()
    fills = [
        {"trade_id": f.trade_id, "coid": f.client_order_id, "qty": str(f.quantity)}
        for f in engine.oms.get_fills()
    ]
    positions = {s: str(p.quantity) for s, p in engine.oms.get_positions().items()}
    await engine.disconnect()
    print(json.dumps({"fills": fills, "positions": positions}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--environment", required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--journal", required=True)
    parser.add_argument("--orders", type=int, default=8)
    parser.add_argument("--kill")
    parser.add_argument("--resume", action="store_true")
    anyio.run(main, parser.parse_args())
