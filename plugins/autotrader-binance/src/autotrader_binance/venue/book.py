"""The top of each symbol's book -- best bid and best ask with their quantities -- as ``bookTicker``
publishes it.

The venue's market is one price per symbol (the one the harness sets).  Around it stands a
synthetic book: one level ``spread_ticks`` ticks below the price and one as far above, each
holding what is left of the price's liquidity (``SymbolSpec.liquidity``, consumed by fills and
refilled at every price move; ``book_qty`` when the liquidity is unlimited).  The account's own
resting limit orders join the book: at a synthetic level they add their quantity, inside the
spread they become the best bid or ask.  Orders priced through the other side (possible only once
the liquidity is used up) are left out, so the top is never crossed.

Every step of the engine that may move the top calls :meth:`BookTickers.touch`.  Like Binance,
an update goes out only when the best price or quantity really changed, with the symbol's next
order-book update id (``u``).  Nothing is computed for a symbol nobody watches.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from autotrader_binance.venue.exchange import SymbolSpec, VenueOrder

__all__ = ["BookTickers", "BookTop", "top_of_book"]

ZERO: Final = Decimal(0)


@dataclass(frozen=True)
class BookTop:
    """One symbol's best bid and ask; a zero price means that side of the book is empty."""

    symbol: str
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal
    update_id: int = 0

    def same_book(self, other: BookTop | None) -> bool:
        return other is not None and (self.bid, self.bid_qty, self.ask, self.ask_qty) == (
            other.bid,
            other.bid_qty,
            other.ask,
            other.ask_qty,
        )


def top_of_book(
    spec: SymbolSpec, bid_pool: Decimal | None, ask_pool: Decimal | None, resting: Iterable[VenueOrder]
) -> BookTop:
    """The best levels of the synthetic book around ``spec.price`` merged with ``resting`` orders."""
    half = spec.tick * spec.spread_ticks
    synthetic_bid = max(spec.price - half, ZERO)
    synthetic_ask = spec.price + half
    bids: collections.defaultdict[Decimal, Decimal] = collections.defaultdict(Decimal)
    asks: collections.defaultdict[Decimal, Decimal] = collections.defaultdict(Decimal)
    bids[synthetic_bid] += max(bid_pool, ZERO) if bid_pool is not None else spec.book_qty
    asks[synthetic_ask] += max(ask_pool, ZERO) if ask_pool is not None else spec.book_qty
    for order in resting:
        if order.side == "BUY" and order.price < synthetic_ask:
            bids[order.price] += order.remaining
        elif order.side == "SELL" and order.price > synthetic_bid:
            asks[order.price] += order.remaining
    bid, ask = max(bids), min(asks)
    if bid > ask:  # own orders inside the spread on both sides, past each other: show the market's
        bid, ask = synthetic_bid, synthetic_ask
    return BookTop(spec.symbol, bid, bids[bid], ask, asks[ask])


Listener = Callable[[BookTop], None]


class BookTickers:
    """Publishes each watched symbol's top whenever it changes, numbered per symbol."""

    def __init__(self, compute: Callable[[str], BookTop]) -> None:
        self._compute = compute
        self._last: dict[str, BookTop] = {}
        self._update_ids: collections.Counter[str] = collections.Counter()
        self._watchers: collections.Counter[str] = collections.Counter()
        self._listeners: list[Listener] = []

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def watch(self, symbol: str) -> None:
        self._watchers[symbol] += 1

    def unwatch(self, symbol: str) -> None:
        self._watchers[symbol] -= 1
        if self._watchers[symbol] <= 0:
            del self._watchers[symbol]

    def current(self, symbol: str) -> BookTop:
        """The top now (for ``GET /api/v3/ticker/bookTicker``), under the latest update id."""
        top = self._compute(symbol)
        return BookTop(top.symbol, top.bid, top.bid_qty, top.ask, top.ask_qty, self._update_ids[symbol])

    def touch(self, symbol: str) -> None:
        """The engine may have moved ``symbol``'s top: publish it if it did and anyone watches."""
        if not self._watchers[symbol]:
            self._last.pop(symbol, None)  # unknown from now on: the next watched change goes out
            return
        top = self._compute(symbol)
        if top.same_book(self._last.get(symbol)):
            return
        self._update_ids[symbol] += 1
        top = BookTop(top.symbol, top.bid, top.bid_qty, top.ask, top.ask_qty, self._update_ids[symbol])
        self._last[symbol] = top
        for listener in tuple(self._listeners):
            listener(top)
