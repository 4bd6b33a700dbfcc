"""The entry point and the harness, as the core and the conformance suite find them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.plugins import BrokerRegistry
from autotrader.testing.harness import Fault
from autotrader_paper import PaperConfig, PaperTradingAdapter
from autotrader_paper.control import PaperVenueControl


@pytest.fixture(autouse=True)
def only_this_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery of the other installed plugins is not this plugin's test."""
    monkeypatch.setenv("AUTOTRADER_PLUGINS", "paper")


def test_entry_point_spec() -> None:
    spec = BrokerRegistry.discover().get("paper")
    assert spec.config_class is PaperConfig and spec.capabilities is PaperTradingAdapter.capabilities
    assert spec.capabilities.async_backends == {"asyncio", "trio"} and spec.capabilities.modify
    adapter = spec.factory(initial_balance="250", seed=3)
    assert isinstance(adapter, PaperTradingAdapter) and adapter.initial_balance == Decimal(250)
    configured = spec.factory(config=PaperConfig(commission_bps=1))
    assert configured.venue.commission_bps == Decimal(1)  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_harness_session_is_exact_and_funded() -> None:
    spec = BrokerRegistry.discover().get("paper")
    assert spec.harness is not None
    async with spec.harness() as session:
        adapter, control = session.adapter, session.control
        assert isinstance(adapter, PaperTradingAdapter) and isinstance(control, PaperVenueControl)
        assert adapter.is_connected and adapter.config.latency_ms == (0.0, 0.0)
        assert control.supported_faults == frozenset(Fault)
        needed = 100 * session.quantity * session.price * Decimal("1.001")
        (balance,) = await control.balances()
        assert balance.free > needed
        assert session.symbol in await adapter.instruments()
    assert not adapter.is_connected
