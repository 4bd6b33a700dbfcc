"""The OANDA plugin's ExternalVenue: the local v20 venue for engines in other processes.

:class:`~autotrader_oanda.venue.VenueServer` runs in a thread of its own, so it keeps its
books while an engine process using it is killed and restarted.  That process builds its
adapter through the plugin's factory from :attr:`ExternalVenue.broker_config` (account, a
private environment name and the venue's URLs) with the token in ``OANDA_ACCESS_TOKEN``.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from autotrader.testing.harness import ExternalVenue

from autotrader_oanda.config import TOKEN_ENV
from autotrader_oanda.harness import (
    COMMISSION_RATE,
    HEARTBEAT,
    PRICE,
    QUANTITY,
    SYMBOL,
    TICK,
    OandaVenueControl,
    connection_settings,
)
from autotrader_oanda.venue import Exchange, VenueServer

__all__ = ["external_venue"]


@asynccontextmanager
async def external_venue(*, request_timeout: float = 1.5) -> AsyncIterator[ExternalVenue]:
    """Start the venue on 127.0.0.1 with a fresh token, priced at ``PRICE``; stop it afterwards."""
    token = secrets.token_urlsafe(24)
    server = VenueServer(
        Exchange(commission_rate=COMMISSION_RATE),
        token=token,
        heartbeat_interval=HEARTBEAT,
        slow_response=request_timeout * 3,
    )
    await anyio.to_thread.run_sync(server.start)
    try:
        control = OandaVenueControl(server)
        await control.set_price(SYMBOL, PRICE)
        yield ExternalVenue(
            control=control,
            broker_config=connection_settings(
                server,
                f"autotrader-external-{server.port}",
                request_timeout=request_timeout,
                heartbeat=HEARTBEAT,
            ),
            environment={TOKEN_ENV: token},
            symbol=SYMBOL,
            price=PRICE,
            quantity=QUANTITY,
            tick=TICK,
        )
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(server.stop)
