"""The venue's market data: ``GET /api/v3/ticker/bookTicker`` and the ``<symbol>@bookTicker``
streams, checked on the wire with plain aiohttp and websockets, not with python-binance."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any

import aiohttp
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus

from autotrader_binance.venue import BinanceVenue, SymbolSpec, default_symbols
from autotrader_binance.venue.book import top_of_book
from autotrader_binance.venue.exchange import NewOrder, VenueOrder
from autotrader_binance.venue.streams import RESTRICTED_LOCATION

pytestmark = pytest.mark.anyio

WAIT = 5.0
BOOK_FIELDS = {"symbol", "bidPrice", "bidQty", "askPrice", "askQty"}
EVENT_FIELDS = {"u", "s", "b", "B", "a", "A"}


@pytest.fixture
async def venue() -> AsyncIterator[BinanceVenue]:
    async with BinanceVenue() as running:
        yield running


async def get(venue: BinanceVenue, path: str, **params: str) -> tuple[int, Any, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{venue.port}/api/v3/{path}", params=params) as response,
    ):
        return response.status, await response.json(content_type=None), response.headers


async def receive(ws: ClientConnection) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), WAIT))


def stream(venue: BinanceVenue, path: str) -> Any:
    return websockets.connect(f"{venue.stream_url}{path}")


async def test_book_ticker_endpoint(venue: BinanceVenue) -> None:
    status, one, headers = await get(venue, "ticker/bookTicker", symbol="BTCUSDT")
    assert status == 200 and headers["X-MBX-USED-WEIGHT-1M"] == "2"
    assert one == {
        "symbol": "BTCUSDT",
        "bidPrice": "49999.99000000",
        "bidQty": "2.50000000",
        "askPrice": "50000.01000000",
        "askQty": "2.50000000",
    }
    status, every, headers = await get(venue, "ticker/bookTicker")
    assert status == 200 and headers["X-MBX-USED-WEIGHT-1M"] == "6"  # 2 + 4: all symbols weigh 4
    assert [t["symbol"] for t in every] == ["BTCUSDT", "ETHUSDT", "ETHBTC"]
    assert all(set(t) == BOOK_FIELDS for t in every)
    status, some, _ = await get(venue, "ticker/bookTicker", symbols='["ETHBTC","BTCUSDT"]')
    assert status == 200 and [t["symbol"] for t in some] == ["ETHBTC", "BTCUSDT"]
    assert some[0]["bidPrice"] == "0.05999000" and some[0]["askPrice"] == "0.06001000"


async def test_book_ticker_endpoint_errors(venue: BinanceVenue) -> None:
    invalid = (400, {"code": -1121, "msg": "Invalid symbol."})
    assert (await get(venue, "ticker/bookTicker", symbol="NOPE"))[:2] == invalid
    assert (await get(venue, "ticker/bookTicker", symbols='["BTCUSDT","NOPE"]'))[:2] == invalid
    status, body, _ = await get(venue, "ticker/bookTicker", symbols="BTCUSDT")
    assert (status, body["code"]) == (400, -1100)
    status, body, _ = await get(venue, "ticker/bookTicker", symbol="BTCUSDT", bogus="1")
    assert (status, body["code"]) == (400, -1104)


async def test_raw_stream_sends_each_change_of_the_top_and_nothing_else(venue: BinanceVenue) -> None:
    async with stream(venue, "ws/btcusdt@bookTicker") as ws:
        venue.exchange.set_price("ETHUSDT", D("3100.00"))  # another symbol: not on this stream
        venue.exchange.set_price("BTCUSDT", D("50100.00"))
        first = await receive(ws)
        assert set(first) == EVENT_FIELDS
        assert first == {
            "u": first["u"],
            "s": "BTCUSDT",
            "b": "50099.99000000",
            "B": "2.50000000",
            "a": "50100.01000000",
            "A": "2.50000000",
        }
        venue.exchange.set_price("BTCUSDT", D("50100.00"))  # the same top: no update
        venue.exchange.set_price("BTCUSDT", D("50000.00"))
        second = await receive(ws)
        assert (second["u"], second["b"]) == (first["u"] + 1, "49999.99000000")


async def test_combined_stream_wraps_each_payload_with_its_stream_name(venue: BinanceVenue) -> None:
    async with stream(venue, "stream?streams=btcusdt@bookTicker/ethusdt@bookTicker") as ws:
        venue.exchange.set_price("ETHUSDT", D("3100.00"))
        venue.exchange.set_price("BTCUSDT", D("50100.00"))
        eth, btc = await receive(ws), await receive(ws)
    assert set(eth) == {"stream", "data"} and eth["stream"] == "ethusdt@bookTicker"
    assert eth["data"]["s"] == "ETHUSDT" and eth["data"]["a"] == "3100.01000000"
    assert btc["stream"] == "btcusdt@bookTicker" and set(btc["data"]) == EVENT_FIELDS


async def test_resting_orders_and_used_liquidity_move_the_top(venue: BinanceVenue) -> None:
    exchange = venue.exchange
    async with stream(venue, "ws/btcusdt@bookTicker") as ws:
        exchange.place(NewOrder("BTCUSDT", "BUY", "LIMIT", D("0.5"), "bid-1", D("49999.99"), None, "GTC"))
        joined = await receive(ws)
        assert (joined["b"], joined["B"]) == ("49999.99000000", "3.00000000")  # 2.5 shown + 0.5 ours
        exchange.cancel("BTCUSDT", None, "bid-1", "cancel-1")
        assert (await receive(ws))["B"] == "2.50000000"
        exchange.set_liquidity("BTCUSDT", D("1"))
        capped = await receive(ws)
        assert (capped["B"], capped["A"]) == ("1.00000000", "1.00000000")
        # Behind the best ask the order leaves the top as it is (no update), until the market
        # reaches it and it fills against the bid side's liquidity:
        exchange.place(NewOrder("BTCUSDT", "SELL", "LIMIT", D("0.4"), "ask-1", D("50000.02"), None, "GTC"))
        exchange.set_price("BTCUSDT", D("50000.02"))
        moved = await receive(ws)
    assert exchange.trades[-1].client_order_id == "ask-1"
    assert (moved["b"], moved["B"], moved["u"]) == ("50000.01000000", "0.60000000", capped["u"] + 1)


async def test_an_order_inside_a_wide_spread_is_the_best_price(venue: BinanceVenue) -> None:
    spec = SymbolSpec("BTCUSDT", "BTC", "USDT", price=D("50000.00"), spread_ticks=10)
    async with BinanceVenue(symbols=[spec]) as wide, stream(wide, "ws/btcusdt@bookTicker") as ws:
        _, before, _ = await get(wide, "ticker/bookTicker", symbol="BTCUSDT")
        assert (before["bidPrice"], before["askPrice"]) == ("49999.90000000", "50000.10000000")
        wide.exchange.place(
            NewOrder("BTCUSDT", "BUY", "LIMIT", D("0.2"), "inside", D("49999.95"), None, "GTC")
        )
        top = await receive(ws)
    assert (top["b"], top["B"], top["a"]) == ("49999.95000000", "0.20000000", "50000.10000000")


def _resting(side: str, price: str, quantity: str) -> VenueOrder:
    return VenueOrder(1, "x", "BTCUSDT", side, "LIMIT", "GTC", D(quantity), D(price), D(0), 0, 0)


def test_the_top_of_the_book_is_never_crossed() -> None:
    spec = default_symbols()[0]  # BTCUSDT at 50000.00, one tick either side
    through = [_resting("BUY", "50000.01", "1")]  # priced through the ask: left out
    assert top_of_book(spec, None, None, through).bid == D("49999.99")
    wide = SymbolSpec("BTCUSDT", "BTC", "USDT", price=D("50000.00"), spread_ticks=10)
    past_each_other = [_resting("BUY", "50000.05", "1"), _resting("SELL", "49999.95", "1")]
    top = top_of_book(wide, D(0), D(0), past_each_other)
    assert (top.bid, top.ask) == (D("49999.90"), D("50000.10"))
    empty = top_of_book(SymbolSpec("X", "X", "Y", price=D("0.01"), tick=D("0.01")), None, None, [])
    assert empty.bid == 0  # an empty side is a zero price, as Binance writes it


async def test_stream_requests(venue: BinanceVenue) -> None:
    async with stream(venue, "ws/btcusdt@bookTicker") as ws:

        async def ask(request: Any) -> Any:
            await ws.send(request if isinstance(request, str) else json.dumps(request))
            return await receive(ws)

        assert await ask({"method": "LIST_SUBSCRIPTIONS", "id": 1}) == {
            "result": ["btcusdt@bookTicker"],
            "id": 1,
        }
        subscribe = {"method": "SUBSCRIBE", "params": ["ethusdt@bookTicker"], "id": "abc36"}
        assert await ask(subscribe) == {"result": None, "id": "abc36"}
        assert await ask({"method": "GET_PROPERTY", "params": ["combined"], "id": None}) == {
            "result": False,
            "id": None,
        }
        assert await ask({"method": "SET_PROPERTY", "params": ["combined", True], "id": 4}) == {
            "result": None,
            "id": 4,
        }
        await asyncio.sleep(1.0)  # five incoming messages a second at most
        venue.exchange.set_price("ETHUSDT", D("3100.00"))
        assert (await receive(ws))["stream"] == "ethusdt@bookTicker"  # combined from now on
        assert await ask({"method": "UNSUBSCRIBE", "params": ["ethusdt@bookTicker"], "id": 5}) == {
            "result": None,
            "id": 5,
        }
        venue.exchange.set_price("ETHUSDT", D("3000.00"))
        venue.exchange.set_price("BTCUSDT", D("50100.00"))
        assert (await receive(ws))["stream"] == "btcusdt@bookTicker"  # ETH no longer comes
        await asyncio.sleep(1.0)
        assert await ask("{not json") == {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 2"}
        unknown = await ask({"method": "PING", "id": 6})
        assert unknown["code"] == 2 and unknown["msg"].startswith("Invalid request: unknown variant `PING`")
        assert (await ask({"method": "LIST_SUBSCRIPTIONS", "id": 1.5}))["msg"] == (
            "Invalid request: request ID must be an unsigned integer"
        )
        assert await ask({"method": "GET_PROPERTY", "params": ["speed"], "id": 7}) == {
            "code": 0,
            "msg": "Unknown property",
            "id": 7,
        }
        await asyncio.sleep(1.0)
        assert await ask({"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 8}) == {
            "code": 1,
            "msg": "Invalid value type: expected Boolean",
        }


async def test_more_than_five_messages_a_second_close_the_connection(venue: BinanceVenue) -> None:
    async with stream(venue, "ws/btcusdt@bookTicker") as ws:
        for request_id in range(6):
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": request_id}))
        answers = [await receive(ws) for _ in range(5)]
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws)
    assert [a["id"] for a in answers] == [0, 1, 2, 3, 4]
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_names_without_data_are_accepted_and_stay_silent(venue: BinanceVenue) -> None:
    async with stream(venue, "stream?streams=nopeusdt@bookTicker/btcusdt@trade/BTCUSDT@bookTicker") as ws:
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 1}))
        listed = await receive(ws)
        venue.exchange.set_price("BTCUSDT", D("50100.00"))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.3)
    assert listed["result"] == ["nopeusdt@bookTicker", "btcusdt@trade", "BTCUSDT@bookTicker"]


async def test_drop_cuts_every_connection_without_a_close_frame(venue: BinanceVenue) -> None:
    async with (
        stream(venue, "ws/btcusdt@bookTicker") as raw,
        stream(venue, "stream?streams=ethusdt@bookTicker") as c,
    ):
        assert venue.market.drop() == 2
        for ws in (raw, c):
            with pytest.raises(ConnectionClosedError) as closed:
                await asyncio.wait_for(ws.recv(), WAIT)
            assert closed.value.rcvd is None  # no close frame: a network failure
    assert not venue.market.connections


async def test_refused_handshakes_carry_binances_answer(venue: BinanceVenue) -> None:
    venue.market.refuse(451)
    with pytest.raises(InvalidStatus) as refused:
        async with stream(venue, "ws/btcusdt@bookTicker"):
            pass  # pragma: no cover
    assert refused.value.response.status_code == 451
    assert json.loads(refused.value.response.body) == {"code": 0, "msg": RESTRICTED_LOCATION}
    venue.market.refuse(429, "Too many connections", retry_after=2)
    with pytest.raises(InvalidStatus) as limited:
        async with stream(venue, "ws/btcusdt@bookTicker"):
            pass  # pragma: no cover
    assert limited.value.response.headers["Retry-After"] == "2"
    venue.market.refuse(None)
    async with stream(venue, "ws/btcusdt@bookTicker"):
        assert venue.market.handshakes == 1
