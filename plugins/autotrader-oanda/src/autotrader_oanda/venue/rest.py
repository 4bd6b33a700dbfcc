"""The v20 REST endpoints oandapyV20 calls, on aiohttp, with bearer auth and the REST faults."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from autotrader_oanda.venue.exchange import Exchange, Reply
from autotrader_oanda.venue.faults import FaultPlan
from autotrader_oanda.venue.pricing import PricingHub
from autotrader_oanda.venue.stream import StreamHub
from autotrader_oanda.venue.wire import error_body

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ACCOUNT = "/v3/accounts/{account_id}"


def _json(reply: Reply) -> web.Response:
    status, body = reply
    return web.json_response(body, status=status, dumps=lambda d: json.dumps(d, separators=(",", ":")))


def _csv(value: str | None) -> list[str]:
    return [part for part in (value or "").split(",") if part]


class RestApi:
    """Builds the aiohttp application for one exchange."""

    def __init__(
        self,
        exchange: Exchange,
        faults: FaultPlan,
        hub: StreamHub,
        pricing: PricingHub,
        *,
        token: str,
        slow_response: float,
        shutdown: asyncio.Event,
    ) -> None:
        self.exchange = exchange
        self.faults = faults
        self.hub = hub
        self.pricing = pricing
        self._token = token
        self.slow_response = slow_response
        self.shutdown = shutdown
        self.requests_seen = 0

    def set_token(self, token: str) -> None:
        self._token = token

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth, self._order_faults])
        ex = self.exchange
        routes = [
            web.get("/v3/accounts", self._accounts),
            web.get(
                ACCOUNT, self._get(lambda r: {"account": ex.details(), "lastTransactionID": str(ex.last_id)})
            ),
            web.get(
                ACCOUNT + "/summary",
                self._get(lambda r: {"account": ex.summary(), "lastTransactionID": str(ex.last_id)}),
            ),
            web.get(ACCOUNT + "/instruments", self._get(self._instruments)),
            web.get(ACCOUNT + "/pricing", self._get(self._pricing)),
            web.get(ACCOUNT + "/pricing/stream", self.pricing.handle),
            web.post(ACCOUNT + "/orders", self._create_order),
            web.get(ACCOUNT + "/orders", self._get(self._orders)),
            web.get(
                ACCOUNT + "/pendingOrders",
                self._get(
                    lambda r: {"orders": ex.list_orders(count=10_000), "lastTransactionID": str(ex.last_id)}
                ),
            ),
            web.get(ACCOUNT + "/orders/{spec}", self._order),
            web.put(ACCOUNT + "/orders/{spec}", self._replace_order),
            web.put(ACCOUNT + "/orders/{spec}/cancel", self._cancel_order),
            web.get(
                ACCOUNT + "/positions", self._get(lambda r: self._positions(ex.account.traded_instruments()))
            ),
            web.get(
                ACCOUNT + "/openPositions",
                self._get(lambda r: self._positions(ex.account.open_instruments())),
            ),
            web.get(ACCOUNT + "/positions/{instrument}", self._position),
            web.get(ACCOUNT + "/openTrades", self._get(self._trades)),
            web.get(ACCOUNT + "/trades", self._get(self._trades)),
            web.get(ACCOUNT + "/transactions/sinceid", self._since),
            web.get(ACCOUNT + "/transactions/idrange", self._idrange),
            web.get(ACCOUNT + "/transactions/stream", self.hub.handle),
            web.get(ACCOUNT + "/transactions/{txn_id}", self._transaction),
        ]
        app.add_routes(routes)
        return app

    # ------------------------------------------------------------------ middlewares
    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests_seen += 1
        if request.headers.get("Authorization") != f"Bearer {self._token}":
            return web.json_response(error_body("Insufficient authorization to perform request."), status=401)
        account_id = request.match_info.get("account_id")
        if account_id is not None and account_id != self.exchange.account_id:
            return web.json_response(
                error_body(f"Invalid value specified for 'accountID': {account_id}"), status=403
            )
        return await handler(request)

    @web.middleware
    async def _order_faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        is_order_request = request.method in ("POST", "PUT") and "/orders" in request.path
        if is_order_request and self.faults.take("rate_limits"):
            retry_after = str(max(1, math.ceil(self.faults.retry_after)))
            return web.json_response(
                error_body("Requests per second exceeded"), status=429, headers={"Retry-After": retry_after}
            )
        if is_order_request and self.faults.take("server_errors"):
            return web.json_response(error_body("Internal Server Error"), status=500)
        return await handler(request)

    # ------------------------------------------------------------------ helpers
    def _get(self, build: Callable[[web.Request], dict[str, Any]]) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            return _json((200, build(request)))

        return handler

    async def _body(self, request: web.Request) -> Any:
        try:
            return await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    async def _maybe_withhold(self, response: web.Response, request: web.Request) -> web.Response:
        """Accept-then-timeout: the work is done, the answer arrives too late (or never)."""
        if request.method == "POST" and self.faults.take("slow_orders"):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.shutdown.wait(), self.slow_response)
        return response

    # ------------------------------------------------------------------ handlers
    async def _accounts(self, request: web.Request) -> web.StreamResponse:
        return _json((200, {"accounts": [{"id": self.exchange.account_id, "tags": []}]}))

    def _instruments(self, request: web.Request) -> dict[str, Any]:
        wanted = _csv(request.query.get("instruments"))
        specs = [s for s in self.exchange.instruments.values() if not wanted or s.name in wanted]
        return {"instruments": [s.to_wire() for s in specs], "lastTransactionID": str(self.exchange.last_id)}

    def _pricing(self, request: web.Request) -> dict[str, Any]:
        wanted = _csv(request.query.get("instruments")) or list(self.exchange.instruments)
        return {"prices": self.exchange.pricing(wanted), "time": ""}

    def _orders(self, request: web.Request) -> dict[str, Any]:
        query = request.query
        orders = self.exchange.list_orders(
            state=query.get("state", "PENDING"),
            instrument=query.get("instrument"),
            count=int(query.get("count", "50")),
            ids=_csv(query.get("ids")) or None,
        )
        return {"orders": orders, "lastTransactionID": str(self.exchange.last_id)}

    def _positions(self, instruments: list[str]) -> dict[str, Any]:
        account = self.exchange.account
        return {
            "positions": [account.position_to_wire(i) for i in instruments],
            "lastTransactionID": str(self.exchange.last_id),
        }

    async def _position(self, request: web.Request) -> web.StreamResponse:
        instrument = request.match_info["instrument"]
        if instrument not in self.exchange.instruments:
            return _json((404, error_body(f"Invalid value specified for 'instrument': {instrument}")))
        body = {
            "position": self.exchange.account.position_to_wire(instrument),
            "lastTransactionID": str(self.exchange.last_id),
        }
        return _json((200, body))

    def _trades(self, request: web.Request) -> dict[str, Any]:
        account = self.exchange.account
        return {
            "trades": [account.trade_to_wire(t) for t in reversed(account.trades)],
            "lastTransactionID": str(self.exchange.last_id),
        }

    async def _create_order(self, request: web.Request) -> web.StreamResponse:
        reply = self.exchange.create_order(await self._body(request))
        return await self._maybe_withhold(_json(reply), request)

    async def _order(self, request: web.Request) -> web.StreamResponse:
        return _json(self.exchange.get_order(request.match_info["spec"]))

    async def _replace_order(self, request: web.Request) -> web.StreamResponse:
        return _json(self.exchange.replace_order(request.match_info["spec"], await self._body(request)))

    async def _cancel_order(self, request: web.Request) -> web.StreamResponse:
        return _json(self.exchange.cancel_order(request.match_info["spec"]))

    async def _since(self, request: web.Request) -> web.StreamResponse:
        raw = request.query.get("id", "")
        if not raw.isdigit():
            return _json((400, error_body("Invalid value specified for 'id'", "INVALID_PARAMETER")))
        since = int(raw)
        if since > self.exchange.last_id:
            return _json((416, error_body(f"Transaction ID {since} is beyond the last transaction")))
        return _json(
            (
                200,
                {
                    "transactions": self.exchange.transactions_since(since),
                    "lastTransactionID": str(self.exchange.last_id),
                },
            )
        )

    async def _idrange(self, request: web.Request) -> web.StreamResponse:
        try:
            first, last = int(request.query["from"]), int(request.query["to"])
        except (KeyError, ValueError):
            return _json((400, error_body("Invalid value specified for 'from'/'to'", "INVALID_PARAMETER")))
        chosen = [t for t in self.exchange.transactions if first <= int(t["id"]) <= last]
        return _json((200, {"transactions": chosen, "lastTransactionID": str(self.exchange.last_id)}))

    async def _transaction(self, request: web.Request) -> web.StreamResponse:
        raw = request.match_info["txn_id"]
        txn = self.exchange.transaction(int(raw)) if raw.isdigit() else None
        if txn is None:
            return _json((404, error_body(f"Transaction {raw} does not exist", "NO_SUCH_TRANSACTION")))
        return _json((200, {"transaction": txn, "lastTransactionID": str(self.exchange.last_id)}))
