"""Live quotes for :meth:`BinanceAdapter.quotes`: python-binance's ``<symbol>@bookTicker`` streams,
kept alive.

What python-binance 1.0.37 does with a market socket (``BinanceSocketManager``'s
``symbol_book_ticker_socket`` or ``multiplex_socket``, a ``ReconnectingWebsocket``): a reader
task reads the connection into a queue.  When the connection drops, the reader puts
``{"e": "error"}`` messages on the queue and reconnects to the same URL by itself (which restores
the subscription, since it is in the URL), after a random wait of 1 to 2**n seconds, five times at
most, and then stops for good.  Three things it does not do, which this feed does:

* **The current book.**  bookTicker sends changes only, so after every connection the feed asks
  ``GET /api/v3/ticker/bookTicker`` for the symbols' best bid and ask and delivers that before
  the changes queued meanwhile (in arrival order, so the last quote shown is the venue's latest).
* **Tell a failure that will pass from one that will not.**  The library swallows the reason a
  reconnection failed: an HTTP 451 (a restricted location) looks like a refused connection, and
  is retried five times over half a minute.  So the feed reconnects itself: at the first sign of
  a drop it stops the library's reader and opens a new socket, with exponential backoff and
  jitter (stamina), sees each handshake's answer, and ends the quote stream with the mapped error
  when retrying cannot help (:func:`~autotrader_binance.errors.translate_stream_error`; a
  bookTicker answer such as -1121).
* **Stop at once.**  The library's ``close()`` waits for its reader, which may sit in a ten-second
  receive or in a reconnection sleep; and a reconnection that completes after ``close()`` began
  sets the socket streaming again, so the wait never ends.  The feed cancels the reader task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

import stamina
from autotrader.errors import RateLimited, TransientError
from autotrader.model import Quote
from binance.exceptions import ReadLoopClosed

from autotrader_binance import mapping
from autotrader_binance.errors import translate_stream_error
from autotrader_binance.tasks import cancel_until_done

__all__ = ["BookTickerFeed", "LibrarySocket", "StreamDropped"]

log = logging.getLogger(__name__)

VENUE: Final = "binance"
_CLOSE_WAIT: Final = 2.0


class StreamDropped(TransientError):
    """The market stream connection ended soon after it opened (the venue or the network cut it)."""


class LibrarySocket:
    """A python-binance market socket whose reader task is known, so that it can be stopped at once."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self._reader: asyncio.Task[Any] | None = None
        self._closing: asyncio.Future[None] | None = None
        read_loop = socket._read_loop

        async def tracked_read_loop() -> None:
            self._reader = asyncio.current_task()
            await read_loop()

        socket._read_loop = tracked_read_loop  # the library starts its reader from this attribute

    async def open(self) -> None:
        """Connect (the handshake's failure is raised as the library got it) and let the reader start."""
        await self.socket.connect()
        # connect() schedules the reader with call_soon_threadsafe: it starts an iteration or two later.
        while self._reader is None and self.socket._handle_read_loop is not None:  # noqa: ASYNC110
            await asyncio.sleep(0)

    async def recv(self) -> Any:
        return await self.socket.recv()

    async def close(self) -> None:
        """Stop the reader and close the connection; a cancellation of the caller (the feed being
        stopped, again) does not interrupt the closing, which finishes on its own."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        if self._reader is not None:
            await cancel_until_done(self._reader)
        with contextlib.suppress(Exception):  # the connection may be long gone
            await asyncio.wait_for(self.socket.close(), _CLOSE_WAIT)


def _retry_on(error: Exception) -> bool | float:
    """stamina's hook: connect again after a transient failure, after Retry-After when rate limited."""
    if isinstance(error, RateLimited):
        return error.retry_after if error.retry_after else True
    return isinstance(error, TransientError)


class BookTickerFeed:
    """Delivers the bookTicker quotes of ``symbols`` until cancelled, reconnecting by itself."""

    def __init__(
        self,
        open_socket: Callable[[tuple[str, ...]], Any],
        symbols: tuple[str, ...],
        *,
        snapshot: Callable[[], Awaitable[list[Quote]]],
        deliver: Callable[[Quote], None],
        reconnect_initial: float,
        reconnect_max: float,
    ) -> None:
        self._open_socket = open_socket
        self.symbols = symbols
        self._snapshot = snapshot
        self._deliver = deliver
        self.reconnect_initial = reconnect_initial
        self.reconnect_max = reconnect_max
        self.connections = 0
        """Sessions that connected and delivered the current book."""

    async def run(self) -> None:
        """Deliver quotes until cancelled; raise the error that no reconnection can cure.

        A connection that lived ``reconnect_max`` seconds or more ends the backoff: the next one is
        opened at once.  One that ended sooner counts as a failure, and the waits grow.
        """
        while True:
            async for attempt in stamina.retry_context(
                on=_retry_on,
                attempts=None,
                timeout=None,
                wait_initial=self.reconnect_initial,
                wait_max=self.reconnect_max,
                wait_jitter=self.reconnect_initial,
            ):
                with attempt:
                    await self._session()

    async def _session(self) -> None:
        loop = asyncio.get_running_loop()
        socket = LibrarySocket(self._open_socket(self.symbols))
        try:
            try:
                await socket.open()
            except Exception as exc:
                error = translate_stream_error(exc)
                log.info("binance market stream: connecting failed: %s", error)
                raise error from exc
            for quote in await self._snapshot():
                self._deliver(quote)
            self.connections += 1
            opened = loop.time()
            await self._relay(socket)
        finally:
            await socket.close()
        lived = loop.time() - opened
        if lived < self.reconnect_max:
            raise StreamDropped(f"the binance market stream dropped after {lived:.1f} s")
        log.info("binance market stream: dropped after %.0f s; connecting again", lived)

    async def _relay(self, socket: LibrarySocket) -> None:
        """Deliver every quote of one connection; return when the library reports it gone."""
        while True:
            try:
                message = await socket.recv()
            except ReadLoopClosed:
                log.info("binance market stream: the library's reader stopped")
                return
            if isinstance(message, dict) and message.get("e") == "error":
                log.info("binance market stream: %s (%s)", message.get("type"), message.get("m"))
                return
            quote = mapping.quote_from_book_ticker(message, VENUE)
            if quote is not None:
                self._deliver(quote)
