"""Live quotes from TWS: one streaming REQ_MKT_DATA per symbol, shared by every open quote stream.

After each batch of socket data the library reports the tickers that changed, each with the
ticks of that batch (``ticker.ticks``).  The quote is built from those ticks rather than from
the ticker's fields, because a ticker outlives its subscription (the library reuses it when the
same contract is asked for again) and its fields may still hold an earlier subscription's bid or
ask, while the ticks are only what TWS sent since.  The bid is tick type 1 (delayed: 66) with
its size, the ask 2 (67); a TICK_SIZE (0 and 3, delayed 69 and 70) changes a size alone; a price
of -1 or a size of 0 is a side nobody quotes.  A quote goes to the streams once both sides are
quoted and not crossed (a move whose two sides arrived in different reads), and only when it
differs from the last one.

The first stream on a symbol subscribes and the last one to close cancels (CANCEL_MKT_DATA).
TWS drops every subscription on 1101 (connectivity restored, data lost) and with the socket;
the adapter then calls :meth:`QuoteSubscriptions.resubscribe`.  An error that ends a symbol's
feed (no market-data subscription, no security definition...) fails every stream on it with
:class:`MarketDataUnavailable`; TWS keeps no subscription after one, so nothing is cancelled.
Delayed quotes (10167) are taken only when the adapter asked for them (``delayed_quotes``); they
are logged as such, since a :class:`~autotrader.model.Quote` cannot say it is 15 minutes old.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import attrs
from autotrader.adapter import QuoteStream
from autotrader.errors import BrokerError
from autotrader.model import Quote

from autotrader_ibkr.compat import IB, Contract, Ticker, market_data_req_id
from autotrader_ibkr.mapping import VENUE, from_wire

__all__ = ["FEED_ENDING", "MarketDataUnavailable", "QuoteSubscriptions", "market_data_error"]

log = logging.getLogger(__name__)

BID_PRICE: Final = frozenset({1, 66})
ASK_PRICE: Final = frozenset({2, 67})
BID_SIZE: Final = frozenset({0, 69})
ASK_SIZE: Final = frozenset({3, 70})
NO_QUOTE: Final = -1.0

DELAYED_NOTICE: Final = 10167
"""Not subscribed: delayed data instead (only sent to a client that asked for delayed data)."""
PARTLY_SUBSCRIBED: Final = 10090
"""Part of the data is not subscribed; the bid and ask still come."""

FEED_ENDING: Final[Mapping[int, str]] = {
    200: "TWS has no security definition for its contract (expired or delisted?)",
    354: (
        "the account has no market-data subscription for it "
        "(subscribe at IB, or set delayed_quotes to take delayed quotes)"
    ),
    10089: "it needs an additional market-data subscription for the API",
    10168: "the account has no live market-data subscription for it and delayed data is not enabled",
    10197: "a competing live session receives the market data",
}
"""IB errors after which TWS sends no more data for the request."""


class MarketDataUnavailable(BrokerError):
    """TWS refused or ended a symbol's market data (``code``: IB's error); reconnecting won't help."""


def market_data_error(symbol: str, code: int, text: str) -> MarketDataUnavailable | None:
    """The error that ends ``symbol``'s quotes, or None when IB's message does not end them."""
    why = FEED_ENDING.get(code)
    if why is None:
        return None
    return MarketDataUnavailable(f"ibkr: no quotes for {symbol}: {why} (IB error {code}: {text})", code=code)


def _side_price(price: float, size: float) -> Decimal | None:
    """A side's price, or None when nobody quotes it (-1, size 0, or the library's unset NaN)."""
    if math.isnan(price) or price == NO_QUOTE or size == 0:
        return None
    return from_wire(price)


