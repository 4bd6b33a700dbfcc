"""python-binance's ``AsyncClient``, pointed at the configured endpoints, with two repairs.

The client's URLs are class attributes, so a subclass made per configuration carries the
loopback (or testnet) addresses.  The subclass also changes two things the library does on every
request, both measured with ``benchmarks/bench_wire_binance.py``:

* **The body is sent as it was signed.**  python-binance signs ``k=v&...`` unencoded and then hands
  aiohttp a list of pairs, which aiohttp form-encodes again (``quote_plus``) through a FormData and
  a multipart writer.  Binance checks the signature against the bytes it receives, so a client
  order id with ``:`` or ``/`` (legal at Binance) was refused with -1022; and the re-encoding was
  about a quarter of the client's time per order.  The signed string itself is now the body, as
  the library already does for the query string of a GET.  For an HMAC-signed order, cancel or
  amendment that string is built and signed (by the library's ``_hmac_signature``) in one pass,
  where the library sorted and filtered the parameters three times: 6 us of 12 per order.
* **An answer is decoded once**, by orjson (the library reads it as text, then parses it as JSON
  again with the standard library's decoder, four times slower on a new order's answer).

Its WebSocket API connection (``ws_api``, which carries the user data stream) is a
:class:`~autotrader_binance.wsapi.LeanWebsocketAPI`: no compression, each event decoded once.

Response headers (used weight, order counts) are read from ``client.response``, which the library
keeps for the last answer.

The market data streams' address is a class attribute too, of ``BinanceSocketManager``
(``STREAM_URL``, or ``STREAM_TESTNET_URL`` with ``testnet``); :func:`socket_manager` makes one
pointed at the configured ``stream_url``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import quote

import aiohttp
import orjson
from binance import AsyncClient
from binance.exceptions import BinanceAPIException, BinanceRequestException
from binance.ws.constants import WSListenerState
from binance.ws.streams import BinanceSocketManager

from autotrader_binance.config import BinanceConfig
from autotrader_binance.wsapi import LeanWebsocketAPI

__all__ = ["BinanceClient", "client_class", "close_client", "create_client", "socket_manager"]

log = logging.getLogger(__name__)

_CLOSE_WAIT: Final = 2.0
MARKET_QUEUE_SIZE: Final = 5000
"""Messages python-binance may hold for a market socket before its reader stops with an overflow
(its default, 100, is under a second of a busy symbol's bookTicker)."""


class BinanceClient(AsyncClient):  # type: ignore[misc]  # python-binance ships no type information
    """``AsyncClient`` sending each signed body exactly as signed, decoding each answer once."""

    ws_api: Any  # the library's WebsocketAPI, then ours

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        library = self.ws_api  # made by the library's constructor: same address, same proxy
        self.ws_api = LeanWebsocketAPI(library._url, tld=self.tld, https_proxy=library._https_proxy)

    def _get_request_kwargs(
        self, method: str, signed: bool, force_params: bool = False, **kwargs: Any
    ) -> Any:
        data = kwargs.get("data")
        if signed and type(data) is dict and self._signs_plain_body(method, force_params, data):
            return {**kwargs, "timeout": self.REQUEST_TIMEOUT, "data": self._signed_body(data)}
        request: dict[str, Any] = super()._get_request_kwargs(method, signed, force_params, **kwargs)
        pairs = request.get("data")
        if isinstance(pairs, list) and not self.PRIVATE_KEY:  # RSA/Ed25519 signing re-reads the pairs
            request["data"] = _query(pairs)
        return request

    def _signs_plain_body(self, method: str, force_params: bool, data: dict[str, Any]) -> bool:
        """An HMAC-signed form body of plain parameters: orders, cancels, amendments.

        Anything else (a GET, a key pair, per-request ``requests_params``) takes the library's
        own path above.
        """
        return (
            method in ("post", "put", "delete")
            and not force_params
            and "requests_params" not in data
            and "signature" not in data
            and not self._requests_params
            and not self.PRIVATE_KEY
        )

    def _signed_body(self, data: dict[str, Any]) -> str:
        """What the library's ``_get_request_kwargs`` builds, in one pass instead of four.

        The library adds ``timestamp`` and ``recvWindow``, drops ``None`` values, sorts the
        parameters by name and signs the text with ``_hmac_signature`` (then sorts them again,
        filters them again and hands them on as pairs); here the text is built once, signed by
        the same ``_hmac_signature``, and sent as signed.  ``test_client.py`` checks that both
        give the same bytes.  A hex digest is its own URI encoding, so none is applied.
        """
        fields = {key: str(value) for key, value in data.items() if value is not None}
        fields["timestamp"] = str(int(time.time() * 1000 + self.timestamp_offset))
        if self.REQUEST_RECVWINDOW:
            fields["recvWindow"] = str(self.REQUEST_RECVWINDOW)
        query = _query(sorted(fields.items()))
        signature: str = self._hmac_signature(query)
        return f"{query}&signature={signature}"

    async def _handle_response(self, response: aiohttp.ClientResponse) -> Any:
        body = await response.read()
        if not 200 <= response.status < 300:
            raise BinanceAPIException(response, response.status, body.decode("utf-8", "replace"))
        if not body:
            return {}
        try:
            return orjson.loads(body)
        except ValueError:  # orjson.JSONDecodeError is one
            text = body.decode("utf-8", "replace")
            raise BinanceRequestException(f"Invalid Response: {text}") from None


def _query(pairs: Iterable[tuple[str, str]]) -> str:
    """The text python-binance signs (``base_client._generate_signature``): only the symbol is quoted."""
    return "&".join(f"{k}={quote(v) if k == 'symbol' else v}" for k, v in pairs)


def client_class(config: BinanceConfig) -> type[BinanceClient]:
    """A :class:`BinanceClient` subclass whose URLs and timeouts come from ``config``."""
    overrides: dict[str, Any] = {
        "REQUEST_TIMEOUT": config.request_timeout,
        "REQUEST_RECVWINDOW": config.recv_window,
    }
    if config.api_url:
        overrides["API_URL"] = overrides["API_TESTNET_URL"] = config.api_url.rstrip("/")
    if config.ws_api_url:
        overrides["WS_API_URL"] = overrides["WS_API_TESTNET_URL"] = config.ws_api_url
    return type("ConfiguredBinanceClient", (BinanceClient,), overrides)


def socket_manager(client: AsyncClient, config: BinanceConfig) -> BinanceSocketManager:
    """A ``BinanceSocketManager`` whose market streams come from ``config.stream_url`` (if set)."""
    manager_class: type[BinanceSocketManager] = BinanceSocketManager
    if config.stream_url:
        url = config.stream_url.rstrip("/") + "/"  # the library appends ``ws/...`` or ``stream?...``
        manager_class = type(
            "ConfiguredSocketManager", (BinanceSocketManager,), {"STREAM_URL": url, "STREAM_TESTNET_URL": url}
        )
    return manager_class(client, max_queue_size=MARKET_QUEUE_SIZE)


async def create_client(config: BinanceConfig) -> BinanceClient:
    """Build and start the client (``create`` pings and measures the server clock offset)."""
    client: BinanceClient = await client_class(config).create(
        api_key=config.api_key.reveal(),
        api_secret=config.api_secret.reveal(),
        testnet=config.testnet,
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
