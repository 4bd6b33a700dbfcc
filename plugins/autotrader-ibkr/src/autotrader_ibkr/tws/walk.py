"""A moving market for the local TWS: prices that walk up and down, for live runs against it.

The TWS's prices only move when something sets them; a live run (``autotrader run --live``)
needs a market that moves by itself.  :func:`walk_prices` moves each contract one tick every
``interval`` seconds along a triangle wave of ``amplitude`` ticks around its starting price, so
the price trends both ways, never jumps, and stays on its tick grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import anyio

from autotrader_ibkr.tws.server import TwsServer

__all__ = ["triangle", "walk_prices"]


def triangle(step: int, amplitude: int) -> int:
    """The offset in ticks at ``step``: 0, 1, ... amplitude, ... 0, ... -amplitude, ... 0 again."""
    period = 4 * amplitude
    phase = (step + amplitude) % period
    return amplitude - abs(phase - 2 * amplitude)


async def walk_prices(
    server: TwsServer, start: Mapping[int, Decimal], *, interval: float, amplitude: int = 20
) -> None:
    """Move every contract in ``start`` (conId: price) one tick per ``interval``, until cancelled."""
    if interval <= 0 or amplitude <= 0:
        raise ValueError("the walk needs a positive interval and amplitude")
    step = 0
    while True:
        await anyio.sleep(interval)
        step += 1
        offset = triangle(step, amplitude)
        for con_id, price in start.items():
            server.set_price(con_id, price + offset * server.exchange.contracts[con_id].min_tick)
