"""Shared fixtures: every async test runs under asyncio and trio; a venue for wire-level tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from autotrader.credentials import Secret
from autotrader.testing.harness import HarnessSession

from autotrader_oanda.client import V20Client
from autotrader_oanda.config import OandaConfig
from autotrader_oanda.environments import register_environment, unregister_environment
from autotrader_oanda.harness import harness
from autotrader_oanda.venue import Exchange, VenueServer

TOKEN = "test-token-not-a-secret"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def session(anyio_backend: str) -> AsyncIterator[HarnessSession]:
    async with harness() as s:
        await s.control.set_price(s.symbol, s.price)
        yield s


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
def venue() -> Iterator[VenueServer]:
    """A bare venue (no adapter) for wire-level tests with oandapyV20 or requests."""
    server = VenueServer(
        Exchange(), token=TOKEN, heartbeat_interval=0.1, slow_response=1.0, stream_outage=0.3
    ).start()
    yield server
    server.stop()


@pytest.fixture
def client(venue: VenueServer, token: str) -> Iterator[V20Client]:
    """The adapter's blocking v20 client, pointed at the bare venue."""
    register_environment("client-test", venue.url, venue.url)
    config = OandaConfig(
        account_id=venue.exchange.account_id,
        access_token=Secret(token),
        environment="client-test",
        request_timeout=1.0,
    )
    client = V20Client(config)
    yield client
    client.close()
    unregister_environment("client-test")
