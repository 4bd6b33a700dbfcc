"""Helpers the conformance suite (and plugin authors' own tests) use against a HarnessSession."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from autotrader.model import Fill, Instrument, OrderRequest, OrderSide, OrderStatus, OrderType, TimeInForce
from autotrader.testing.harness import Fault, HarnessSession, LedgerTrade

if TYPE_CHECKING:
    from autotrader.oms import OrderManager

__all__ = [
    "IdleStrategy",
    "away",
    "fills_match_trades",
    "net_positions",
    "new_id",
    "request",
    "requires_fault",
    "run_cli",
    "status_of",
    "wait_filled",
    "wait_for",
]

_ids = itertools.count(1)


def new_id(prefix: str = "conf") -> str:
    """A client order id unique in this process and within every venue's limits."""
    return f"{prefix}{anyio.current_time():.0f}x{next(_ids)}"[-36:]


def away(session: HarnessSession, ticks: int) -> Decimal:
    """``session.price`` moved by ``ticks`` ticks (negative: below)."""
    return session.price + session.tick * ticks


def ticks_for(session: HarnessSession, fraction: Decimal) -> int:
    """How many ticks make ``fraction`` of the price (at least one)."""
    return max(1, int((session.price * fraction / session.tick).to_integral_value(rounding=ROUND_DOWN)))


def request(
    session: HarnessSession,
    side: OrderSide,
    order_type: OrderType = OrderType.LIMIT,
    *,
    price: Decimal | None = None,
    stop_price: Decimal | None = None,
    quantity: Decimal | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    client_order_id: str | None = None,
) -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id or new_id(),
        symbol=session.symbol,
        side=side,
        order_type=order_type,
        quantity=quantity if quantity is not None else session.quantity,
        price=price,
        stop_price=stop_price,
        time_in_force=tif,
    )


def half_quantity(session: HarnessSession, instrument: Instrument) -> Decimal:
    return instrument.round_quantity(session.quantity / 2)


async def wait_for(
    condition: Callable[[], bool],
    *,
    timeout: float = 10.0,
    what: str = "condition",
    nudge: Callable[[], Any] | None = None,
) -> None:
    """Poll ``condition`` until true; ``nudge`` (awaited every 0.5 s) lets lazy adapters catch up."""
    deadline = anyio.current_time() + timeout
    last_nudge = anyio.current_time()
    while not condition():
        now = anyio.current_time()
        if now > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        if nudge is not None and now - last_nudge >= 0.5:
            last_nudge = now
            await nudge()
        await anyio.sleep(0.01)


def fills_match_trades(fills: list[Fill], trades: list[LedgerTrade]) -> bool:
    """Each venue trade appears exactly once among the fills, with the same numbers."""

    def key(
        trade_id: str, qty: Decimal, price: Decimal, fee: Decimal
    ) -> tuple[str, Decimal, Decimal, Decimal]:
        return (trade_id, qty.normalize(), price.normalize(), fee.normalize())

    got = sorted(key(f.trade_id, f.quantity, f.price, f.commission) for f in fills)
    want = sorted(key(t.trade_id, t.quantity, t.price, t.commission) for t in trades)
    return got == want


def net_positions(trades: Iterable[LedgerTrade]) -> dict[str, Decimal]:
    """The net position per symbol that ``trades`` make (buys add, sells subtract; flat ones left out)."""
    net: dict[str, Decimal] = {}
    for t in trades:
        net[t.symbol] = net.get(t.symbol, Decimal(0)) + (
            t.quantity if t.side is OrderSide.BUY else -t.quantity
        )
    return {symbol: quantity for symbol, quantity in net.items() if quantity}


def status_of(oms: OrderManager, client_order_id: str) -> OrderStatus | None:
    order = oms.get_order(client_order_id)
    return order.status if order is not None else None


async def wait_filled(
    session: HarnessSession, oms: OrderManager, request: OrderRequest, *, what: str = "FILLED"
) -> list[Fill]:
    """Wait until the OMS has ``request`` FILLED, then check its fills against the venue's trades."""
    await wait_for(lambda: status_of(oms, request.client_order_id) is OrderStatus.FILLED, what=what)
    fills = oms.get_fills(client_order_id=request.client_order_id)
    trades = [t for t in await session.control.trades() if t.client_order_id == request.client_order_id]
    assert trades, "the venue made no trade"
    assert fills_match_trades(fills, trades), "the OMS fills differ from the venue's trades"
    assert sum(f.quantity for f in fills) == request.quantity
    return fills


def requires_fault(session: HarnessSession, fault: Fault) -> None:
    import pytest

    if fault not in session.control.supported_faults:
        pytest.skip(f"the venue cannot inject {fault.value}")


class IdleStrategy:
    """A strategy that never decides anything: for driving an engine by hand in tests."""

    status = "ACTIVE"
    equity = Decimal(0)

    def process_signal(self, symbol: str, market_data: Any) -> None:
        return None

    def on_fill(self, fill: Fill) -> None:
        return None


def run_cli(
    config: Mapping[str, Any],
    directory: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    secrets: Sequence[str] = (),
    timeout: float = 120,
) -> dict[str, Any]:
    """``autotrader run`` as a user runs it, in a process of its own: ``config`` written to
    ``directory/run.yaml``, ``--json --no-progress`` and ``args`` added; its summary, parsed.

    A run that fails fails the caller, with the end of its stderr; so does any of ``secrets``
    (credentials passed in ``env``) showing in its output.
    """
    path = directory / "run.yaml"
    path.write_text(json.dumps(dict(config)))  # JSON is YAML
    result = subprocess.run(  # noqa: S603 - this interpreter running autotrader, with the test's arguments
        [sys.executable, "-m", "autotrader", "run", "-c", str(path), "--json", "--no-progress", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for secret in secrets:
        assert secret not in result.stdout + result.stderr, "a secret appeared in the run's output"
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary
