"""The Binance plugin's ExternalVenue: the local Binance venue for engines in other processes.

:class:`~autotrader_binance.venue.BinanceVenue` runs in the event loop that enters
:func:`external_venue` (the crash test gives it a thread of its own), so it keeps its books
while an engine process using it is killed and restarted.  The venue gets a fresh API key pair;
the engine process reads it from ``BINANCE_API_KEY`` / ``BINANCE_API_SECRET``, as the plugin's
config does, and the venue's URLs from :attr:`ExternalVenue.broker_config`.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

from autotrader.testing.harness import ExternalVenue

from autotrader_binance.config import ENV_API_KEY, ENV_API_SECRET
from autotrader_binance.harness import BinanceVenueControl
from autotrader_binance.venue import BinanceVenue

__all__ = ["external_venue"]

SYMBOL = "BTCUSDT"
PRICE = Decimal("50000.00")


@asynccontextmanager
async def external_venue(*, request_timeout: float = 1.5) -> AsyncIterator[ExternalVenue]:
    """Start the venue on 127.0.0.1 with a fresh key pair, priced at ``PRICE``; stop it afterwards."""
    key, secret = secrets.token_hex(32), secrets.token_hex(32)
    venue = BinanceVenue(api_keys={key: secret}, hold_seconds=max(5.0, request_timeout * 4))
    await venue.start()
    try:
        control = BinanceVenueControl(venue)
        await control.set_price(SYMBOL, PRICE)
        yield ExternalVenue(
            control=control,
            broker_config={
                "api_url": venue.rest_url,
                "ws_api_url": venue.ws_api_url,
                "request_timeout": request_timeout,
                "symbols": [SYMBOL],
            },
            environment={ENV_API_KEY: key, ENV_API_SECRET: secret},
            symbol=SYMBOL,
            price=PRICE,
            quantity=Decimal("0.01"),
            tick=Decimal("0.01"),
        )
    finally:
        await venue.stop()
