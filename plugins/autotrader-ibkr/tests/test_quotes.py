"""Live quotes: REQ_MKT_DATA through the unmodified client library to the local TWS and back.

What the client sent is read back from the TWS's request log with the TWS's own parsers, and
what the quotes show is checked against the TWS's own book.
"""

from __future__ import annotations

import datetime
import importlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import anyio
import pytest
from autotrader.adapter import QuoteStream
from autotrader.errors import NotConnected, UnknownSymbol
from autotrader.model import Quote
from autotrader.testing.harness import Fault, HarnessSession
from autotrader.testing.support import away, wait_for

from autotrader_ibkr.adapter import IbkrAdapter
from autotrader_ibkr.compat import LIBRARY, Contract
from autotrader_ibkr.config import IbkrConfig
from autotrader_ibkr.harness import INSTRUMENTS
from autotrader_ibkr.quotes import MarketDataUnavailable, _Feed
from autotrader_ibkr.tws import requests as rq
from autotrader_ibkr.tws.wire import In
from ibkr_support import adapter, control

pytestmark = pytest.mark.anyio

TickData = importlib.import_module(f"{LIBRARY}.objects").TickData


def market_data_requests(s: HarnessSession) -> list[rq.MarketDataQuery]:
    return [rq.parse_market_data(r) for r in control(s).server.requests if r[0] == str(int(In.REQ_MKT_DATA))]


def cancels(s: HarnessSession) -> list[int]:
    return [int(r[2]) for r in control(s).server.requests if r[0] == str(int(In.CANCEL_MKT_DATA))]


def subscribed(s: HarnessSession) -> list[int]:
    """Request ids the TWS streams to, over every client session."""
    return [req_id for session in control(s).server.sessions.values() for req_id in session.market_data]


def book_of(s: HarnessSession, symbol: str) -> tuple[Decimal, Decimal]:
    book = control(s).exchange.top_of_book(control(s).con_ids[symbol])
    return book.bid, book.ask


async def next_quote(stream: QuoteStream, accept: Callable[[Quote], bool] = lambda q: True) -> Quote:
    with anyio.fail_after(5):
        async for quote in stream:
            if accept(quote):
                return quote
    raise AssertionError("the quote stream ended")


def around(price: Decimal) -> Callable[[Quote], bool]:
    return lambda quote: quote.bid < price < quote.ask


async def test_quotes_carry_the_tws_bid_and_ask(session: HarnessSession) -> None:
    s = session
    async with s.adapter.quotes([s.symbol]) as stream:
        first = await next_quote(stream)
        assert (first.bid, first.ask) == book_of(s, s.symbol) == (Decimal("99.99"), Decimal("100.01"))
        assert isinstance(first.bid, Decimal) and first.venue == "ibkr" and first.symbol == s.symbol
        assert abs(first.timestamp - datetime.datetime.now(datetime.UTC).timestamp()) < 5
    [query] = market_data_requests(s)  # streaming, no snapshot, no generic ticks, the resolved contract
    assert (query.snapshot, query.regulatory_snapshot, query.generic_ticks) == (False, False, "")
    assert (query.contract.con_id, query.contract.exchange) == (265598, "SMART")


async def test_every_move_arrives_and_a_size_change_alone_is_no_new_quote(session: HarnessSession) -> None:
    s = session
    async with s.adapter.quotes([s.symbol]) as stream:
        await next_quote(stream, around(s.price))
        for ticks in (3, -7, 12):
            await s.control.set_price(s.symbol, away(s, ticks))
            quote = await next_quote(stream)
            assert (quote.bid, quote.ask) == book_of(s, s.symbol)
            assert quote.mid == away(s, ticks)
        await s.control.set_liquidity(s.symbol, Decimal(5))  # TICK_SIZE only
        await s.control.set_price(s.symbol, away(s, 1))
        assert (await next_quote(stream)).mid == away(s, 1)  # the size change was not a quote


async def test_an_empty_side_is_no_quote_until_it_is_quoted_again(session: HarnessSession) -> None:
    s = session
    async with s.adapter.quotes([s.symbol]) as stream:
        await next_quote(stream, around(s.price))
        await s.control.set_liquidity(s.symbol, Decimal(0))  # both sides: TICK_SIZE 0
        await s.control.set_price(s.symbol, away(s, 5))  # still nobody quotes
        await s.control.set_liquidity(s.symbol, None)
        assert (await next_quote(stream)).mid == away(s, 5)


