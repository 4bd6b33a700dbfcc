"""python-binance is asyncio-only: under trio the harness, the adapter and an engine refuse, saying why."""

from __future__ import annotations

from pathlib import Path

import pytest
from autotrader.engine import ExecutionConfig, ExecutionEngine
from autotrader.errors import ConfigError, UnsupportedBackend
from autotrader.plugins import BrokerRegistry
from autotrader.testing.support import IdleStrategy

from autotrader_binance.adapter import BinanceAdapter
from autotrader_binance.capabilities import ASYNCIO_ONLY_REASON
from autotrader_binance.config import BinanceConfig

ASYNCIO_ONLY = r"runs only under asyncio .python-binance is asyncio-only"


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


def test_credentials_from_an_owner_only_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "binance.yaml"
    secret_file.write_text("api_key: file-key\napi_secret: file-secret\n")
    secret_file.chmod(0o600)
    config = BinanceConfig.from_env({}, credentials_file=secret_file)
    assert (config.api_key.reveal(), config.api_secret.reveal()) == ("file-key", "file-secret")
    from_env = BinanceConfig.from_env({"BINANCE_API_KEY": "env-key"}, credentials_file=secret_file)
    assert from_env.api_key.reveal() == "env-key" and from_env.api_secret.reveal() == "file-secret"
    secret_file.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        BinanceConfig.from_env({}, credentials_file=secret_file)


def test_broker_config_is_checked() -> None:
    env = {"BINANCE_API_KEY": "k", "BINANCE_API_SECRET": "s"}
    with pytest.raises(ConfigError, match=r"unknown Binance setting.*bogus"):
        BinanceConfig.from_env(env, bogus=1)
    with pytest.raises(ConfigError, match="must use https"):
        BinanceConfig.from_env(env, api_url="http://binance.example.com/api")
    local = BinanceConfig.from_env(env, api_url="http://127.0.0.1:9000/api", ws_api_url="ws://[::1]:9000/ws")
    assert local.api_url == "http://127.0.0.1:9000/api"
    with pytest.raises(ConfigError, match="recv_window"):
        BinanceConfig.from_env(env, recv_window=70000)
