"""python-binance's ``AsyncClient``, pointed at the configured endpoints and observed, not changed.

The client's URLs are class attributes, so a subclass made per configuration carries the
loopback (or testnet) addresses; response headers (used weight, order counts) are observed with
an aiohttp trace hook passed through the client's ``session_params``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

import aiohttp
from binance import AsyncClient

from autotrader_binance.config import BinanceConfig

__all__ = ["HeaderObserver", "client_class", "create_client"]

HeaderObserver = Callable[[Mapping[str, str]], None]


def client_class(config: BinanceConfig) -> type[AsyncClient]:
    """An ``AsyncClient`` subclass whose URLs and timeouts come from ``config``."""
    overrides: dict[str, Any] = {
        "REQUEST_TIMEOUT": config.request_timeout,
        "REQUEST_RECVWINDOW": config.recv_window,
    }
    if config.api_url:
        overrides["API_URL"] = overrides["API_TESTNET_URL"] = config.api_url.rstrip("/")
    if config.ws_api_url:
        overrides["WS_API_URL"] = overrides["WS_API_TESTNET_URL"] = config.ws_api_url
    return type("ConfiguredAsyncClient", (AsyncClient,), overrides)


def _trace(observer: HeaderObserver) -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()

    async def on_request_end(
        session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        observer(params.response.headers)

    trace.on_request_end.append(on_request_end)
    return trace


async def create_client(config: BinanceConfig, observer: HeaderObserver) -> AsyncClient:
    """Build and start the client (``create`` pings and measures the server clock offset)."""
    cls = client_class(config)
    client: AsyncClient = await cls.create(
        api_key=config.api_key.reveal(),
        api_secret=config.api_secret.reveal(),
        testnet=config.testnet,
        session_params={"trace_configs": [_trace(observer)]},
    )
    return client