@attrs.define(eq=False)
class _Feed:
    """One symbol's subscription: its ticker, the book its ticks built, its readers."""

    symbol: str
    contract: Contract
    streams: list[QuoteStream] = attrs.field(factory=list)
    ticker: Ticker | None = None
    req_id: int = 0
    bid: Decimal | None = None
    ask: Decimal | None = None
    last: Quote | None = None
    delayed_noted: bool = False

    def restart(self, ticker: Ticker, req_id: int) -> None:
        """A new request: what the previous one showed is no longer known to be current."""
        self.ticker, self.req_id = ticker, req_id
        self.bid = self.ask = None

    def apply(self, ticks: Iterable[Any]) -> Quote | None:
        """Take the batch's ticks; the new quote if it changed and is whole, else None."""
        for tick in ticks:
            kind = tick.tickType
            if kind in BID_PRICE:
                self.bid = _side_price(tick.price, tick.size)
            elif kind in ASK_PRICE:
                self.ask = _side_price(tick.price, tick.size)
            elif kind in BID_SIZE and tick.size == 0:
                self.bid = None
            elif kind in ASK_SIZE and tick.size == 0:
                self.ask = None
        bid, ask = self.bid, self.ask
        if bid is None or ask is None:
            return None
        if bid > ask:
            log.debug(
                "ibkr: %s crossed (%s > %s) in mid-update; waiting for the other side", self.symbol, bid, ask
            )
            return None
        if self.last is not None and (self.last.bid, self.last.ask) == (bid, ask):
            return None
        stamp = self.ticker.time if self.ticker is not None else None
        self.last = Quote(
            self.symbol,
            bid,
            ask,
            venue=VENUE,
            timestamp=stamp.timestamp() if stamp is not None else time.time(),
        )
        return self.last


class QuoteSubscriptions:
    """The adapter's market data: subscriptions per symbol, the library's ticks into quote streams."""

    def __init__(self, ib: IB, contracts: Mapping[str, Contract]) -> None:
        self._ib = ib
        self._contracts = contracts
        self._feeds: dict[str, _Feed] = {}

    @property
    def symbols(self) -> list[str]:
        """The symbols subscribed now."""
        return list(self._feeds)

    def open(self, symbols: Sequence[str], stream: QuoteStream) -> None:
        """Feed ``stream`` with quotes of ``symbols``; the current quote first where one is known."""
        for symbol in symbols:
            feed = self._feeds.get(symbol)
            if feed is None:
                feed = self._feeds[symbol] = _Feed(symbol, self._contracts[symbol])
                self._request(feed)
            feed.streams.append(stream)
            if feed.last is not None:
                stream.put(feed.last)

    def close(self, stream: QuoteStream) -> None:
        """Stop feeding ``stream``; cancel the subscriptions nobody else reads."""
        for symbol, feed in list(self._feeds.items()):
            if stream in feed.streams:
                feed.streams.remove(stream)
                if not feed.streams:
                    del self._feeds[symbol]
                    self._cancel(feed)

    def resubscribe(self) -> None:
        """Request every subscription again (TWS dropped them: 1101, or a new socket)."""
        for feed in self._feeds.values():
            log.info("ibkr: requesting market data for %s again", feed.symbol)
            self._request(feed)

    def end(self, error: BaseException) -> None:
        """The adapter goes away: cancel every subscription and end every stream with ``error``."""
        streams: dict[int, QuoteStream] = {}
        for feed in self._feeds.values():
            self._cancel(feed)
            streams.update((id(s), s) for s in feed.streams)
        self._feeds.clear()
        for stream in streams.values():
            stream.fail(error)

    def _request(self, feed: _Feed) -> None:
        ticker = self._ib.reqMktData(feed.contract, "", False, False)
        feed.restart(ticker, market_data_req_id(self._ib, ticker))

    def _cancel(self, feed: _Feed) -> None:
        if self._ib.isConnected():
            self._ib.cancelMktData(feed.contract)

    # ------------------------------------------------------------------ from the library
    def on_tickers(self, tickers: Iterable[Ticker]) -> None:
        """``pendingTickersEvent``: the tickers one batch of socket data changed."""
        if not self._feeds:
            return
        by_ticker = {id(feed.ticker): feed for feed in self._feeds.values()}
        for ticker in tickers:
            feed = by_ticker.get(id(ticker))
            if feed is None:
                continue
            quote = feed.apply(ticker.ticks)
            if quote is not None:
                for stream in feed.streams:
                    stream.put(quote)

    def on_error(self, req_id: int, code: int, text: str) -> bool:
        """Whether IB's message ``code`` is about a subscription here (and was dealt with)."""
        feed = next((f for f in self._feeds.values() if f.req_id == req_id), None) if req_id > 0 else None
        if feed is None:
            return False
        if code == DELAYED_NOTICE:
            if not feed.delayed_noted:
                feed.delayed_noted = True
                log.warning(
                    "ibkr: quotes for %s are delayed 15-20 minutes (IB %s: %s)", feed.symbol, code, text
                )
            return True
        error = market_data_error(feed.symbol, code, text)
        if error is None:
            log.info("ibkr: market data for %s: IB message %s: %s", feed.symbol, code, text)
            return True
        log.warning("%s", error)
        del self._feeds[feed.symbol]
        for stream in feed.streams:
            stream.fail(error)
        return True
