"""Live quotes: the venue's bookTicker streams through the unmodified python-binance client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from decimal import Decimal as D

import anyio
import pytest
from autotrader.adapter import QuoteStream
from autotrader.errors import BrokerError, NotConnected, UnknownSymbol
from autotrader.model import Quote
from autotrader.testing.harness import HarnessSession

from autotrader_binance.harness import BinanceVenueControl
from autotrader_binance.venue import BinanceVenue
from conftest import UndecodableMessages

pytestmark = pytest.mark.anyio

WAIT = 10.0


def venue_of(s: HarnessSession) -> BinanceVenue:
    assert isinstance(s.control, BinanceVenueControl)
    return s.control.venue


def control_of(s: HarnessSession) -> BinanceVenueControl:
    assert isinstance(s.control, BinanceVenueControl)
    return s.control


async def quote_at(stream: QuoteStream, mid: D, symbol: str = "BTCUSDT") -> Quote:
    """The first quote of ``symbol`` whose bid and ask bracket ``mid``."""
    with anyio.fail_after(WAIT):
        async for quote in stream:
            if quote.symbol == symbol and quote.bid < mid < quote.ask:
                return quote
    raise AssertionError("the quote stream ended")


def library_readers() -> Iterator[asyncio.Task[object]]:
    """Readers of python-binance market sockets still running (each holds a socket open)."""
    for task in asyncio.all_tasks():
        if "tracked_read_loop" in repr(task.get_coro()) and not task.done():
            yield task


async def refuse_and_drop(s: HarnessSession, status: int, *, retry_after: int | None = None) -> None:
    """Answer new handshakes with ``status``, then cut the connection the feed has."""
    await control_of(s).refuse_market_streams(status, retry_after=retry_after)
    assert await control_of(s).drop_market_streams() == 1


async def until(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(WAIT):
        while not condition():  # noqa: ASYNC110 - the venue offers nothing to await
            await asyncio.sleep(0.01)


async def test_quotes_carry_the_venues_bid_and_ask(session: HarnessSession) -> None:
    s, venue = session, venue_of(session)
    async with s.adapter.quotes([s.symbol]) as stream:
        first = await quote_at(stream, s.price)
        top = venue.exchange.book_ticker(s.symbol)
        assert (first.bid, first.ask) == (top.bid, top.ask) == (D("49999.99"), D("50000.01"))
        assert type(first.bid) is D and type(first.ask) is D
        assert first.venue == "binance" and abs(first.timestamp - time.time()) < WAIT
        await s.control.set_price(s.symbol, D("50123.45"))
        moved = await quote_at(stream, D("50123.45"))
        assert (moved.bid, moved.ask) == (D("50123.44"), D("50123.46"))
    assert venue.market.handshakes == 1
    await until(lambda: not venue.market.connections)  # closed with the block


async def test_several_symbols_share_one_combined_stream(session: HarnessSession) -> None:
    s, venue = session, venue_of(session)
    async with s.adapter.quotes(["BTCUSDT", "ETHUSDT"]) as stream:
        await quote_at(stream, s.price, "BTCUSDT")
        await quote_at(stream, D("3000"), "ETHUSDT")
        (connection,) = venue.market.connections
        assert connection.combined and list(connection.streams) == [
            "btcusdt@bookTicker",
            "ethusdt@bookTicker",
        ]
        await s.control.set_price("ETHUSDT", D("3210.00"))
        assert (await quote_at(stream, D("3210.00"), "ETHUSDT")).ask == D("3210.01")


async def test_a_drop_is_followed_by_a_new_connection_and_the_current_book(session: HarnessSession) -> None:
    s, venue = session, venue_of(session)
    async with s.adapter.quotes([s.symbol]) as stream:
        await quote_at(stream, s.price)
        assert await control_of(s).drop_market_streams() == 1
        moved = D("50400.00")
        await s.control.set_price(s.symbol, moved)  # while no stream is connected: no update carries it
        quote = await quote_at(stream, moved)  # so this one is the book read after reconnecting
        assert (quote.bid, quote.ask) == (D("50399.99"), D("50400.01"))
        assert venue.market.handshakes == 2
        await s.control.set_price(s.symbol, D("50500.00"))  # and the new stream carries the changes
        await quote_at(stream, D("50500.00"))


async def test_unknown_symbols_are_refused_before_subscribing(session: HarnessSession) -> None:
    with pytest.raises(UnknownSymbol, match="NOPEUSDT"):
        async with session.adapter.quotes(["BTCUSDT", "NOPEUSDT"]):
            pass  # pragma: no cover
    assert venue_of(session).market.handshakes == 0


async def test_a_refusal_no_reconnection_can_cure_ends_the_stream_with_the_error(
    session: HarnessSession,
) -> None:
    s, venue = session, venue_of(session)
    async with s.adapter.quotes([s.symbol]) as stream:
        await quote_at(stream, s.price)
        await refuse_and_drop(s, 451)
        with pytest.raises(BrokerError, match=r"HTTP 451.*restricted location"), anyio.fail_after(WAIT):
            async for _ in stream:
                pass
    assert (venue.market.handshakes, venue.market.refused) == (1, 1)  # nothing retried after the 451


async def test_rate_limited_handshakes_are_retried_after_retry_after(session: HarnessSession) -> None:
    s, venue = session, venue_of(session)
    async with s.adapter.quotes([s.symbol]) as stream:
        await quote_at(stream, s.price)
        await refuse_and_drop(s, 429, retry_after=1)
        await until(lambda: venue.market.refused == 1)
        refused_at = time.monotonic()
        await control_of(s).refuse_market_streams(None)
        moved = D("49000.00")
        await s.control.set_price(s.symbol, moved)
        await quote_at(stream, moved)
        assert time.monotonic() - refused_at > 0.8  # not before the second Retry-After asked for
    assert (venue.market.handshakes, venue.market.refused) == (2, 1)


async def test_the_feed_recovers_when_the_librarys_reader_stops_for_good(
    session: HarnessSession, undecodable_messages: UndecodableMessages
) -> None:
    """A frame python-binance cannot decode ends its reader (it logs and gives up): a new socket."""
    s, venue = session, venue_of(session)
    async with s.adapter.quotes([s.symbol]) as stream:
        await quote_at(stream, s.price)
        for connection in venue.market.connections:
            connection.outbox.send_text("}{ not JSON")
        moved = D("50600.00")
        await s.control.set_price(s.symbol, moved)
        await quote_at(stream, moved)
        assert venue.market.handshakes == 2
    assert any("JSON Value Error" in line for line in undecodable_messages.complaints)
    undecodable_messages.complaints.clear()  # expected here


async def test_closing_while_reconnecting_returns_at_once_and_leaves_nothing_running(
    session: HarnessSession,
) -> None:
    s, venue = session, venue_of(session)
    async with s.adapter.quotes([s.symbol]) as stream:
        await quote_at(stream, s.price)
        await refuse_and_drop(s, 503)
        await until(lambda: venue.market.refused >= 2)  # backing off between refused attempts
        started = time.monotonic()
    assert time.monotonic() - started < 2.0
    assert list(library_readers()) == []
    assert not venue.market.connections


async def test_disconnecting_ends_open_quote_streams(session: HarnessSession) -> None:
    s = session
    async with s.adapter.quotes([s.symbol]) as stream:
        await quote_at(stream, s.price)
        await s.adapter.disconnect()
        with pytest.raises(NotConnected), anyio.fail_after(WAIT):
            async for _ in stream:
                pass
    assert list(library_readers()) == []
