"""The chaos run: many orders through the engine against a plugin's local venue, with random faults.

Every few orders a random fault the venue supports is armed (5xx, 429, accept-then-timeout,
dropped stream, duplicated and reordered events, rejects), the price walks so resting orders
fill, and some orders are cancelled.  At the end the OMS is reconciled and compared with the
venue's own ledger: no order twice, no fill lost or invented, positions equal.  Seeded, bounded
in count and time, loopback only (the venue is the plugin's harness).
"""

from __future__ import annotations

import collections
import logging
import random
import time
from decimal import Decimal
from typing import Any

import anyio
import attrs

from autotrader.engine import ExecutionConfig, ExecutionEngine
from autotrader.errors import AutotraderError
from autotrader.model import OrderRequest, OrderSide, OrderStatus, OrderType
from autotrader.plugins import BrokerSpec
from autotrader.risk import RiskLimits
from autotrader.testing.harness import Fault, HarnessSession
from autotrader.testing.support import IdleStrategy, net_positions, new_id

__all__ = ["ChaosReport", "run_chaos"]

log = logging.getLogger(__name__)


@attrs.frozen
class ChaosReport:
    broker: str
    seed: int
    orders: int
    faults: dict[str, int]
    duplicate_orders: int
    lost_fills: int
    invented_fills: int
    unsent_but_at_venue: int
    sent_but_missing: int
    position_divergence: dict[str, tuple[str, str]]
    statuses: dict[str, int]
    seconds: float

    @property
    def clean(self) -> bool:
        return not (
            self.duplicate_orders
            or self.lost_fills
            or self.invented_fills
            or self.unsent_but_at_venue
            or self.sent_but_missing
            or self.position_divergence
        )

    def lines(self) -> list[str]:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())) or "none"
        return [
            f"chaos run: {self.broker}, seed {self.seed}, {self.orders} orders in {self.seconds:.1f} s",
            f"  faults injected: {faults}",
            f"  final statuses: {', '.join(f'{k} {v}' for k, v in sorted(self.statuses.items()))}",
            f"  duplicate orders at the venue: {self.duplicate_orders} (must be 0)",
            f"  venue fills missing from the OMS: {self.lost_fills} (must be 0)",
            f"  OMS fills the venue never made: {self.invented_fills} (must be 0)",
            f"  orders sent but not at the venue: {self.sent_but_missing}; "
            f"refused locally but at the venue: {self.unsent_but_at_venue} (both must be 0)",
            f"  position divergence: {self.position_divergence or 'none'}",
        ]


_FAULTS = (
    Fault.SERVER_ERROR,
    Fault.RATE_LIMIT,
    Fault.ACCEPT_THEN_TIMEOUT,
    Fault.DROP_STREAM,
    Fault.DUPLICATE_EVENTS,
    Fault.REORDER_EVENTS,
    Fault.REJECT,
)


async def run_chaos(
    spec: BrokerSpec, *, orders: int = 300, seed: int = 1, fault_every: int = 10
) -> ChaosReport:
    """Run the chaos scenario against ``spec``'s harness and compare the OMS with the venue."""
    assert spec.harness is not None, f"{spec.name} ships no harness"
    rng = random.Random(seed)
    started = time.monotonic()
    async with spec.harness() as session:
        engine = ExecutionEngine(
            IdleStrategy(),
            session.adapter,
            ExecutionConfig(
                initial_backoff=0.02,
                circuit_breaker_threshold=10_000,
                enable_oms_monitoring=False,
                risk=RiskLimits(price_band_pct=None, check_balance=False, max_open_orders=10**9),
            ),
        )
        engine.resiliency.reconcile_delay = 0.02
        await engine.connect()
        faults: collections.Counter[str] = collections.Counter()
        decided: list[str] = []
        supported = [f for f in _FAULTS if f in session.control.supported_faults]
        price = session.price
        for i in range(orders):
            if supported and i % fault_every == fault_every - 1:
                fault = rng.choice(supported)
                await session.control.inject(fault, retry_after=0.05, reason="chaos")
                faults[fault.value] += 1
            if rng.random() < 0.3:
                price = max(session.tick, price + session.tick * rng.randint(-15, 15))
                await session.control.set_price(session.symbol, price)
            request = _random_order(rng, session, price)
            decided.append(request.client_order_id)
            try:
                await engine.submit(request, check=False)
            except AutotraderError as exc:
                log.info("chaos: %s refused: %s", request.client_order_id, exc)
            if rng.random() < 0.1:
                open_orders = engine.oms.get_active_orders()
                if open_orders:
                    try:
                        await engine.oms.cancel_order(rng.choice(open_orders).client_order_id)
                    except AutotraderError as exc:
                        log.info("chaos: cancel refused: %s", exc)
            if i % 20 == 0:
                await session.adapter.health_check()
        report = await _settle_and_compare(engine, session, decided, faults, seed, started)
    return report


