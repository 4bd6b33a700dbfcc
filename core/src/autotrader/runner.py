"""Replaying market data through an engine: the main job behind ``autotrader run``.

The runner owns nothing but the loop: each bar marks prices, asks the strategy, acts on its
decisions (through the engine, exactly as live), and samples equity.  A stop request (Ctrl-C)
ends the replay and fires the kill switch, and the summary is still produced.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, Callable, Mapping
from decimal import Decimal
from typing import Any

import anyio
import attrs

from autotrader.engine import ExecutionEngine, KillReport, KillSwitch
from autotrader.model import ZERO, Fill

__all__ = ["EquityCurve", "RunSummary", "replay"]

Bar = tuple[Any, Mapping[str, Mapping[str, Any]]]


class EquityCurve:
    """Equity sampled once per bar, with the running peak for drawdown."""

    def __init__(self, initial: Decimal) -> None:
        self.initial = initial
        self.points: list[tuple[Any, Decimal]] = []
        self._peak = initial
        self.max_drawdown = ZERO
        self.max_drawdown_pct = ZERO

    def sample(self, timestamp: Any, equity: Decimal) -> None:
        self.points.append((timestamp, equity))
        self._peak = max(self._peak, equity)
        drawdown = self._peak - equity
        if drawdown > self.max_drawdown:
            self.max_drawdown = drawdown
            self.max_drawdown_pct = drawdown / self._peak if self._peak else ZERO


@attrs.frozen
class RunRecord:
    """Everything a report draws, sampled once per bar."""

    prices: dict[str, list[tuple[Any, Decimal]]] = attrs.field(factory=dict)
    positions: dict[str, list[tuple[Any, Decimal]]] = attrs.field(factory=dict)
    fills: list[Fill] = attrs.field(factory=list)

    def sample(
        self, timestamp: Any, market_data: Mapping[str, Mapping[str, Any]], engine: ExecutionEngine
    ) -> None:
        for symbol in market_data:
            price = engine.last_prices.get(symbol)
            if price is not None:
                self.prices.setdefault(symbol, []).append((timestamp, price))
            self.positions.setdefault(symbol, []).append((timestamp, engine.oms.positions.quantity(symbol)))


@attrs.frozen
class RunSummary:
    bars: int
    orders: int
    fills: int
    fill_rate: float
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    net_pnl: Decimal
    final_equity: Decimal
    max_drawdown: Decimal
    max_drawdown_pct: Decimal
    duration_seconds: float
    interrupted: bool
    kill_report: KillReport | None
    status: dict[str, Any]
    equity_curve: list[tuple[Any, Decimal]]
    record: RunRecord = attrs.field(factory=RunRecord)
    fill_latencies: list[float] = attrs.field(factory=list)
    broker: str = ""
    strategy: str = ""

    def table_rows(self) -> list[tuple[str, str]]:
        return [
            ("bars replayed", str(self.bars)),
            ("orders", str(self.orders)),
            ("fills", str(self.fills)),
            ("fill rate", f"{self.fill_rate:.1%}"),
            ("realized P&L", f"{self.realized_pnl:.2f}"),
            ("unrealized P&L", f"{self.unrealized_pnl:.2f}"),
            ("fees", f"{self.fees:.2f}"),
            ("net P&L", f"{self.net_pnl:.2f}"),
            ("final equity", f"{self.final_equity:.2f}"),
            ("max drawdown", f"{self.max_drawdown:.2f} ({self.max_drawdown_pct:.2%})"),
            ("wall time", f"{self.duration_seconds:.2f} s"),
        ]


def equity_of(engine: ExecutionEngine, initial: Decimal) -> Decimal:
    positions = engine.oms.positions
    return initial + positions.realized_pnl() + positions.unrealized_pnl() - engine.oms.total_commission


async def replay(
    engine: ExecutionEngine,
    source: AsyncIterable[Bar],
    *,
    initial_equity: Decimal,
    on_bar: Callable[[int], None] | None = None,
    stop: anyio.Event | None = None,
    flatten_at_end: bool = False,
) -> RunSummary:
    """Feed every bar of ``source`` to ``engine``; ``stop`` (set by a signal) triggers the kill switch."""
    started = time.perf_counter()
    curve = EquityCurve(initial_equity)
    bars = 0
    interrupted = False
    kill_report: KillReport | None = None
    record = RunRecord()
    engine.subscribe_fills(record.fills.append)
    if not engine.connected:
        await engine.connect()
    engine.running = True
    try:
        async for timestamp, market_data in source:
            if stop is not None and stop.is_set():
                interrupted = True
                break
            await engine.process_market_data(market_data)
            bars += 1
            curve.sample(timestamp, equity_of(engine, initial_equity))
            record.sample(timestamp, market_data, engine)
            if on_bar is not None:
                on_bar(bars)
            await anyio.lowlevel.checkpoint()
    finally:
        engine.running = False
    if interrupted:
        kill_report = await KillSwitch(engine).activate(
            close_positions=True, reason="interrupted by the user"
        )
    elif flatten_at_end:
        kill_report = await engine.wind_down(close_positions=True)
    status = engine.get_status()
    metrics = status["oms"]
    positions = engine.oms.positions
    fees = engine.oms.total_commission
    realized, unrealized = positions.realized_pnl(), positions.unrealized_pnl()
    return RunSummary(
        bars=bars,
        orders=metrics["total_orders"],
        fills=metrics["total_fills"],
        fill_rate=metrics["fill_rate"],
        realized_pnl=realized,
        unrealized_pnl=unrealized,
        fees=fees,
        net_pnl=realized + unrealized - fees,
        final_equity=equity_of(engine, initial_equity),
        max_drawdown=curve.max_drawdown,
        max_drawdown_pct=curve.max_drawdown_pct,
        duration_seconds=time.perf_counter() - started,
        interrupted=interrupted,
        kill_report=kill_report,
        status=status,
        equity_curve=curve.points,
        record=record,
        fill_latencies=list(engine.oms.fill_latencies),
        broker=engine.adapter.name,
        strategy=type(engine.strategy).__name__,
    )
