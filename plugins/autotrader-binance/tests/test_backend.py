"""python-binance is asyncio-only: under trio the harness and the adapter refuse, saying why."""

from __future__ import annotations

import pytest
from autotrader.errors import UnsupportedBackend
from autotrader.plugins import BrokerRegistry

from autotrader_binance import plugin
from autotrader_binance.adapter import BinanceAdapter
from autotrader_binance.config import BinanceConfig
from autotrader_binance.harness import harness


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


@pytest.mark.anyio
async def test_trio_is_refused_with_the_reason() -> None:
    with pytest.raises(UnsupportedBackend, match="python-binance is built on asyncio"):
        async with harness():
            pass
    adapter = BinanceAdapter(BinanceConfig(api_key="k", api_secret="s"))
    with pytest.raises(UnsupportedBackend):
        await adapter.connect()


def test_entry_point_registers_the_broker() -> None:
    spec = BrokerRegistry.discover(allow=["binance"]).get("binance")
    assert spec.harness is plugin.harness and spec.config_class is BinanceConfig
    assert isinstance(spec.factory(api_key="k", api_secret="s"), BinanceAdapter)
    assert spec.capabilities.has("modify") and not spec.capabilities.has("short_selling")
    assert not spec.capabilities.has("backend:trio")


def test_config_from_environment_hides_secrets() -> None:
    config = BinanceConfig.from_env(
        {"BINANCE_API_KEY": "key-123", "BINANCE_API_SECRET": "sec-456", "BINANCE_TESTNET": "true"}
    )
    assert config.testnet and config.api_key.reveal() == "key-123"
    assert "sec-456" not in repr(config) and "key-123" not in repr(config)
    with pytest.raises(ValueError, match="api_key"):
        BinanceConfig.from_env({})
