"""Binance's market data streams, as ``stream.binance.com`` serves them.

* Raw streams at ``/ws/<streamName>`` send the bare payload; combined streams at
  ``/stream?streams=<a>/<b>`` wrap it as ``{"stream": "<name>", "data": <payload>}``.
* The connection takes requests in text frames: ``SUBSCRIBE`` / ``UNSUBSCRIBE`` (a list of stream
  names), ``LIST_SUBSCRIPTIONS``, ``SET_PROPERTY`` / ``GET_PROPERTY`` (``combined``), answered
  ``{"result": ..., "id": ...}`` or with the documented error messages (``code`` 0 to 3); ``id``
  is a 64-bit integer, an alphanumeric string of at most 36 characters, or null.
* More than 5 incoming messages in a second close the connection; the server pings every 20 s.
* Stream names are lower case.  Of the stream kinds only ``<symbol>@bookTicker`` carries data
  here: every change of the symbol's best bid or ask (price or quantity) in real time, and
  nothing before the first change -- a client takes the current book from
  ``GET /api/v3/ticker/bookTicker``.  A name the venue has no data for (another kind, an unlisted
  symbol) is accepted and stays silent, like a symbol that never trades.

Faults for the harness: :meth:`MarketStreams.drop` cuts every connection without a close frame (a
network failure), :meth:`MarketStreams.refuse` answers new handshakes with an HTTP error (Binance
answers 451 to a restricted location, 429/418 to a client over its connection limits).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import time
from collections.abc import Iterable
from typing import Any, Final

from aiohttp import WSMsgType, web

from autotrader_binance.venue.book import BookTop
from autotrader_binance.venue.exchange import Exchange
from autotrader_binance.venue.outbox import Outbox, compact
from autotrader_binance.venue.wire import book_ticker_event

__all__ = ["RESTRICTED_LOCATION", "MarketStreams"]

BOOK_TICKER: Final = "bookTicker"
PING_INTERVAL: Final = 20.0
MESSAGES_PER_SECOND: Final = 5
METHODS: Final = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
RESTRICTED_LOCATION: Final = (
    "Service unavailable from a restricted location according to 'b. Eligibility' in "
    "https://www.binance.com/en/terms. Please contact customer service if you believe you "
    "received this message in error."
)
_MAX_INT64: Final = 2**63 - 1
_MISSING: Final = object()


class _RequestError(Exception):
    def __init__(self, code: int, msg: str, request_id: Any = None, *, with_id: bool = False) -> None:
        super().__init__(msg)
        self.body: dict[str, Any] = {"code": code, "msg": msg}
        if with_id:
            self.body["id"] = request_id


class _Connection:
    """One market stream connection: its subscriptions (in order) and how it frames payloads."""

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.BaseTransport | None, combined: bool):
        self.ws = ws
        self.transport = transport
        self.combined = combined
        self.outbox = Outbox(ws)
        self.streams: dict[str, None] = {}
        self.received: collections.deque[float] = collections.deque()

    def over_limit(self) -> bool:
        """Count one incoming message; True past the limit of 5 in any second."""
        now = time.monotonic()
        self.received.append(now)
        while self.received and now - self.received[0] >= 1.0:
            self.received.popleft()
        return len(self.received) > MESSAGES_PER_SECOND


class MarketStreams:
    """The market stream endpoints of one venue, fed by the exchange's book tickers."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.connections: set[_Connection] = set()
        self.refusal: tuple[int, str, dict[str, str]] | None = None
        self.handshakes = 0
        """Connections accepted so far (what a client did, for tests)."""
        self.refused = 0
        """Handshakes answered with the :meth:`refuse` status."""
        exchange.books.add_listener(self._publish)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/ws", self._raw)
        app.router.add_get("/ws/{stream}", self._raw)
        app.router.add_get("/stream", self._combined)

    # ------------------------------------------------------------------ faults
    def drop(self) -> int:
        """Cut every market stream connection without a close frame; returns how many."""
        dropped = 0
        for connection in list(self.connections):
            self._forget(connection)
            if connection.transport is not None:
                connection.transport.abort()  # type: ignore[attr-defined]
            dropped += 1
        return dropped

    def refuse(
        self, status: int | None, message: str = RESTRICTED_LOCATION, *, retry_after: int | None = None
    ) -> None:
        """Answer new handshakes with HTTP ``status`` and Binance's ``{"code": 0, "msg"}`` (and a
        ``Retry-After`` header if given); ``None`` accepts them again."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.refusal = None if status is None else (status, message, headers)

    async def close(self) -> None:
        for connection in list(self.connections):
            with contextlib.suppress(Exception):
                await connection.ws.close(code=1001, message=b"venue shutting down")

    # ------------------------------------------------------------------ connections
    async def _raw(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("stream", "")
        return await self._serve(request, [name] if name else [], combined=False)

    async def _combined(self, request: web.Request) -> web.StreamResponse:
        names = [n for n in request.query.get("streams", "").split("/") if n]
        return await self._serve(request, names, combined=True)

    async def _serve(self, request: web.Request, names: list[str], *, combined: bool) -> web.StreamResponse:
        if self.refusal is not None:
            status, reason, headers = self.refusal
            self.refused += 1
            return web.json_response({"code": 0, "msg": reason}, status=status, headers=headers)
        ws = web.WebSocketResponse(heartbeat=PING_INTERVAL)
        await ws.prepare(request)
        self.handshakes += 1
        connection = _Connection(ws, request.transport, combined)
        self.connections.add(connection)
        self._subscribe(connection, names)
        connection.outbox.start()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                if connection.over_limit():  # what came before is answered, then the door shuts
                    await connection.outbox.flush()
                    await ws.close(code=1008, message=b"Too many requests")
                    break
                connection.outbox.send(self._answer(connection, message.data))
        finally:
            self._forget(connection)
            await connection.outbox.stop()
        return ws

    def _forget(self, connection: _Connection) -> None:
        if connection in self.connections:
            self.connections.discard(connection)
            self._unsubscribe(connection, list(connection.streams))

    # ------------------------------------------------------------------ subscriptions
    def _symbol_of(self, name: str) -> str | None:
        """The listed symbol a ``<symbol>@bookTicker`` name streams, else None (a silent stream)."""
        symbol, _, kind = name.partition("@")
        upper = symbol.upper()
        if kind == BOOK_TICKER and symbol == symbol.lower() and upper in self.exchange.markets:
            return upper
        return None

    def _subscribe(self, connection: _Connection, names: Iterable[str]) -> None:
        for name in names:
            if name in connection.streams:
                continue
            connection.streams[name] = None
            symbol = self._symbol_of(name)
            if symbol is not None:
                self.exchange.books.watch(symbol)

    def _unsubscribe(self, connection: _Connection, names: Iterable[str]) -> None:
        for name in names:
            if name not in connection.streams:
                continue
            del connection.streams[name]
            symbol = self._symbol_of(name)
            if symbol is not None:
                self.exchange.books.unwatch(symbol)

    def _publish(self, top: BookTop) -> None:
        name = f"{top.symbol.lower()}@{BOOK_TICKER}"
        raw = compact(book_ticker_event(top))
        wrapped: str | None = None
        for connection in self.connections:
            if name not in connection.streams:
                continue
            if connection.combined:
                wrapped = wrapped or f'{{"stream":{json.dumps(name)},"data":{raw}}}'
                connection.outbox.send_text(wrapped)
            else:
                connection.outbox.send_text(raw)

    # ------------------------------------------------------------------ requests
    def _answer(self, connection: _Connection, text: str) -> dict[str, Any]:
        try:
            result, request_id = self._request(connection, text)
        except _RequestError as exc:
            return exc.body
        return {"result": result, "id": request_id}

    def _request(self, connection: _Connection, text: str) -> tuple[Any, Any]:
        try:
            request = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _RequestError(
                3, f"Invalid JSON: expected value at line {exc.lineno} column {exc.colno}"
            ) from None
        if not isinstance(request, dict) or "method" not in request:
            raise _RequestError(2, f"Invalid request: missing field `method` at line 1 column {len(text)}")
        request_id = request.get("id", _MISSING)
        if not _valid_id(request_id):
            raise _RequestError(2, "Invalid request: request ID must be an unsigned integer")
        method = request["method"]
        if method not in METHODS:
            expected = ", ".join(f"`{m}`" for m in METHODS)
            column = text.find(str(method)) + len(str(method)) + 1
            where = f"at line 1 column {column}"
            raise _RequestError(
                2, f"Invalid request: unknown variant `{method}`, expected one of {expected} {where}"
            )
        params = request.get("params") or []
        if not isinstance(params, list):
            raise _RequestError(2, "Invalid request: params must be an array")
        if method == "SUBSCRIBE":
            self._subscribe(connection, _names(params))
            return None, request_id
        if method == "UNSUBSCRIBE":
            self._unsubscribe(connection, _names(params))
            return None, request_id
        if method == "LIST_SUBSCRIPTIONS":
            return list(connection.streams), request_id
        return self._property(connection, method, params, request_id), request_id

    @staticmethod
    def _property(connection: _Connection, method: str, params: list[Any], request_id: Any) -> Any:
        limit = 2 if method == "SET_PROPERTY" else 1
        if len(params) > limit:
            raise _RequestError(2, "Invalid request: too many parameters")
        if not params or not isinstance(params[0], str):
            raise _RequestError(2, "Invalid request: property name must be a string")
        if params[0] != "combined":
            raise _RequestError(0, "Unknown property", request_id, with_id=True)
        if method == "GET_PROPERTY":
            return connection.combined
        if len(params) < 2 or not isinstance(params[1], bool):
            raise _RequestError(1, "Invalid value type: expected Boolean")
        connection.combined = params[1]
        return None


def _valid_id(value: Any) -> bool:
    """Binance accepts a 64-bit signed integer, an alphanumeric string of up to 36 characters, or null."""
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -_MAX_INT64 - 1 <= value <= _MAX_INT64
    return isinstance(value, str) and len(value) <= 36 and value.isascii() and value.isalnum()


def _names(params: list[Any]) -> list[str]:
    if not all(isinstance(p, str) for p in params):
        raise _RequestError(2, "Invalid request: stream names must be strings")
    return list(params)
