"""Live quotes: v20's pricing stream through the unmodified oandapyV20 client (asyncio and trio)."""

from __future__ import annotations

import json
from decimal import Decimal

import anyio
import pytest
import requests
from autotrader.adapter import QuoteStream
from autotrader.errors import AuthenticationError, UnknownSymbol
from autotrader.model import Quote
from autotrader.testing.harness import HarnessSession
from autotrader.testing.support import away

from autotrader_oanda.harness import OandaVenueControl
from autotrader_oanda.pricing import quote_from_wire
from autotrader_oanda.venue import VenueServer

pytestmark = pytest.mark.anyio


def server_of(s: HarnessSession) -> VenueServer:
    assert isinstance(s.control, OandaVenueControl)
    return s.control.server


async def next_quote_at(stream: QuoteStream, mid: Decimal) -> Quote:
    with anyio.fail_after(10):
        async for quote in stream:
            if quote.bid < mid < quote.ask:
                return quote
    raise AssertionError("the stream ended")


async def test_quotes_carry_the_venues_bid_and_ask(session: HarnessSession) -> None:
    s = session
    async with s.adapter.quotes([s.symbol]) as stream:
        first = await next_quote_at(stream, s.price)
        exchange = server_of(s).exchange
        bid, ask = server_of(s).call(exchange.quote, s.symbol)
        assert (first.bid, first.ask) == (bid, ask)
        assert first.venue == "oanda" and first.timestamp > 0


async def test_the_feed_reconnects_after_a_drop_and_resumes_with_a_snapshot(session: HarnessSession) -> None:
    s = session
    async with s.adapter.quotes([s.symbol]) as stream:
        await next_quote_at(stream, s.price)
        server_of(s).drop_pricing_streams()
        moved = away(s, 40)
        await anyio.sleep(0.3)  # the move may land while the feed is down: the snapshot carries it
        await s.control.set_price(s.symbol, moved)
        await next_quote_at(stream, moved)


async def test_unknown_symbols_are_refused_before_subscribing(session: HarnessSession) -> None:
    subscribers = server_of(session).pricing
    assert subscribers is not None
    with pytest.raises(UnknownSymbol, match="XAU_NOPE"):
        async with session.adapter.quotes(["XAU_NOPE"]):
            pass  # pragma: no cover
    assert not subscribers.subscribers


async def test_a_revoked_token_ends_the_quote_stream_with_the_error(session: HarnessSession) -> None:
    s = session
    async with s.adapter.quotes([s.symbol]) as stream:
        await next_quote_at(stream, s.price)
        server_of(s).revoke_token("a-new-token")
        server_of(s).drop_pricing_streams()
        with pytest.raises(AuthenticationError, match="access token was refused"), anyio.fail_after(10):
            async for _ in stream:
                pass


def test_venue_pricing_stream_wire(venue: VenueServer, token: str) -> None:
    url = f"{venue.url}/v3/accounts/{venue.exchange.account_id}/pricing/stream"
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(url, headers=headers, params={"instruments": "NOPE"}, timeout=2).status_code == 400
    assert requests.get(url, headers=headers, timeout=2).status_code == 400
    with requests.get(
        url, headers=headers, params={"instruments": "EUR_USD"}, stream=True, timeout=2
    ) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        snapshot = json.loads(next(lines))
        assert snapshot["type"] == "PRICE" and snapshot["instrument"] == "EUR_USD"
        assert {"bids", "asks", "closeoutBid", "closeoutAsk", "tradeable", "time"} <= set(snapshot)
        venue.set_price("EUR_USD", Decimal("1.23450"))
        moved = json.loads(next(lines))
        while moved["type"] == "HEARTBEAT":
            assert set(moved) == {"type", "time"}
            moved = json.loads(next(lines))
        assert Decimal(moved["bids"][0]["price"]) < Decimal("1.23450") < Decimal(moved["asks"][0]["price"])


def test_quote_from_wire() -> None:
    price = {
        "type": "PRICE",
        "instrument": "EUR_USD",
        "time": "2026-12-01T10:00:00.123456789Z",
        "bids": [{"price": "1.10010", "liquidity": 10000000}],
        "asks": [{"price": "1.10030", "liquidity": 10000000}],
    }
    quote = quote_from_wire(price)
    assert quote is not None
    assert (quote.symbol, quote.bid, quote.ask) == ("EUR_USD", Decimal("1.10010"), Decimal("1.10030"))
    assert quote.mid == Decimal("1.10020") and quote.spread == Decimal("0.00020")
    assert abs(quote.timestamp - 1796119200.123456) < 1e-3
    assert quote_from_wire({"type": "HEARTBEAT", "time": "2026-12-01T10:00:00Z"}) is None
    assert quote_from_wire({**price, "bids": []}) is None
