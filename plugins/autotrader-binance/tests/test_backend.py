"""python-binance is asyncio-only: under trio the harness, the adapter and an engine refuse, saying why."""

from __future__ import annotations

import pytest
from autotrader.engine import ExecutionConfig, ExecutionEngine
from autotrader.errors import ConfigError, UnsupportedBackend
from autotrader.plugins import BrokerRegistry
from autotrader.testing.support import IdleStrategy

from autotrader_binance.adapter import BinanceAdapter
from autotrader_binance.capabilities import ASYNCIO_ONLY_REASON
from autotrader_binance.config import BinanceConfig

ASYNCIO_ONLY = "runs only under asyncio .python-binance is asyncio-only"


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


@pytest.mark.anyio
async def test_trio_is_refused_with_the_reason() -> None:
    spec = BrokerRegistry.discover(allow=["binance"]).get("binance")
    assert spec.harness is not None
    with pytest.raises(UnsupportedBackend, match=ASYNCIO_ONLY):
        async with spec.harness():
            pass
    adapter = BinanceAdapter(BinanceConfig(api_key="k", api_secret="s"))
    with pytest.raises(UnsupportedBackend, match="it was started under trio"):
        await adapter.connect()
    engine = ExecutionEngine(IdleStrategy(), adapter, ExecutionConfig())
    with pytest.raises(UnsupportedBackend, match=ASYNCIO_ONLY):
        await engine.connect()
    assert not adapter.is_connected


def test_entry_point_registers_the_broker() -> None:
    spec = BrokerRegistry.discover(allow=["binance"]).get("binance")
    assert spec.config_class is BinanceConfig and spec.harness is not None
    assert spec.capabilities.has("modify") and not spec.capabilities.has("short_selling")
    assert not spec.capabilities.has("backend:trio")
    assert spec.capabilities.asyncio_only_reason == ASYNCIO_ONLY_REASON
    assert "asyncio-only" in ASYNCIO_ONLY_REASON


def test_config_from_environment_hides_secrets() -> None:
    config = BinanceConfig.from_env(
        {"BINANCE_API_KEY": "key-123", "BINANCE_API_SECRET": "sec-456", "BINANCE_TESTNET": "true"}
    )
    assert config.testnet and config.api_key.reveal() == "key-123"
    assert "sec-456" not in repr(config) and "key-123" not in repr(config)
    with pytest.raises(ConfigError, match="api_key"):
        BinanceConfig.from_env({})
