"""The IBKR plugin's ExternalVenue: the local TWS for engines in other processes.

The TWS runs in the event loop that enters :func:`external_venue` (the crash test gives it a
thread of its own), so it keeps its orders and executions while an engine process connected
to it is killed and restarted.  IB's API carries no secret (TWS itself is logged in), so the
engine process needs only :attr:`ExternalVenue.broker_config`: the port, its client id and the
instruments.  A restarted process comes back under the same client id, as a restarted
engine does, and so sees the orders it placed before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from autotrader.testing.harness import ExternalVenue

from autotrader_ibkr.harness import (
    PRICE,
    QUANTITY,
    SYMBOL,
    TICK,
    TwsVenueControl,
    connection_settings,
    prepare,
)
from autotrader_ibkr.tws import Exchange, TwsFaults, TwsServer, running_tws

__all__ = ["external_venue"]


@asynccontextmanager
async def external_venue(*, request_timeout: float = 1.5, client_id: int = 7) -> AsyncIterator[ExternalVenue]:
    """Run the TWS on 127.0.0.1 for the duration of the block, priced as the conformance harness."""
    server = TwsServer(Exchange(), faults=TwsFaults(hold_seconds=request_timeout * 3, outage_seconds=0.3))
    async with running_tws(server) as tws:
        yield ExternalVenue(
            control=TwsVenueControl(tws, prepare(tws)),
            broker_config=connection_settings(tws, client_id, request_timeout=request_timeout),
            environment={},
            symbol=SYMBOL,
            price=PRICE,
            quantity=QUANTITY,
            tick=TICK,
        )
