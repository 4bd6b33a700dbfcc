"""A broker's live quotes as a market-data source: ``autotrader run --live`` (or ``--feed NAME``).

A strategy written for bars gets bars: the feed keeps the latest quote of each symbol and hands
out one snapshot every ``bar_seconds`` (the mid as ``price``, with ``bid`` and ``ask``, and the
same signal features a replay computes), so the same strategy runs on a replay and live.  With
``bar_seconds=0`` every quote is a snapshot.

The feed is an async context manager as well as an async iterator: the venue subscription is a
resource with a lifetime (a thread or a socket of the adapter's), so it is opened and closed by
``async with`` in the task that reads it, never by an abandoned generator's finaliser.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

import anyio

from autotrader.marketdata import MarketData, SignalModel, Snapshot
from autotrader.model import Quote

if TYPE_CHECKING:
    from autotrader.adapter import BrokerAdapter, QuoteStream

__all__ = ["LiveFeed"]


class LiveFeed:
    """Snapshots of ``adapter``'s live quotes for ``symbols``, one per ``bar_seconds``."""

    def __init__(
        self,
        adapter: BrokerAdapter,
        symbols: Sequence[str],
        *,
        bar_seconds: float = 1.0,
        limit: int | None = None,
        signal_model: SignalModel | None = None,
    ) -> None:
        if bar_seconds < 0:
            raise ValueError("bar_seconds must not be negative")
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        if not symbols:
            raise ValueError("a live feed needs at least one symbol")
        self.adapter = adapter
        self.symbols = tuple(dict.fromkeys(symbols))
        self.bar_seconds = bar_seconds
        self.limit = limit
        model = signal_model if signal_model is not None else SignalModel()
        self._models = {symbol: model.fresh() for symbol in self.symbols}
        self._latest: dict[str, Quote] = {}
        self._stream: QuoteStream | None = None
        self._exit = contextlib.AsyncExitStack()
        self._handed_out = 0
        self.quotes_seen = 0

    @property
    def length(self) -> int | None:
        """Live data has no end of its own: the ``limit``, else ``None`` (for progress bars)."""
        return self.limit

    async def __aenter__(self) -> LiveFeed:
        self._stream = await self._exit.enter_async_context(self.adapter.quotes(self.symbols))
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stream = None
        await self._exit.aclose()

    def __aiter__(self) -> LiveFeed:
        return self

    async def __anext__(self) -> Snapshot:
        if self._stream is None:
            raise RuntimeError("use the live feed inside `async with`")
        if self.limit is not None and self._handed_out >= self.limit:
            raise StopAsyncIteration
        if not await self._collect(self._stream):
            raise StopAsyncIteration
        self._handed_out += 1
        now = dt.datetime.now(dt.UTC)
        snapshot: dict[str, MarketData] = {}
        for symbol, quote in self._latest.items():
            mid = quote.mid
            snapshot[symbol] = {
                "price": mid,
                "bid": quote.bid,
                "ask": quote.ask,
                **self._models[symbol].update(mid),
                "timestamp": now,
            }
        return now, snapshot

    async def _collect(self, stream: QuoteStream) -> bool:
        """Read quotes until the bar closes; False once the stream has ended.

        A bar closes ``bar_seconds`` after the previous one; a quiet bar repeats the last prices
        (the market did not move), and before the first quote of all there is nothing to repeat,
        so the first bar waits for it.
        """
        if self.bar_seconds == 0:
            return await self._read(stream)
        with anyio.move_on_after(self.bar_seconds):
            while True:
                if not await self._read(stream):
                    return False
        return bool(self._latest) or await self._read(stream)

    async def _read(self, stream: QuoteStream) -> bool:
        try:
            quote = await anext(stream)
        except StopAsyncIteration:
            return False
        self._latest[quote.symbol] = quote
        self.quotes_seen += 1
        return True
