"""python-binance is asyncio-only: under trio the harness, the adapter and an engine refuse, saying why."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from autotrader.engine import ExecutionConfig, ExecutionEngine
from autotrader.errors import ConfigError, UnsupportedBackend
from autotrader.plugins import BrokerRegistry
from autotrader.testing.support import IdleStrategy

from autotrader_binance.adapter import BinanceAdapter
from autotrader_binance.capabilities import ASYNCIO_ONLY_REASON
from autotrader_binance.client import socket_manager
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


def test_market_stream_settings() -> None:
    env = {"BINANCE_API_KEY": "k", "BINANCE_API_SECRET": "s", "BINANCE_STREAM_URL": "ws://127.0.0.1:9000/"}
    assert BinanceConfig.from_env(env).stream_url == "ws://127.0.0.1:9000/"
    with pytest.raises(ConfigError, match=r"stream_url.*must use wss"):
        BinanceConfig.from_env(env, stream_url="ws://stream.example.com/")
    with pytest.raises(ConfigError, match="market_reconnect_initial"):
        BinanceConfig.from_env(env, market_reconnect_initial=20, market_reconnect_max=10)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_the_socket_manager_streams_from_the_configured_url() -> None:
    """python-binance builds each market socket's URL from the manager's STREAM_URL (or, with
    testnet, STREAM_TESTNET_URL); the plugin points both at ``stream_url``."""
    client = SimpleNamespace(tld="com", testnet=True, demo=False, https_proxy=None)
    config = BinanceConfig(api_key="k", api_secret="s", testnet=True, stream_url="ws://127.0.0.1:9000")
    manager = socket_manager(client, config)
    socket = manager.symbol_book_ticker_socket("BTCUSDT")
    assert socket._url + socket._prefix + socket._path == "ws://127.0.0.1:9000/ws/btcusdt@bookTicker"
    combined = manager.multiplex_socket(["btcusdt@bookTicker", "ethusdt@bookTicker"])
    assert combined._url + combined._prefix + combined._path == (
        "ws://127.0.0.1:9000/stream?streams=btcusdt@bookTicker/ethusdt@bookTicker"
    )
    untouched = socket_manager(client, BinanceConfig(api_key="k", api_secret="s", testnet=True))
    assert untouched.multiplex_socket(["x@bookTicker"])._url == "wss://stream.testnet.binance.vision/"
