"""The broker adapter contract.

An adapter is the only code that talks to a venue.  It maps the core's requests to the venue's
wire format and every venue answer or failure to the core's model and error taxonomy
(:mod:`autotrader.errors`).  Events (order updates and fills) are pushed to listeners
synchronously, in the order the venue sent them; de-duplication and ordering are the OMS's job,
so an adapter passes on what it sees and never drops a fill.
"""

from __future__ import annotations

import abc
import logging
import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from typing import Any, ClassVar, TypeAlias

import anyio
import sniffio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from autotrader.capabilities import Capabilities
from autotrader.errors import NotConnected, NotSupported, OrderNotFound, UnknownSymbol, UnsupportedBackend
from autotrader.model import (
    Balance,
    Fill,
    Instrument,
    ModifyRequest,
    Order,
    OrderRequest,
    OrderStatus,
    OrderUpdate,
    Position,
    Quote,
)

__all__ = [
    "BaseBrokerAdapter",
    "BrokerAdapter",
    "Capabilities",
    "ExecutionEvent",
    "QuoteStream",
    "check_backend",
]

log = logging.getLogger(__name__)

ExecutionEvent: TypeAlias = OrderUpdate | Fill
EventListener: TypeAlias = Callable[[ExecutionEvent], None]

QUOTE_BUFFER = 1024
"""Quotes held for a slow reader before the oldest are dropped: a quote is stale once a newer one
arrives, so a reader that falls behind loses ticks, never memory (the count is ``dropped``)."""


def check_backend(adapter: BrokerAdapter) -> None:
    """Refuse to run ``adapter`` under an event loop it was not built for, with the reason."""
    try:
        current = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return
    caps = adapter.capabilities
    if current not in caps.async_backends:
        why = f" ({caps.asyncio_only_reason})" if caps.asyncio_only_reason else ""
        supported = ", ".join(sorted(caps.async_backends))
        raise UnsupportedBackend(
            f"the {adapter.name!r} broker runs only under {supported}{why}; it was started under {current}"
        )


