"""python-binance's ``AsyncClient``, pointed at the configured endpoints and observed, not changed.

The client's URLs are class attributes, so a subclass made per configuration carries the
loopback (or testnet) addresses; response headers (used weight, order counts) are observed with
an aiohttp trace hook passed through the client's ``session_params``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any, Final

import aiohttp
from binance import AsyncClient
from binance.ws.constants import WSListenerState

from autotrader_binance.config import BinanceConfig

__all__ = ["HeaderObserver", "client_class", "close_client", "create_client"]

log = logging.getLogger(__name__)

HeaderObserver = Callable[[Mapping[str, str]], None]

_CLOSE_WAIT: Final = 2.0


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


async def close_client(client: AsyncClient) -> None:
    """Close the client without the library logging an error about its own shutdown.

    The library stops its WebSocket API reader by flagging it and waiting until its next receive
    returns, up to ten seconds; closing the socket under it instead makes it log a
    ``ConnectionClosedOK`` error.  So the reader is flagged here and woken by the answer to a
    WebSocket API ``ping`` (registered as a request of ours, so the library routes the answer
    quietly): it then ends cleanly, and closing finds nothing left to wait for.
    """
    with contextlib.suppress(Exception):  # closing must not fail the caller
        await asyncio.wait_for(_stop_ws_reader(client), _CLOSE_WAIT)
    api = client.ws_api
    if api._handle_read_loop is not None and api.ws is not None:
        # No answer to the ping (a dead connection): cut the socket rather than wait ten seconds.
        api.ws_state = WSListenerState.EXITING
        with contextlib.suppress(Exception):
            await api.ws.close()
    try:
        await asyncio.wait_for(client.close_connection(), 5)
    except Exception:
        log.debug("binance: closing the client failed", exc_info=True)


async def _stop_ws_reader(client: AsyncClient) -> None:
    api = client.ws_api
    ws = api.ws
    if ws is None or api.ws_state is not WSListenerState.STREAMING or api._handle_read_loop is None:
        return
    request_id = f"close-{uuid.uuid4().hex}"
    answered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    api._responses[request_id] = answered
    api.ws_state = WSListenerState.EXITING
    try:
        await ws.send(api.json_dumps({"id": request_id, "method": "ping"}))
        # Whatever message comes first (the answer, or an event already on its way) wakes it.
        while api._handle_read_loop is not None:  # noqa: ASYNC110 - the library offers nothing to await
            await asyncio.sleep(0.005)
    finally:
        api._responses.pop(request_id, None)
        if answered.done() and not answered.cancelled():
            answered.exception()  # an error answer (a ban) is expected here, not an unhandled failure
        answered.cancel()
