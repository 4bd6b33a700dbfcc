"""The local venue speaks Binance's protocol: checked with raw, hand-signed aiohttp requests."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from autotrader_binance.venue import DEFAULT_API_KEY, DEFAULT_API_SECRET, BinanceVenue, FaultKind

pytestmark = pytest.mark.anyio


class Raw:
    """A minimal Binance client written from the documentation, not from python-binance."""

    def __init__(self, venue: BinanceVenue, http: aiohttp.ClientSession) -> None:
        self.base = f"http://127.0.0.1:{venue.port}/api/v3/"
        self.http = http

    def sign(self, params: dict[str, Any], *, secret: str = DEFAULT_API_SECRET, skew_ms: int = 0) -> str:
        params = {**params, "timestamp": int(time.time() * 1000) + skew_ms}
        query = urlencode(params)
        signature = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        return f"{query}&signature={signature}"

    async def call(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        signed: bool = True,
        key: str | None = DEFAULT_API_KEY,
        body: bool = False,
        **sign: Any,
    ) -> tuple[int, Any, Any]:
        query = self.sign(params or {}, **sign) if signed else urlencode(params or {})
        headers = {"X-MBX-APIKEY": key} if key else {}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            response = await self.http.request(method, self.base + path, data=query, headers=headers)
        else:
            response = await self.http.request(method, f"{self.base}{path}?{query}", headers=headers)
        async with response:
            text = await response.text()
            payload = text if response.content_type == "text/html" else await response.json(content_type=None)
            return response.status, payload, response.headers


@pytest.fixture
async def raw() -> AsyncIterator[tuple[BinanceVenue, Raw]]:
    async with BinanceVenue() as venue, aiohttp.ClientSession() as http:
        yield venue, Raw(venue, http)


LIMIT = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01",
    "price": "49000.00",
    "newClientOrderId": "raw-1",
}


async def test_public_endpoints(raw: tuple[BinanceVenue, Raw]) -> None:
    _, api = raw
    assert (await api.call("GET", "ping", signed=False, key=None))[:2] == (200, {})
    status, info, headers = await api.call("GET", "exchangeInfo", signed=False, key=None)
    assert status == 200 and headers["X-MBX-USED-WEIGHT-1M"] == "21"
    kinds = {r["rateLimitType"] for r in info["rateLimits"]}
    assert kinds == {"REQUEST_WEIGHT", "ORDERS", "RAW_REQUESTS"}
    filters = {f["filterType"] for s in info["symbols"] for f in s["filters"]}
    assert {"PRICE_FILTER", "LOT_SIZE", "NOTIONAL", "MIN_NOTIONAL", "MARKET_LOT_SIZE"} <= filters


async def test_order_in_the_body_and_in_the_query(raw: tuple[BinanceVenue, Raw]) -> None:
    _, api = raw
    status, body, headers = await api.call("POST", "order", LIMIT, body=True)
    assert status == 200 and body["status"] == "NEW" and body["fills"] == []
    assert headers["X-MBX-ORDER-COUNT-10S"] == "1" and "X-MBX-ORDER-COUNT-1D" in headers
    status, body, _ = await api.call("POST", "order", dict(LIMIT, newClientOrderId="raw-2"))
    assert status == 200


async def test_authentication_errors(raw: tuple[BinanceVenue, Raw]) -> None:
    _, api = raw
    assert (await api.call("GET", "account", key=None))[:2] == (
        401,
        {"code": -2014, "msg": "API-key format invalid."},
    )
    status, body, _ = await api.call("GET", "account", key="nobody")
    assert (status, body["code"]) == (401, -2015)
    status, body, _ = await api.call("GET", "account", secret="wrong")
    assert (status, body) == (400, {"code": -1022, "msg": "Signature for this request is not valid."})
    status, body, _ = await api.call("GET", "account", skew_ms=-60_000)
    assert (status, body["code"]) == (400, -1021)
    status, body, _ = await api.call("GET", "account", skew_ms=5_000)
    assert body["msg"] == "Timestamp for this request was 1000ms ahead of the server's time."


async def test_order_errors(raw: tuple[BinanceVenue, Raw]) -> None:
    _, api = raw
    await api.call("POST", "order", LIMIT)
    status, body, _ = await api.call("POST", "order", LIMIT)
    assert (status, body) == (400, {"code": -2010, "msg": "Duplicate order sent."})
    status, body, _ = await api.call("POST", "order", dict(LIMIT, quantity="0.000001", newClientOrderId="x"))
    assert body == {"code": -1013, "msg": "Filter failure: LOT_SIZE"}
    status, body, _ = await api.call("POST", "order", dict(LIMIT, price="49000.001", newClientOrderId="x"))
    assert body == {"code": -1013, "msg": "Filter failure: PRICE_FILTER"}
    status, body, _ = await api.call(
        "POST", "order", dict(LIMIT, price="49000.000000001", newClientOrderId="x")
    )
    assert body == {"code": -1111, "msg": "Parameter 'price' has too much precision."}
    status, body, _ = await api.call("POST", "order", dict(LIMIT, quantity="0.0001", newClientOrderId="x"))
    assert body == {"code": -1013, "msg": "Filter failure: NOTIONAL"}
    status, body, _ = await api.call("POST", "order", dict(LIMIT, type="MARKET", newClientOrderId="x"))
    assert body["code"] == -1106
    status, body, _ = await api.call("POST", "order", dict(LIMIT, bogus="1", newClientOrderId="x"))
    assert body["code"] == -1104
    status, body, _ = await api.call("POST", "order", dict(LIMIT, quantity="100", newClientOrderId="x"))
    assert body == {"code": -2010, "msg": "Account has insufficient balance for requested action."}
    stop = dict(LIMIT, type="STOP_LOSS_LIMIT", stopPrice="49000.00", newClientOrderId="x")
    assert (await api.call("POST", "order", stop))[1] == {
        "code": -2010,
        "msg": "Order would trigger immediately.",
    }
    status, body, _ = await api.call("DELETE", "order", {"symbol": "BTCUSDT", "origClientOrderId": "none"})
    assert (status, body) == (400, {"code": -2011, "msg": "Unknown order sent."})
    status, body, _ = await api.call("GET", "order", {"symbol": "BTCUSDT", "origClientOrderId": "none"})
    assert (status, body) == (400, {"code": -2013, "msg": "Order does not exist."})
    status, body, _ = await api.call("GET", "openOrders", {"symbol": "NOPE"})
    assert body == {"code": -1121, "msg": "Invalid symbol."}


async def test_a_filled_order_frees_its_client_id(raw: tuple[BinanceVenue, Raw]) -> None:
    """Why a blind retry is dangerous: once the first order is done, the same id trades again."""
    _, api = raw
    market = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "MARKET",
        "quantity": "0.01",
        "newClientOrderId": "m-1",
    }
    assert (await api.call("POST", "order", market))[1]["status"] == "FILLED"
    assert (await api.call("POST", "order", market))[1]["status"] == "FILLED"


async def test_faults_and_limits(raw: tuple[BinanceVenue, Raw]) -> None:
    venue, api = raw
    venue.faults.arm(FaultKind.SERVER_ERROR)
    status, body, _ = await api.call("POST", "order", LIMIT)
    assert status == 502 and "<html>" in body
    assert venue.exchange.orders == []  # before processing
    venue.faults.arm(FaultKind.RATE_LIMIT, retry_after=2.5)
    status, body, headers = await api.call("GET", "account")
    assert (status, body["code"], headers["Retry-After"]) == (429, -1003, "3")
    for _ in range(3):  # keep sending while told to wait: banned
        status, body, headers = await api.call("GET", "account")
    assert status == 418 and int(headers["Retry-After"]) >= 100


async def test_weight_limit(raw: tuple[BinanceVenue, Raw]) -> None:
    venue, api = raw
    venue.limits.weight_per_minute = 45
    for _ in range(2):
        assert (await api.call("GET", "exchangeInfo", signed=False))[0] == 200
    status, body, headers = await api.call("GET", "exchangeInfo", signed=False)
    assert status == 429 and body["code"] == -1003 and 1 <= int(headers["Retry-After"]) <= 60


async def test_order_count_limit(raw: tuple[BinanceVenue, Raw]) -> None:
    venue, api = raw
    venue.limits.orders_per_10s = 1
    assert (await api.call("POST", "order", LIMIT))[0] == 200
    status, body, headers = await api.call("POST", "order", dict(LIMIT, newClientOrderId="raw-2"))
    assert status == 429 and body["code"] == -1015 and "Retry-After" in headers


async def test_cancel_replace(raw: tuple[BinanceVenue, Raw]) -> None:
    venue, api = raw
    await api.call("POST", "order", LIMIT)
    replace = dict(
        LIMIT, price="48000.00", cancelReplaceMode="STOP_ON_FAILURE", cancelOrigClientOrderId="raw-1"
    )
    status, body, _ = await api.call("POST", "order/cancelReplace", replace)
    assert status == 200 and body["cancelResult"] == "SUCCESS" and body["newOrderResult"] == "SUCCESS"
    assert body["cancelResponse"]["origClientOrderId"] == "raw-1"
    assert body["newOrderResponse"]["clientOrderId"] == "raw-1"
    status, body, _ = await api.call(
        "POST", "order/cancelReplace", dict(replace, cancelOrigClientOrderId="none")
    )
    assert status == 400 and body["code"] == -2022 and body["data"]["newOrderResult"] == "NOT_ATTEMPTED"
    venue.faults.arm(FaultKind.REJECT, reason="nope")
    status, body, _ = await api.call("POST", "order/cancelReplace", replace)
    assert status == 409 and body["code"] == -2021 and body["data"]["newOrderResponse"]["msg"] == "nope"


async def test_matching_and_balances(raw: tuple[BinanceVenue, Raw]) -> None:
    venue, api = raw
    exchange = venue.exchange
    usdt, btc = exchange.free["USDT"], exchange.free["BTC"]
    await api.call("POST", "order", LIMIT)  # rests, locks 490 USDT
    assert exchange.locked["USDT"] == D("490")
    exchange.set_liquidity("BTCUSDT", D("0.004"))
    trades = exchange.set_price("BTCUSDT", D("48000"))
    assert [(t.qty, t.price, t.is_maker) for t in trades] == [(D("0.004"), D("49000.00"), True)]
    exchange.set_liquidity("BTCUSDT", None)
    exchange.set_price("BTCUSDT", D("48000"))
    order = exchange.orders[0]
    assert order.status == "FILLED" and exchange.locked["USDT"] == 0
    commission = sum(t.commission for t in exchange.trades)
    assert exchange.free["BTC"] == btc + D("0.01") - commission
    assert exchange.free["USDT"] == usdt - D("490")


async def test_amend_keep_priority(raw: tuple[BinanceVenue, Raw]) -> None:
    venue, api = raw
    exchange = venue.exchange
    await api.call("POST", "order", LIMIT)
    await api.call("POST", "order", dict(LIMIT, newClientOrderId="raw-2"))  # same price, behind raw-1
    amend = {
        "symbol": "BTCUSDT",
        "origClientOrderId": "raw-1",
        "newClientOrderId": "raw-1",
        "newQty": "0.004",
    }
    status, body, headers = await api.call("PUT", "order/amend/keepPriority", amend)
    assert status == 200 and "X-MBX-ORDER-COUNT-10S" not in headers  # an amendment is not a new order
    amended = body["amendedOrder"]
    assert (amended["orderId"], amended["clientOrderId"], amended["qty"]) == (1, "raw-1", "0.00400000")
    assert {"transactTime", "executionId"} <= set(body) and "cumulativeQuoteQty" in amended
    assert exchange.locked["USDT"] == D("49000") * D("0.014")  # the removed 0.006 released its funds
    exchange.set_liquidity("BTCUSDT", D("0.004"))
    trades = exchange.set_price("BTCUSDT", D("48000"))
    assert [t.client_order_id for t in trades] == ["raw-1"]  # it kept its place in the queue
    second = dict(amend, origClientOrderId="raw-2", newClientOrderId="raw-2")
    for qty, message in [
        ("0.01", "The requested action would change no state; rejecting"),
        ("0.02", "Order amend (quantity increase) is not supported."),
    ]:
        status, body, _ = await api.call("PUT", "order/amend/keepPriority", dict(second, newQty=qty))
        assert (status, body) == (400, {"code": -2038, "msg": message})
    _, body, _ = await api.call("PUT", "order/amend/keepPriority", amend)  # raw-1 is filled now
    assert body == {"code": -2038, "msg": "Unknown order sent."}
    _, body, _ = await api.call("PUT", "order/amend/keepPriority", dict(second, newQty="0.000001"))
    assert body == {"code": -1013, "msg": "Filter failure: LOT_SIZE"}
    exchange.markets["BTCUSDT"].spec.amend_allowed = False
    _, body, _ = await api.call("PUT", "order/amend/keepPriority", dict(second, newQty="0.005"))
    assert body == {"code": -2038, "msg": "Order amend is not supported for this symbol."}


def _ws_signed(params: dict[str, Any], *, secret: str = DEFAULT_API_SECRET) -> dict[str, Any]:
    """The WebSocket API's signature: every param but ``signature``, sorted, ``&``-joined."""
    params = {"apiKey": DEFAULT_API_KEY, "timestamp": int(time.time() * 1000), **params}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "signature": hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()}


