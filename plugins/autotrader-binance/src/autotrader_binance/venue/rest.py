"""Binance's spot REST API (``/api/v3``) on aiohttp.

Every request goes through one pipeline, in Binance's order: injected faults, the IP weight
limit (429/418), the API key and signature and timing of signed endpoints, unread parameters,
the order-count limit, then the endpoint.  Answers carry Binance's headers
(``X-MBX-USED-WEIGHT-1M``, ``X-MBX-ORDER-COUNT-10S``), error bodies are ``{"code", "msg"}`` and
5xx bodies are HTML, as a real gateway's are.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl

from aiohttp import web

from autotrader_binance.venue import wire
from autotrader_binance.venue.auth import Credentials, check_timing, rest_payload
from autotrader_binance.venue.exchange import Exchange, VenueError
from autotrader_binance.venue.faults import FaultKind, FaultPlan
from autotrader_binance.venue.limits import RateLimits, TooMany
from autotrader_binance.venue.orders import (
    check_client_id,
    generated_client_id,
    optional_decimal,
    parse_new_order,
    require,
)

__all__ = ["RestApi"]

log = logging.getLogger(__name__)

_SIGNING: Final = frozenset({"timestamp", "recvWindow", "signature"})
_NEW_ORDER_PARAMS: Final = frozenset(
    {
        "symbol",
        "side",
        "type",
        "timeInForce",
        "quantity",
        "quoteOrderQty",
        "price",
        "newClientOrderId",
        "stopPrice",
        "newOrderRespType",
        "selfTradePreventionMode",
        "strategyId",
        "strategyType",
        "icebergQty",
        "trailingDelta",
    }
)
_BAD_GATEWAY_HTML: Final = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


@dataclass
class Call:
    """One request as the endpoint sees it."""

    params: dict[str, str]
    now_ms: int


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    weight: Callable[[Mapping[str, str]], int]
    signed: bool = False
    order_count: bool = False
    """Counts towards the ORDERS limits (new orders)."""
    order_request: bool = False
    """Changes orders (the SERVER_ERROR fault targets these)."""
    params: frozenset[str] = field(default_factory=frozenset)


def _fixed(weight: int) -> Callable[[Mapping[str, str]], int]:
    return lambda _params: weight


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(body, separators=(",", ":")),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _optional_int(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(str(raw))
    except ValueError:
        raise VenueError(
            -1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."
        ) from None


class RestApi:
    """The REST routes of one venue."""

    def __init__(
        self,
        exchange: Exchange,
        credentials: Credentials,
        limits: RateLimits,
        faults: FaultPlan,
        closing: asyncio.Event,
        *,
        hold_seconds: float = 30.0,
    ) -> None:
        self.exchange = exchange
        self.credentials = credentials
        self.limits = limits
        self.faults = faults
        self.closing = closing
        self.hold_seconds = hold_seconds
        self.endpoints = self._endpoints()

    # ------------------------------------------------------------------ routing
    def add_routes(self, app: web.Application) -> None:
        for endpoint in self.endpoints:
            app.router.add_route(endpoint.method, endpoint.path, self._dispatcher(endpoint))

    def _endpoints(self) -> list[Endpoint]:
        v3 = "/api/v3/"
        order_lookup = frozenset({"symbol", "orderId", "origClientOrderId"})
        return [
            Endpoint("GET", v3 + "ping", self.ping, _fixed(1)),
            Endpoint("GET", v3 + "time", self.time, _fixed(1)),
            Endpoint(
                "GET",
                v3 + "exchangeInfo",
                self.exchange_info,
                _fixed(20),
                params=frozenset({"symbol", "symbols", "permissions", "showPermissionSets", "symbolStatus"}),
            ),
            Endpoint(
                "GET",
                v3 + "ticker/price",
                self.ticker_price,
                lambda p: 2 if p.get("symbol") else 4,
                params=frozenset({"symbol", "symbols"}),
            ),
            Endpoint(
                "GET",
                v3 + "ticker/bookTicker",
                self.book_ticker,
                lambda p: 2 if p.get("symbol") else 4,
                params=frozenset({"symbol", "symbols"}),
            ),
            Endpoint(
                "POST",
                v3 + "order",
                self.new_order,
                _fixed(1),
                signed=True,
                order_count=True,
                order_request=True,
                params=_NEW_ORDER_PARAMS,
            ),
            Endpoint(
                "POST",
                v3 + "order/test",
                self.test_order,
                _fixed(1),
                signed=True,
                params=_NEW_ORDER_PARAMS | {"computeCommissionRates"},
            ),
            Endpoint("GET", v3 + "order", self.query_order, _fixed(4), signed=True, params=order_lookup),
            Endpoint(
                "DELETE",
                v3 + "order",
                self.cancel_order,
                _fixed(1),
                signed=True,
                order_request=True,
                params=order_lookup | {"newClientOrderId", "cancelRestrictions"},
            ),
            Endpoint(
                "GET",
                v3 + "openOrders",
                self.open_orders,
                lambda p: 6 if p.get("symbol") else 80,
                signed=True,
                params=frozenset({"symbol"}),
            ),
            Endpoint(
                "DELETE",
                v3 + "openOrders",
                self.cancel_open_orders,
                _fixed(1),
                signed=True,
                order_request=True,
                params=frozenset({"symbol"}),
            ),
            Endpoint(
                "GET",
                v3 + "account",
                self.account,
                _fixed(20),
                signed=True,
                params=frozenset({"omitZeroBalances"}),
            ),
            Endpoint(
                "GET",
                v3 + "myTrades",
                self.my_trades,
                lambda p: 5 if p.get("orderId") else 20,
                signed=True,
                params=frozenset({"symbol", "orderId", "startTime", "endTime", "fromId", "limit"}),
            ),
            Endpoint(
                "PUT",
                v3 + "order/amend/keepPriority",
                self.amend_keep_priority,
                _fixed(4),
                signed=True,
                order_request=True,
                params=order_lookup | {"newClientOrderId", "newQty"},
            ),
            Endpoint(
                "POST",
                v3 + "order/cancelReplace",
                self.cancel_replace,
                _fixed(1),
                signed=True,
                order_count=True,
                order_request=True,
                params=_NEW_ORDER_PARAMS
                | {
                    "cancelReplaceMode",
                    "cancelNewClientOrderId",
                    "cancelOrigClientOrderId",
                    "cancelOrderId",
                    "cancelRestrictions",
                    "orderRateLimitExceededMode",
                },
            ),
        ]

    def _dispatcher(self, endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._handle(endpoint, request)

        return handle

    async def _handle(self, endpoint: Endpoint, request: web.Request) -> web.StreamResponse:
        now = self.exchange.now_ms()
        raw_query = request.raw_path.partition("?")[2]
        raw_body = await request.text() if request.can_read_body else ""
        params = dict(parse_qsl(raw_body, keep_blank_values=True))
        params.update(parse_qsl(raw_query, keep_blank_values=True))  # the query string wins
        headers: dict[str, str] = {}
        try:
            injected = self.faults.take(FaultKind.RATE_LIMIT)
            if injected is not None:
                self.limits.told_to_wait(now, injected.retry_after)
                raise TooMany(
                    -1003,
                    "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. "
                    "Please use WebSocket Streams for live updates to avoid polling the API.",
                    status=429,
                    retry_after=int(injected.retry_after_header),
                )
            self.limits.charge(now, endpoint.weight(params))
            if endpoint.order_request and self.faults.take(FaultKind.SERVER_ERROR) is not None:
                return web.Response(
                    text=_BAD_GATEWAY_HTML,
                    status=502,
                    content_type="text/html",
                    headers=self.limits.weight_headers(now),
                )
            if endpoint.signed:
                self._authenticate(request, params, raw_query, raw_body, now)
            self._check_unread(endpoint, params)
            if endpoint.order_count:
                self.limits.count_order(now)
            body = await endpoint.handler(Call(params, now))
        except TooMany as exc:
            headers.update(self.limits.weight_headers(now))
            headers["Retry-After"] = str(exc.retry_after)
            return _json(exc.body(), exc.status, headers)
        except VenueError as exc:
            headers.update(self.limits.weight_headers(now))
            return _json(exc.body(), exc.status, headers)
        headers.update(self.limits.weight_headers(now))
        if endpoint.order_count:
            headers.update(self.limits.order_headers(now))
        return _json(body, 200, headers)

    def _authenticate(
        self, request: web.Request, params: Mapping[str, str], raw_query: str, raw_body: str, now: int
    ) -> None:
        secret = self.credentials.check_key(request.headers.get("X-MBX-APIKEY"))
        self.credentials.check_signature(secret, rest_payload(raw_query, raw_body), params.get("signature"))
        check_timing(params, now)

    @staticmethod
    def _check_unread(endpoint: Endpoint, params: Mapping[str, str]) -> None:
        unread = set(params) - endpoint.params - _SIGNING
        if unread:
            sent = len(params)
            raise VenueError(
                -1104,
                f"Not all sent parameters were read; read {sent - len(unread)} parameter(s) "
                f"but was sent {sent}.",
            )

    async def _hold(self) -> None:
        """Keep a response back (accept-then-timeout) until the venue closes or the hold ends."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), self.hold_seconds)

    # ------------------------------------------------------------------ general
    async def ping(self, call: Call) -> Any:
        return {}

    async def time(self, call: Call) -> Any:
        return {"serverTime": call.now_ms}

    def _wanted_symbols(self, params: Mapping[str, str]) -> list[str]:
        """``symbol=X`` or ``symbols=["X","Y"]`` (each checked: -1121), else every listed symbol."""
        if params.get("symbol"):
            wanted = [params["symbol"]]
        elif params.get("symbols"):
            try:
                wanted = list(dict.fromkeys(json.loads(params["symbols"])))
            except (ValueError, TypeError):
                raise VenueError(-1100, "Illegal characters found in parameter 'symbols'.") from None
            if not all(isinstance(s, str) for s in wanted):
                raise VenueError(-1100, "Illegal characters found in parameter 'symbols'.")
        else:
            return list(self.exchange.markets)
        for symbol in wanted:
            self.exchange.spec(symbol)
        return wanted

    async def exchange_info(self, call: Call) -> Any:
        wanted = set(self._wanted_symbols(call.params))
        specs = [m.spec for m in self.exchange.markets.values() if m.spec.symbol in wanted]
        return wire.exchange_info(specs, self.limits.declared(), call.now_ms)

    async def ticker_price(self, call: Call) -> Any:
        prices = [
            {"symbol": s, "price": wire.fmt(self.exchange.spec(s).price)}
            for s in self._wanted_symbols(call.params)
        ]
        return prices[0] if call.params.get("symbol") else prices

    async def book_ticker(self, call: Call) -> Any:
        """The best bid and ask: an object for ``symbol``, a list otherwise (all, or ``symbols``)."""
        tops = [wire.book_ticker(self.exchange.book_ticker(s)) for s in self._wanted_symbols(call.params)]
        return tops[0] if call.params.get("symbol") else tops

    # ------------------------------------------------------------------ orders
    async def new_order(self, call: Call) -> Any:
        request = parse_new_order(call.params, self.exchange)
        rejected = self.faults.take(FaultKind.REJECT)
        if rejected is not None:
            self.exchange.record_rejected(request)
            raise VenueError(-2010, rejected.reason)
        hold = self.faults.take(FaultKind.ACCEPT_THEN_TIMEOUT)
        order, trades = self.exchange.place(request)
        default = "FULL" if request.type in ("MARKET", "LIMIT") else "ACK"
        response_type = call.params.get("newOrderRespType") or default
        if response_type not in ("ACK", "RESULT", "FULL"):
            raise VenueError(-1177, "Invalid newOrderRespType.")
        body = wire.new_order_response(order, trades, response_type, call.now_ms)
        if hold is not None:
            await self._hold()
        return body

    async def test_order(self, call: Call) -> Any:
        parse_new_order(call.params, self.exchange)
        return {}

    def _lookup_params(
        self, params: Mapping[str, str], id_name: str, cid_name: str
    ) -> tuple[str, int | None, str | None]:
        symbol = require(params, "symbol")
        order_id = _optional_int(params, id_name)
        client_id = params.get(cid_name) or None
        if order_id is None and client_id is None:
            raise VenueError(
                -1102, f"Param '{cid_name}' or '{id_name}' must be sent, but both were empty/null!"
            )
        return symbol, order_id, client_id

    async def query_order(self, call: Call) -> Any:
        symbol, order_id, client_id = self._lookup_params(call.params, "orderId", "origClientOrderId")
        order = self.exchange.find(symbol, order_id, client_id)
        if order is None:
            raise VenueError(-2013, "Order does not exist.")
        return wire.order_json(order)

    async def cancel_order(self, call: Call) -> Any:
        symbol, order_id, client_id = self._lookup_params(call.params, "orderId", "origClientOrderId")
        cancel_id = call.params.get("newClientOrderId") or generated_client_id()
        order = self.exchange.cancel(symbol, order_id, client_id, cancel_id)
        return wire.cancel_response(order, cancel_id, call.now_ms)

    async def amend_keep_priority(self, call: Call) -> Any:
        symbol, order_id, client_id = self._lookup_params(call.params, "orderId", "origClientOrderId")
        new_qty = optional_decimal(call.params, "newQty")
        if new_qty is None:
            require(call.params, "newQty")
        assert new_qty is not None
        spec = self.exchange.spec(symbol)
        if new_qty <= 0 or new_qty < spec.min_qty or new_qty % spec.step:
            raise VenueError(-1013, "Filter failure: LOT_SIZE")
        new_client_id = call.params.get("newClientOrderId") or generated_client_id()
        check_client_id(new_client_id, "newClientOrderId")
        found = self.exchange.find(symbol, order_id, client_id)
        previous_id = found.client_order_id if found is not None else ""
        order = self.exchange.amend(symbol, order_id, client_id, new_client_id, new_qty)
        return wire.amend_response(order, previous_id, call.now_ms)

    async def cancel_open_orders(self, call: Call) -> Any:
        symbol = require(call.params, "symbol")
        self.exchange.spec(symbol)
        orders = self.exchange.open_orders(symbol)
        if not orders:
            raise VenueError(-2011, "Unknown order sent.")
        answers = []
        for order in orders:
            cancel_id = generated_client_id()
            self.exchange.cancel(symbol, order.order_id, None, cancel_id)
            answers.append(wire.cancel_response(order, cancel_id, call.now_ms))
        return answers

    async def cancel_replace(self, call: Call) -> Any:
        params = call.params
        mode = require(params, "cancelReplaceMode")
        if mode not in ("STOP_ON_FAILURE", "ALLOW_FAILURE"):
            raise VenueError(-1145, "Invalid cancelReplaceMode.")
        request = parse_new_order(params, self.exchange)  # filters are checked before anything happens
        symbol, order_id, client_id = self._lookup_params(params, "cancelOrderId", "cancelOrigClientOrderId")
        cancel_id = params.get("cancelNewClientOrderId") or generated_client_id()
        cancel_answer: dict[str, Any]
        try:
            old = self.exchange.cancel(symbol, order_id, client_id, cancel_id)
            cancel_answer = wire.cancel_response(old, cancel_id, call.now_ms)
            cancelled = True
        except VenueError as exc:
            cancel_answer, cancelled = exc.body(), False
        if not cancelled and mode == "STOP_ON_FAILURE":
            raise VenueError(
                -2022,
                "Order cancel-replace failed.",
                data={
                    "cancelResult": "FAILURE",
                    "newOrderResult": "NOT_ATTEMPTED",
                    "cancelResponse": cancel_answer,
                    "newOrderResponse": None,
                },
            )
        new_answer: dict[str, Any]
        try:
            rejected = self.faults.take(FaultKind.REJECT)
            if rejected is not None:
                self.exchange.record_rejected(request)
                raise VenueError(-2010, rejected.reason)
            order, trades = self.exchange.place(request)
            default = "FULL" if request.type in ("MARKET", "LIMIT") else "ACK"
            new_answer = wire.new_order_response(
                order, trades, params.get("newOrderRespType") or default, call.now_ms
            )
            placed = True
        except VenueError as exc:
            new_answer, placed = exc.body(), False
        results = {
            "cancelResult": "SUCCESS" if cancelled else "FAILURE",
            "newOrderResult": "SUCCESS" if placed else "FAILURE",
            "cancelResponse": cancel_answer,
            "newOrderResponse": new_answer,
        }
        if cancelled and placed:
            return results
        if cancelled or placed:
            raise VenueError(-2021, "Order cancel-replace partially failed.", status=409, data=results)
        raise VenueError(-2022, "Order cancel-replace failed.", data=results)

    # ------------------------------------------------------------------ account
    async def open_orders(self, call: Call) -> Any:
        symbol = call.params.get("symbol") or None
        if symbol is not None:
            self.exchange.spec(symbol)
        return [wire.order_json(o) for o in self.exchange.open_orders(symbol)]

    async def account(self, call: Call) -> Any:
        omit_zero = call.params.get("omitZeroBalances") == "true"
        balances = [
            {"asset": asset, "free": wire.fmt(free), "locked": wire.fmt(locked)}
            for asset, free, locked in self.exchange.balance_rows()
            if not (omit_zero and free == 0 and locked == 0)
        ]
        maker = self.exchange.maker_rate
        taker = self.exchange.taker_rate
        return {
            "makerCommission": int(maker * 10000),
            "takerCommission": int(taker * 10000),
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": wire.fmt(maker),
                "taker": wire.fmt(taker),
                "buyer": wire.fmt(maker * 0),
                "seller": wire.fmt(maker * 0),
            },
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": call.now_ms,
            "accountType": "SPOT",
            "balances": balances,
            "permissions": ["SPOT"],
            "uid": 354937868,
        }

    async def my_trades(self, call: Call) -> Any:
        symbol = require(call.params, "symbol")
        limit = _optional_int(call.params, "limit") or 500
        if limit > 1000:
            limit = 1000
        trades = self.exchange.my_trades(
            symbol,
            order_id=_optional_int(call.params, "orderId"),
            from_id=_optional_int(call.params, "fromId"),
            limit=limit,
        )
        start, end = _optional_int(call.params, "startTime"), _optional_int(call.params, "endTime")
        return [
            wire.trade_json(t)
            for t in trades
            if (start is None or t.time >= start) and (end is None or t.time <= end)
        ]