async def test_several_symbols_in_one_stream(session: HarnessSession) -> None:
    s = session
    async with s.adapter.quotes(["AAPL", "EUR.USD"]) as stream:
        seen: dict[str, Quote] = {}
        while len(seen) < 2:
            quote = await next_quote(stream)
            seen[quote.symbol] = quote
        assert (seen["EUR.USD"].bid, seen["EUR.USD"].ask) == (Decimal("1.09995"), Decimal("1.10005"))
        assert (seen["AAPL"].bid, seen["AAPL"].ask) == book_of(s, "AAPL")


async def test_unknown_symbols_are_refused_before_subscribing(session: HarnessSession) -> None:
    with pytest.raises(UnknownSymbol, match="MSFT"):
        async with session.adapter.quotes(["AAPL", "MSFT"]):
            pass  # pragma: no cover - the block must not be entered
    assert market_data_requests(session) == []


async def test_the_subscription_is_cancelled_when_the_block_exits(session: HarnessSession) -> None:
    s = session
    async with s.adapter.quotes([s.symbol]) as stream:
        await next_quote(stream)
        [req_id] = subscribed(s)
    await wait_for(lambda: cancels(s) == [req_id], what="CANCEL_MKT_DATA")
    assert [q.req_id for q in market_data_requests(s)] == [req_id]
    assert subscribed(s) == []


async def test_streams_on_one_symbol_share_its_subscription(session: HarnessSession) -> None:
    s = session
    async with s.adapter.quotes([s.symbol]) as first:
        await next_quote(first)
        async with s.adapter.quotes([s.symbol]) as second:
            assert (await next_quote(second)).mid == s.price  # the current quote, at once
            await s.control.set_price(s.symbol, away(s, 4))
            assert (await next_quote(first)).mid == (await next_quote(second)).mid == away(s, 4)
        await anyio.sleep(0.1)
        assert len(market_data_requests(s)) == 1 and cancels(s) == []
        await s.control.set_price(s.symbol, away(s, 6))
        assert (await next_quote(first)).mid == away(s, 6)
    await wait_for(lambda: len(cancels(s)) == 1, what="CANCEL_MKT_DATA")


async def test_1101_requests_the_market_data_again(session: HarnessSession) -> None:
    s = session
    async with s.adapter.quotes([s.symbol]) as stream:
        await next_quote(stream)
        await control(s).connectivity_lost()
        await s.control.set_price(s.symbol, away(s, 9))  # TWS has no data to send meanwhile
        await control(s).connectivity_restored(data_lost=True)  # ...and TWS dropped the subscription
        quote = await next_quote(stream)
        assert quote.mid == away(s, 9)
        first, again = market_data_requests(s)
        assert again.req_id != first.req_id and again.contract == first.contract
        assert subscribed(s) == [again.req_id]
        await s.control.set_price(s.symbol, away(s, 2))
        assert (await next_quote(stream)).mid == away(s, 2)
    await wait_for(lambda: cancels(s) == [again.req_id], what="the cancel of the new request")


async def test_1102_keeps_the_subscription_and_delivers_what_moved(session: HarnessSession) -> None:
    s = session
    async with s.adapter.quotes([s.symbol]) as stream:
        await next_quote(stream)
        await control(s).connectivity_lost()
        await s.control.set_price(s.symbol, away(s, -9))
        await control(s).connectivity_restored(data_lost=False)
        assert (await next_quote(stream)).mid == away(s, -9)
        assert len(market_data_requests(s)) == 1


async def test_after_a_dropped_socket_and_the_reconnect_the_market_data_is_requested_again(
    session: HarnessSession,
) -> None:
    s = session
    async with s.adapter.quotes([s.symbol]) as stream:
        await next_quote(stream)
        await s.control.inject(Fault.DROP_STREAM)
        await s.control.set_price(s.symbol, away(s, 15))  # while the socket is down
        assert (await next_quote(stream)).mid == away(s, 15)
        assert adapter(s).reconnects == 1 and len(market_data_requests(s)) == 2
        await s.control.set_price(s.symbol, away(s, 16))
        assert (await next_quote(stream)).mid == away(s, 16)


