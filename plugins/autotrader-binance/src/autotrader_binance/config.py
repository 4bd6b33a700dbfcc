"""The Binance broker's configuration: credentials (as :class:`Secret`), endpoints, timeouts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs
from autotrader.credentials import Secret
from autotrader.errors import ConfigError

__all__ = ["ENV_API_KEY", "ENV_API_SECRET", "ENV_TESTNET", "BinanceConfig"]

ENV_API_KEY = "BINANCE_API_KEY"
ENV_API_SECRET = "BINANCE_API_SECRET"
ENV_TESTNET = "BINANCE_TESTNET"
ENV_API_URL = "BINANCE_API_URL"
ENV_WS_API_URL = "BINANCE_WS_API_URL"


def _secret(value: Secret | str) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@attrs.frozen
class BinanceConfig:
    """How to reach Binance spot.

    ``api_url`` / ``ws_api_url`` point the client somewhere else than Binance (the local venue:
    ``http://127.0.0.1:9000/api`` and ``ws://127.0.0.1:9000/ws-api/v3``); ``testnet`` selects
    Binance's spot testnet (``testnet.binance.vision``).
    """

    api_key: Secret = attrs.field(converter=_secret)
    api_secret: Secret = attrs.field(converter=_secret)
    testnet: bool = False
    api_url: str | None = None
    ws_api_url: str | None = None
    request_timeout: float = 10.0
    """Seconds to wait for a REST answer; past it an order's outcome is ambiguous."""
    recv_window: int = 5000
    """Milliseconds a signed request stays valid at the venue (Binance's ``recvWindow``)."""
    quote_asset: str = "USDT"
    """The asset positions are valued against: the base balance of ``<BASE><quote_asset>`` is its position."""
    symbols: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    """Restrict the instruments loaded (empty: every symbol ``exchangeInfo`` lists)."""
    stream_reconnect_timeout: float = 15.0
    """How long to wait for the library's WebSocket reconnection before subscribing anyway."""

    def __attrs_post_init__(self) -> None:
        if not self.api_key:
            raise ConfigError("binance.api_key", f"missing: set it in the config or ${ENV_API_KEY}")
        if not self.api_secret:
            raise ConfigError("binance.api_secret", f"missing: set it in the config or ${ENV_API_SECRET}")
        if self.request_timeout <= 0:
            raise ConfigError("binance.request_timeout", "must be positive")
        if not 0 < self.recv_window <= 60000:
            raise ConfigError("binance.recv_window", "must be in 1..60000 ms")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> BinanceConfig:
        """Values from ``overrides``, else from the environment (``BINANCE_API_KEY``...)."""
        source = os.environ if env is None else env
        values: dict[str, Any] = {
            "api_key": source.get(ENV_API_KEY, ""),
            "api_secret": source.get(ENV_API_SECRET, ""),
            "testnet": _flag(source.get(ENV_TESTNET)),
        }
        if source.get(ENV_API_URL):
            values["api_url"] = source[ENV_API_URL]
        if source.get(ENV_WS_API_URL):
            values["ws_api_url"] = source[ENV_WS_API_URL]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
