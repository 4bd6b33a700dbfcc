"""Fixtures of the conformance suite.  A plugin may not override them (a guard refuses it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from autotrader.oms import OrderManager
from autotrader.plugins import BrokerRegistry, BrokerSpec
from autotrader.resiliency import ResiliencyManager
from autotrader.testing.harness import HarnessSession
from autotrader.testing.pytest_plugin import OPTION


@pytest.fixture(scope="session")
def autotrader_spec(pytestconfig: pytest.Config) -> BrokerSpec:
    name = pytestconfig.getoption(OPTION)
    if not name:
        pytest.skip(f"run the conformance suite with {OPTION} NAME")
    spec = BrokerRegistry.discover(allow=[name]).get(name)  # load only the plugin under test
    if spec.harness is None:
        raise pytest.UsageError(f"the {name!r} plugin ships no VenueHarness")
    return spec


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest, autotrader_spec: BrokerSpec) -> str:
    backend = str(request.param)
    caps = autotrader_spec.capabilities
    if not caps.has(f"backend:{backend}"):
        only = ", ".join(sorted(caps.async_backends))
        why = f": {caps.asyncio_only_reason}" if caps.asyncio_only_reason else ""
        pytest.skip(f"{autotrader_spec.name} runs only under {only}{why}")
    return backend


@pytest.fixture
async def autotrader_session(
    autotrader_spec: BrokerSpec, anyio_backend: str
) -> AsyncIterator[HarnessSession]:
    assert autotrader_spec.harness is not None
    async with autotrader_spec.harness() as session:
        await session.control.set_price(session.symbol, session.price)
        yield session


@pytest.fixture
def autotrader_oms(autotrader_session: HarnessSession) -> OrderManager:
    """The core's OMS and resiliency layer over the session's adapter, with test-speed backoff."""
    adapter = autotrader_session.adapter
    resiliency = ResiliencyManager(adapter, initial_backoff=0.05, max_backoff=1.0, reconcile_delay=0.05)
    return OrderManager(adapter, resiliency, order_timeout=None)
