"""Live quotes (capability ``market_data``): they follow the venue's price, and bad symbols are
refused before anything is subscribed."""

from __future__ import annotations

from decimal import Decimal

import anyio
import pytest

from autotrader.adapter import QuoteStream
from autotrader.errors import NotSupported, UnknownSymbol
from autotrader.model import Quote
from autotrader.testing.harness import HarnessSession
from autotrader.testing.support import away

pytestmark = pytest.mark.anyio

QUOTE_WAIT = 10.0


async def quote_around(session: HarnessSession, stream: QuoteStream, price: Decimal) -> Quote:
    """The first quote whose bid/ask brackets ``price`` (earlier ones may show the old price)."""
    with anyio.fail_after(QUOTE_WAIT):
        async for quote in stream:
            assert isinstance(quote, Quote)
            assert quote.symbol == session.symbol
            assert isinstance(quote.bid, Decimal) and isinstance(quote.ask, Decimal)
            assert quote.bid <= quote.ask, f"crossed quote {quote}"
            if quote.bid <= price <= quote.ask:
                return quote
    raise AssertionError("the quote stream ended before showing the venue's price")


@pytest.mark.requires("market_data")
async def test_quotes_follow_the_venues_price(autotrader_session: HarnessSession) -> None:
    s = autotrader_session
    async with s.adapter.quotes([s.symbol]) as stream:
        await quote_around(s, stream, s.price)
        moved = away(s, 25)
        await s.control.set_price(s.symbol, moved)
        quote = await quote_around(s, stream, moved)
        assert quote.spread >= 0
        higher = away(s, 50)
        await s.control.set_price(s.symbol, higher)
        assert (await quote_around(s, stream, higher)).mid > quote.mid - s.tick


@pytest.mark.requires("market_data")
async def test_a_closed_quote_stream_can_be_opened_again(autotrader_session: HarnessSession) -> None:
    s = autotrader_session
    async with s.adapter.quotes([s.symbol]) as stream:
        await quote_around(s, stream, s.price)
    moved = away(s, -25)
    await s.control.set_price(s.symbol, moved)
    async with s.adapter.quotes([s.symbol]) as stream:
        await quote_around(s, stream, moved)


async def test_quotes_for_an_unknown_symbol_are_refused(autotrader_session: HarnessSession) -> None:
    s = autotrader_session
    expected: type[Exception] = UnknownSymbol if s.adapter.capabilities.market_data else NotSupported
    with pytest.raises(expected):
        async with s.adapter.quotes([s.symbol, "NO_SUCH_SYMBOL_XYZ"]):
            pass  # pragma: no cover - the context must not be entered