async def test_354_not_subscribed_ends_the_feed_and_nothing_is_left_to_cancel(
    session: HarnessSession,
) -> None:
    s = session
    await control(s).without_live_data(s.symbol)
    with pytest.raises(
        MarketDataUnavailable, match=r"no quotes for AAPL.*delayed_quotes.*IB error 354"
    ) as err:
        async with s.adapter.quotes([s.symbol]) as stream:
            await next_quote(stream)
    assert err.value.code == 354
    await anyio.sleep(0.1)
    assert cancels(s) == [] and subscribed(s) == []


async def test_200_no_security_definition_ends_the_feed(session: HarnessSession) -> None:
    s = session
    del control(s).exchange.contracts[control(s).con_ids["ESZ5"]]  # the future expired since connect
    async with s.adapter.quotes(["AAPL", "ESZ5"]) as stream:
        with pytest.raises(MarketDataUnavailable, match=r"ESZ5.*security definition.*IB error 200"):
            await next_quote(stream, lambda q: q.symbol == "ESZ5")
    await wait_for(lambda: len(cancels(s)) == 1, what="the cancel of AAPL's subscription")
    assert subscribed(s) == []


@asynccontextmanager
async def second_adapter(s: HarnessSession, **config: Any) -> AsyncIterator[IbkrAdapter]:
    other = IbkrAdapter(
        IbkrConfig(port=control(s).server.port, client_id=2, instruments=INSTRUMENTS, **config)
    )
    await other.connect()
    try:
        yield other
    finally:
        await other.disconnect()


async def test_delayed_quotes_when_asked_for_them(
    session: HarnessSession, caplog: pytest.LogCaptureFixture
) -> None:
    s = session
    await control(s).without_live_data(s.symbol)
    caplog.set_level(logging.WARNING, logger="autotrader_ibkr.quotes")
    async with second_adapter(s, delayed_quotes=True) as delayed, delayed.quotes([s.symbol]) as stream:
        assert (await next_quote(stream)).mid == s.price
        await s.control.set_price(s.symbol, away(s, 3))
        assert (await next_quote(stream)).mid == away(s, 3)
    [data_type] = [r for r in control(s).server.requests if r[0] == str(int(In.REQ_MARKET_DATA_TYPE))]
    assert rq.parse_market_data_type(data_type).data_type == 3
    assert "quotes for AAPL are delayed" in caplog.text and "10167" in caplog.text


async def test_10168_delayed_data_not_enabled_ends_the_feed(session: HarnessSession) -> None:
    s = session
    await control(s).without_live_data(s.symbol, delayed_enabled=False)
    async with second_adapter(s, delayed_quotes=True) as delayed, delayed.quotes([s.symbol]) as stream:
        with pytest.raises(MarketDataUnavailable, match="IB error 10168") as err:
            await next_quote(stream)
    assert err.value.code == 10168


async def test_disconnecting_ends_the_open_streams(session: HarnessSession) -> None:
    s = session
    async with second_adapter(s) as other, other.quotes([s.symbol]) as stream:
        await next_quote(stream)
        await other.disconnect()
        with pytest.raises(NotConnected):
            await next_quote(stream)


def test_a_quote_is_built_from_the_ticks_not_the_tickers_leftovers() -> None:
    feed = _Feed("AAPL", Contract(conId=265598))
    now = datetime.datetime.now(datetime.UTC)

    def tick(kind: int, price: float, size: float) -> object:
        return TickData(now, kind, price, size)

    assert feed.apply([tick(1, 99.99, 100)]) is None  # the ask is not known yet
    quote = feed.apply([tick(2, 100.01, 100)])
    assert quote is not None and (quote.bid, quote.ask) == (Decimal("99.99"), Decimal("100.01"))
    assert feed.apply([tick(0, 99.99, 50)]) is None  # a size alone: the same quote
    assert feed.apply([tick(1, 100.05, 100)]) is None  # crossed mid-update: wait for the ask
    assert feed.apply([tick(2, 100.07, 100)]) is not None
    assert feed.apply([tick(3, -1.0, 0)]) is None  # the ask side emptied
    assert feed.apply([tick(2, -1.0, 0), tick(2, float("nan"), 100)]) is None
    moved = feed.apply([tick(67, 100.09, 1)])  # delayed ask
    assert moved is not None and moved.ask == Decimal("100.09")