class BrokerAdapter(abc.ABC):
    """Base class of every broker adapter.

    Subclasses implement the abstract coroutines and call :meth:`_emit` for every order update
    and fill the venue reports (from the stream, and for synchronous acks where the venue has no
    stream).  Errors must be instances of :mod:`autotrader.errors` classes.
    """

    name: ClassVar[str] = "broker"
    capabilities: Capabilities = Capabilities()

    def __init__(self) -> None:
        # Tuples, replaced (not mutated) on (un)subscribe, so that delivering an event -- three
        # times per order -- iterates them without copying, safe against a listener that
        # unsubscribes while being called.
        self._listeners: tuple[EventListener, ...] = ()
        self._fill_callbacks: tuple[Callable[[Fill], Any], ...] = ()
        self._streams: tuple[MemoryObjectSendStream[ExecutionEvent], ...] = ()

    # ------------------------------------------------------------------ lifecycle
    @abc.abstractmethod
    async def connect(self) -> bool:
        """Open sessions and streams, load instruments.  Returns True when ready."""

    @abc.abstractmethod
    async def disconnect(self) -> None:
        """Close everything; safe to call twice."""

    @property
    @abc.abstractmethod
    def is_connected(self) -> bool: ...

    async def health_check(self) -> bool:
        """A cheap round trip to the venue; the resiliency layer calls it periodically."""
        return self.is_connected

    # ------------------------------------------------------------------ reference data
    @abc.abstractmethod
    async def instruments(self) -> Mapping[str, Instrument]:
        """Every tradable instrument by symbol, with the venue's filters."""

    # ------------------------------------------------------------------ orders
    @abc.abstractmethod
    async def submit_order(self, request: OrderRequest) -> OrderUpdate:
        """Send a new order carrying ``request.client_order_id`` to the venue; return its ack."""

    @abc.abstractmethod
    async def cancel_order(self, client_order_id: str) -> OrderUpdate:
        """Cancel by client order id; raises :class:`OrderNotFound` if the venue lacks it."""

    async def modify_order(self, request: ModifyRequest) -> OrderUpdate:
        """Change a working order (only where ``capabilities.modify``)."""
        raise NotImplementedError(f"{self.name} cannot modify orders")

    @abc.abstractmethod
    async def get_order(self, client_order_id: str) -> Order | None:
        """The venue's view of the order, or ``None`` if it has no such order."""

    @abc.abstractmethod
    async def get_open_orders(self, symbol: str | None = None) -> list[Order]: ...

    @abc.abstractmethod
    async def get_order_fills(self, client_order_id: str) -> list[Fill]:
        """Every fill of the order, for reconciliation after a gap or an ambiguous outcome."""

    async def cancel_all_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        """Cancel every open order (the kill switch).  Venues with a global cancel override it."""
        results = []
        for order in await self.get_open_orders(symbol):
            try:
                results.append(await self.cancel_order(order.client_order_id))
            except OrderNotFound:
                continue
        return results

    # ------------------------------------------------------------------ account
    @abc.abstractmethod
    async def get_positions(self) -> list[Position]: ...

    @abc.abstractmethod
    async def get_balances(self) -> list[Balance]: ...

    # ------------------------------------------------------------------ seed API names
    async def get_order_status(self, order_id: str) -> Order:
        """Seed API: like :meth:`get_order` but raising :class:`OrderNotFound`."""
        order = await self.get_order(order_id)
        if order is None:
            raise OrderNotFound(f"{self.name} has no order {order_id!r}")
        return order

    async def get_account_balance(self) -> dict[str, dict[str, Decimal]]:
        """Seed API: balances as ``{asset: {"free", "locked", "total"}}``."""
        return {
            b.asset: {"free": b.free, "locked": b.locked, "total": b.total} for b in await self.get_balances()
        }

    # ------------------------------------------------------------------ events
    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener`` with every order update and fill; returns the unsubscribe function."""
        self._listeners = (*self._listeners, listener)
        return lambda: self._remove_listener(listener)

    def _remove_listener(self, listener: EventListener) -> None:
        listeners = list(self._listeners)
        listeners.remove(listener)
        self._listeners = tuple(listeners)

    def subscribe_fills(self, callback: Callable[[Fill], Any]) -> None:
        """Seed API: call ``callback(fill)`` for every fill the venue reports."""
        self._fill_callbacks = (*self._fill_callbacks, callback)

    @asynccontextmanager
    async def events(self) -> AsyncIterator[MemoryObjectReceiveStream[ExecutionEvent]]:
        """``async with adapter.events() as stream: async for event in stream`` (unbounded buffer)."""
        send, receive = anyio.create_memory_object_stream[ExecutionEvent](math.inf)
        self._streams = (*self._streams, send)
        try:
            async with receive:
                yield receive
        finally:
            self._streams = tuple(s for s in self._streams if s is not send)
            send.close()

    # ------------------------------------------------------------------ market data
    @asynccontextmanager
    async def quotes(self, symbols: Sequence[str]) -> AsyncIterator[QuoteStream]:
        """Live quotes: ``async with adapter.quotes(["EURUSD"]) as stream: async for quote in stream``.

        Only where ``capabilities.market_data``.  The symbols are checked against the venue's
        instruments before anything is subscribed; the venue's feed stops when the block exits.
        A feed that fails for good (not a reconnect the adapter handles) raises out of the
        iteration.
        """
        if not self.capabilities.market_data:
            raise NotSupported(f"{self.name} offers no live market data (capability market_data)")
        if not self.is_connected:
            raise NotConnected(f"{self.name} is not connected")
        wanted = tuple(dict.fromkeys(symbols))
        if not wanted:
            raise ValueError("quotes() needs at least one symbol")
        known = await self.instruments()
        for symbol in wanted:
            if symbol not in known:
                raise UnknownSymbol(symbol, list(known))
        stream = QuoteStream(QUOTE_BUFFER)
        try:
            async with self._quote_feed(wanted, stream):
                yield stream
        finally:
            stream.close()

    def _quote_feed(self, symbols: tuple[str, ...], stream: QuoteStream) -> AbstractAsyncContextManager[None]:
        """Put quotes of ``symbols`` into ``stream`` until the block exits; ``stream.fail`` on a
        failure no reconnect can cure.

        Adapters with ``capabilities.market_data`` implement this.  ``stream.put`` never blocks
        and must be called in the event loop's thread (a feed thread hands over with
        ``anyio.from_thread``).
        """
        raise NotSupported(f"{self.name} offers no live market data")

    def _emit(self, event: ExecutionEvent) -> None:
        """Deliver ``event`` to every listener; one failing listener does not starve the others."""
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("%s: event listener %r failed on %r", self.name, listener, event)
        if self._fill_callbacks and isinstance(event, Fill):
            for callback in self._fill_callbacks:
                try:
                    callback(event)
                except Exception:
                    log.exception("%s: fill callback %r failed", self.name, callback)
        for stream in self._streams:
            stream.send_nowait(event)

    def _emit_status(self, client_order_id: str, status: OrderStatus, **fields: Any) -> None:
        self._emit(OrderUpdate(client_order_id=client_order_id, status=status, venue=self.name, **fields))


class QuoteStream:
    """The receiving end of :meth:`BrokerAdapter.quotes`: an async iterator that never blocks the feed.

    When the reader falls ``buffer`` quotes behind, the oldest are dropped and counted.  A feed
    error passed to :meth:`fail` is raised to the reader after the quotes before it.
    """

    def __init__(self, buffer: int) -> None:
        self._send, self._receive = anyio.create_memory_object_stream[Quote | BaseException](buffer)
        self.dropped = 0

    def put(self, quote: Quote | BaseException) -> None:
        while True:
            try:
                self._send.send_nowait(quote)
                return
            except anyio.WouldBlock:
                self._receive.receive_nowait()  # drop the oldest: a newer quote supersedes it
                self.dropped += 1
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                return

    def fail(self, error: BaseException) -> None:
        """End the stream with ``error`` (raised to the reader once it has read what came before)."""
        self.put(error)

    def close(self) -> None:
        self._send.close()
        self._receive.close()

    def __aiter__(self) -> QuoteStream:
        return self

    async def __anext__(self) -> Quote:
        try:
            item = await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None
        if isinstance(item, BaseException):
            raise item
        return item


BaseBrokerAdapter = BrokerAdapter
"""The seed API's name for the adapter base class."""
