"""The Binance broker's configuration: credentials (as :class:`Secret`), endpoints, timeouts.

Credentials are best kept out of configuration files: ``BINANCE_API_KEY`` / ``BINANCE_API_SECRET``
in the environment, or ``credentials_file`` naming an owner-only YAML file (``api_key: ...``,
``api_secret: ...``), which autotrader refuses if group or others can read it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs
from autotrader.credentials import Secret, load_credentials
from autotrader.errors import ConfigError

__all__ = [
    "ENV_API_KEY",
    "ENV_API_SECRET",
    "ENV_API_URL",
    "ENV_PREFIX",
    "ENV_STREAM_URL",
    "ENV_TESTNET",
    "ENV_WS_API_URL",
    "BinanceConfig",
]

ENV_PREFIX: Final = "BINANCE_"
ENV_API_KEY: Final = "BINANCE_API_KEY"
ENV_API_SECRET: Final = "BINANCE_API_SECRET"
ENV_TESTNET: Final = "BINANCE_TESTNET"
ENV_API_URL: Final = "BINANCE_API_URL"
ENV_WS_API_URL: Final = "BINANCE_WS_API_URL"
ENV_STREAM_URL: Final = "BINANCE_STREAM_URL"


def _secret(value: Secret | str) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _loopback_or_tls(name: str, url: str | None, secure: str) -> None:
    """Credentials and orders never travel in clear text to anything but this machine."""
    if url is None:
        return
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
    if scheme == secure or host in ("127.0.0.1", "localhost", "::1"):
        return
    raise ConfigError(f"binance.{name}", f"{url!r} must use {secure}:// (plain text only to 127.0.0.1)")


def _symbols(symbols: Iterable[str]) -> tuple[str, ...]:
    """Any iterable of symbols as the config's tuple (typed, so ``attrs.evolve`` checks it)."""
    return tuple(symbols)


@attrs.frozen
class BinanceConfig:
    """How to reach Binance spot.

    ``api_url`` / ``ws_api_url`` / ``stream_url`` point the client somewhere else than Binance
    (the local venue: ``http://127.0.0.1:9000/api``, ``ws://127.0.0.1:9000/ws-api/v3`` and
    ``ws://127.0.0.1:9000/``); ``testnet`` selects Binance's spot testnet
    (``testnet.binance.vision``, python-binance's ``testnet=True``).
    """

    api_key: Secret = attrs.field(converter=_secret)
    api_secret: Secret = attrs.field(converter=_secret)
    testnet: bool = False
    api_url: str | None = None
    ws_api_url: str | None = None
    stream_url: str | None = None
    """The market data streams' base (python-binance's ``STREAM_URL``, ending in ``/``)."""
    request_timeout: float = 10.0
    """Seconds to wait for a REST answer; past it an order's outcome is ambiguous."""
    recv_window: int = 5000
    """Milliseconds a signed request stays valid at the venue (Binance's ``recvWindow``)."""
    quote_asset: str = "USDT"
    """The asset positions are valued against: the base balance of ``<BASE><quote_asset>`` is its position."""
    symbols: tuple[str, ...] = attrs.field(default=(), converter=_symbols)
    """Restrict the instruments loaded (empty: every symbol ``exchangeInfo`` lists).  Also where an
    order this process did not send is looked for: Binance finds orders per symbol."""
    stream_reconnect_timeout: float = 15.0
    """How long to wait for the library's WebSocket reconnection before subscribing anyway."""
    clock_sync_interval: float = 300.0
    """Seconds between measurements of the server clock (each -1021 measures it too)."""
    market_reconnect_initial: float = 0.2
    """First wait before connecting a live-quote stream again after a failed attempt (doubling)."""
    market_reconnect_max: float = 10.0
    """Longest wait between attempts; a connection that lived this long resets the backoff."""

    def __attrs_post_init__(self) -> None:
        if not self.api_key:
            raise ConfigError("binance.api_key", f"missing: set ${ENV_API_KEY} (or credentials_file)")
        if not self.api_secret:
            raise ConfigError("binance.api_secret", f"missing: set ${ENV_API_SECRET} (or credentials_file)")
        if self.request_timeout <= 0:
            raise ConfigError("binance.request_timeout", "must be positive")
        if not 0 < self.recv_window <= 60000:
            raise ConfigError("binance.recv_window", "must be in 1..60000 ms")
        if self.clock_sync_interval <= 0:
            raise ConfigError("binance.clock_sync_interval", "must be positive")
        if not 0 < self.market_reconnect_initial <= self.market_reconnect_max:
            raise ConfigError(
                "binance.market_reconnect_initial", "must be positive and at most market_reconnect_max"
            )
        _loopback_or_tls("api_url", self.api_url, "https")
        _loopback_or_tls("ws_api_url", self.ws_api_url, "wss")
        _loopback_or_tls("stream_url", self.stream_url, "wss")

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        credentials_file: str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> BinanceConfig:
        """``overrides`` (``broker_config``), else the environment, else ``credentials_file``.

        Credentials: ``api_key`` / ``api_secret`` given here, else ``BINANCE_API_KEY`` /
        ``BINANCE_API_SECRET``, else the owner-only YAML ``credentials_file``.  Endpoints:
        ``BINANCE_TESTNET``, ``BINANCE_API_URL``, ``BINANCE_WS_API_URL``, ``BINANCE_STREAM_URL``.
        """
        source = os.environ if env is None else env
        values: dict[str, Any] = dict(
            load_credentials(
                ["api_key", "api_secret"], env_prefix=ENV_PREFIX, file=credentials_file, environ=source
            )
        )
        values.setdefault("api_key", "")
        values.setdefault("api_secret", "")
        values["testnet"] = _flag(source.get(ENV_TESTNET))
        if source.get(ENV_API_URL):
            values["api_url"] = source[ENV_API_URL]
        if source.get(ENV_WS_API_URL):
            values["ws_api_url"] = source[ENV_WS_API_URL]
        if source.get(ENV_STREAM_URL):
            values["stream_url"] = source[ENV_STREAM_URL]
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = sorted(set(values) - {a.name for a in attrs.fields(cls)})
        if unknown:
            raise ConfigError("broker_config", f"unknown Binance setting(s): {', '.join(unknown)}")
        return cls(**values)