async def test_websocket_api_user_data_stream(raw: tuple[BinanceVenue, Raw]) -> None:
    venue, api = raw
    async with api.http.ws_connect(venue.ws_api_url) as ws:

        async def ask(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
            await ws.send_json({"id": method, "method": method, "params": params or {}})
            answer: dict[str, Any] = await ws.receive_json(timeout=2)
            assert answer["id"] == method and "rateLimits" in answer
            return answer

        bad = await ask("userDataStream.subscribe.signature", _ws_signed({}, secret="wrong"))
        assert (bad["status"], bad["error"]) == (
            400,
            {"code": -1022, "msg": "Signature for this request is not valid."},
        )
        ok = await ask("userDataStream.subscribe.signature", _ws_signed({}))
        assert ok["status"] == 200 and ok["result"] == {"subscriptionId": 0}
        again = await ask("userDataStream.subscribe.signature", _ws_signed({}))
        assert again["error"]["code"] == -2035
        assert (await ask("session.subscriptions"))["result"] == [{"subscriptionId": 0}]
        assert (await ask("ping"))["result"] == {}

        market = {k: v for k, v in LIMIT.items() if k not in ("timeInForce", "price")}
        status, _, _ = await api.call("POST", "order", dict(market, type="MARKET"))
        assert status == 200
        events = [(await ws.receive_json(timeout=2))["event"] for _ in range(3)]
        assert [(e["e"], e.get("x")) for e in events] == [
            ("executionReport", "NEW"),
            ("executionReport", "TRADE"),
            ("outboundAccountPosition", None),
        ]
        trade = events[1]
        assert trade["X"] == "FILLED" and trade["t"] == 1 and trade["N"] == "BTC" and trade["c"] == "raw-1"

        venue.limits.weight_per_minute = 0  # the next request is over the limit
        limited = await ask("ping")
        assert limited["status"] == 429 and limited["error"]["code"] == -1003
        assert limited["error"]["data"]["retryAfter"] > time.time() * 1000  # epoch ms, as Binance sends
        venue.limits.weight_per_minute = 6000

        done = await ask("userDataStream.unsubscribe")
        assert done["status"] == 200
        terminated = await ws.receive_json(timeout=2)
        assert terminated["event"]["e"] == "eventStreamTerminated" and terminated["subscriptionId"] == 0