def _random_order(rng: random.Random, session: HarnessSession, price: Decimal) -> OrderRequest:
    side = rng.choice((OrderSide.BUY, OrderSide.SELL))
    quantity = session.quantity * rng.randint(1, 3)
    if rng.random() < 0.5:
        return OrderRequest(new_id("chaos"), session.symbol, side, OrderType.MARKET, quantity)
    offset = session.tick * rng.randint(-10, 10)
    return OrderRequest(
        new_id("chaos"),
        session.symbol,
        side,
        OrderType.LIMIT,
        quantity,
        price=max(session.tick, price + offset),
    )


async def _settle_and_compare(
    engine: ExecutionEngine,
    session: HarnessSession,
    decided: list[str],
    faults: collections.Counter[str],
    seed: int,
    started: float,
) -> ChaosReport:
    oms = engine.oms
    await oms.cancel_all()
    for _ in range(50):  # let streams catch up, nudging lazy reconnects, then reconcile
        await session.adapter.health_check()
        await anyio.sleep(0.1)
        if not oms.get_active_orders():
            break
    await oms.reconcile_unknown()
    await oms.reconcile_open_orders()
    for order in oms.get_completed_orders() + oms.get_active_orders():
        if order.filled_quantity or order.status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
            await oms.reconcile_order(order.client_order_id)
    await oms.catch_up_missing_fills()

    ledger = await session.control.orders()
    at_venue = collections.Counter(o.client_order_id for o in ledger)
    trades = {t.trade_id: t for t in await session.control.trades()}
    applied = {f.trade_id for f in oms.get_fills()}
    statuses: collections.Counter[str] = collections.Counter()
    sent_but_missing = unsent_but_at_venue = 0
    for coid in decided:
        tracked = oms.get_order(coid)
        status = tracked.status if tracked is not None else None
        statuses[status.value if status else "untracked"] += 1
        not_sent = tracked is not None and (tracked.reason or "").startswith("not sent")
        if not_sent and at_venue[coid]:
            unsent_but_at_venue += 1
        if status not in (OrderStatus.REJECTED, None) and not at_venue[coid]:
            sent_but_missing += 1
    venue_position = net_positions(trades.values()).get(session.symbol, Decimal(0))
    ours = oms.positions.quantity(session.symbol)
    divergence = {} if ours == venue_position else {session.symbol: (str(ours), str(venue_position))}
    await engine.disconnect()
    return ChaosReport(
        broker=session.adapter.name,
        seed=seed,
        orders=len(decided),
        faults=dict(faults),
        duplicate_orders=sum(n - 1 for n in at_venue.values() if n > 1),
        lost_fills=len(set(trades) - applied),
        invented_fills=len(applied - set(trades)),
        unsent_but_at_venue=unsent_but_at_venue,
        sent_but_missing=sent_but_missing,
        position_divergence=divergence,
        statuses=dict(statuses),
        seconds=time.monotonic() - started,
    )


def report_as_dict(report: ChaosReport) -> dict[str, Any]:
    return {**attrs.asdict(report), "clean": report.clean}
