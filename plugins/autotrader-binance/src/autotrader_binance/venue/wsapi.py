"""Binance's WebSocket API (``/ws-api/v3``): requests, responses and the user data stream.

python-binance 1.0.37 reaches the user data stream through this API alone: it sends
``userDataStream.subscribe.signature`` on its WebSocket API connection and receives events as
``{"subscriptionId": n, "event": {...}}`` frames on that same connection.  A subscription lives
and dies with its connection, which is why a client must subscribe again after reconnecting.

Stream faults live here: a dropped connection (the TCP transport is aborted, as a network
failure would), duplicated and swapped events, and ``eventStreamTerminated``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import logging
from collections.abc import Mapping
from typing import Any, Final

from aiohttp import WSMsgType, web

from autotrader_binance.venue.auth import Credentials, check_timing, ws_payload
from autotrader_binance.venue.exchange import Exchange, VenueError
from autotrader_binance.venue.faults import FaultKind, FaultPlan
from autotrader_binance.venue.limits import RateLimits, TooMany
from autotrader_binance.venue.outbox import Outbox

__all__ = ["WsApi"]

log = logging.getLogger(__name__)

REORDER_FLUSH_SECONDS: Final = 0.3
"""A held (to be swapped) event is sent anyway if no second event follows within this time."""


class _Session:
    """One WebSocket API connection and its user-data subscriptions."""

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.BaseTransport | None) -> None:
        self.ws = ws
        self.transport = transport
        self.outbox = Outbox(ws)
        self.subscriptions: dict[int, str] = {}
        self.ids = itertools.count(0)

    def send(self, message: Mapping[str, Any]) -> None:
        self.outbox.send(message)


class WsApi:
    """The WebSocket API endpoint of one venue; publishes the exchange's user-data events."""

    def __init__(
        self, exchange: Exchange, credentials: Credentials, limits: RateLimits, faults: FaultPlan
    ) -> None:
        self.exchange = exchange
        self.credentials = credentials
        self.limits = limits
        self.faults = faults
        self.sessions: set[_Session] = set()
        self._held: dict[str, Any] | None = None
        self._flush_handle: asyncio.TimerHandle | None = None
        self.events_sent = 0
        self.requests: collections.Counter[str] = collections.Counter()
        """Requests received, by method (what a client did, for tests)."""
        exchange.add_sink(self.publish)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/ws-api/v3", self.handle)

    # ------------------------------------------------------------------ connection
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        session = _Session(ws, request.transport)
        self.sessions.add(session)
        session.outbox.start()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._on_request(session, message.data)
                elif message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            self.sessions.discard(session)
            await session.outbox.stop()
        return ws

    async def close(self) -> None:
        for session in list(self.sessions):
            with contextlib.suppress(Exception):
                await session.ws.close(code=1001, message=b"venue shutting down")
        if self._flush_handle is not None:
            self._flush_handle.cancel()

    def drop(self) -> int:
        """Cut every connection without a close frame, like a network failure; returns how many."""
        dropped = 0
        for session in list(self.sessions):
            self.sessions.discard(session)
            session.subscriptions.clear()
            if session.transport is not None:
                session.transport.abort()  # type: ignore[attr-defined]
            dropped += 1
        return dropped

    def terminate_streams(self) -> None:
        """End every subscription with ``eventStreamTerminated`` (connections stay open)."""
        for session in self.sessions:
            for subscription_id in list(session.subscriptions):
                self._terminate(session, subscription_id)

    # ------------------------------------------------------------------ requests
    def _on_request(self, session: _Session, text: str) -> None:
        try:
            request = json.loads(text)
            request_id = request.get("id")
            method = str(request.get("method", ""))
            params = request.get("params") or {}
        except (ValueError, AttributeError):
            session.send({"id": None, "status": 400, "error": {"code": -1102, "msg": "Malformed request."}})
            return
        method = method.removeprefix("v3/")
        self.requests[method] += 1
        now = self.exchange.now_ms()
        try:
            self.limits.charge(now, 2)
            result = self._dispatch(session, method, params, now)
        except TooMany as exc:
            session.send(
                {
                    "id": request_id,
                    "status": exc.status,
                    "error": {
                        "code": exc.code,
                        "msg": exc.msg,
                        "data": {"retryAfter": now + exc.retry_after * 1000},
                    },
                    "rateLimits": self._rate_limits(now),
                }
            )
            return
        except VenueError as exc:
            session.send(
                {
                    "id": request_id,
                    "status": exc.status,
                    "error": exc.body(),
                    "rateLimits": self._rate_limits(now),
                }
            )
            return
        terminated = result.pop("_terminated", []) if method == "userDataStream.unsubscribe" else []
        session.send(
            {"id": request_id, "status": 200, "result": result, "rateLimits": self._rate_limits(now)}
        )
        for subscription_id in terminated:
            self._send_terminated(session, subscription_id)

    def _rate_limits(self, now: int) -> list[dict[str, Any]]:
        self.limits.weight.roll(now)
        return [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.limits.weight_per_minute,
                "count": self.limits.weight.count,
            }
        ]

    def _dispatch(self, session: _Session, method: str, params: Mapping[str, Any], now: int) -> Any:
        if method == "ping":
            return {}
        if method == "time":
            return {"serverTime": now}
        if method == "session.subscriptions":
            return [{"subscriptionId": i} for i in session.subscriptions]
        if method == "userDataStream.subscribe.signature":
            secret = self.credentials.check_key(params.get("apiKey"))
            self.credentials.check_signature(secret, ws_payload(params), params.get("signature"))
            check_timing(params, now)
            account = str(params["apiKey"])
            if account in session.subscriptions.values():
                raise VenueError(-2035, "User Data Stream subscription already active.")
            subscription_id = next(session.ids)
            session.subscriptions[subscription_id] = account
            return {"subscriptionId": subscription_id}
        if method == "userDataStream.unsubscribe":
            wanted = params.get("subscriptionId")
            ids = list(session.subscriptions) if wanted is None else [int(wanted)]
            if wanted is not None and int(wanted) not in session.subscriptions:
                raise VenueError(-2036, "User Data Stream subscription not active.")
            for subscription_id in ids:
                session.subscriptions.pop(subscription_id, None)
            return {"_terminated": ids}
        raise VenueError(-1020, "This operation is not supported.")

    # ------------------------------------------------------------------ events
    def _terminate(self, session: _Session, subscription_id: int) -> None:
        session.subscriptions.pop(subscription_id, None)
        self._send_terminated(session, subscription_id)

    def _send_terminated(self, session: _Session, subscription_id: int) -> None:
        session.send(
            {
                "subscriptionId": subscription_id,
                "event": {"e": "eventStreamTerminated", "E": self.exchange.now_ms()},
            }
        )

    def publish(self, event: dict[str, Any]) -> None:
        """Called by the exchange for every user-data event, in engine order."""
        if self.faults.armed(FaultKind.REORDER_EVENTS) and self._held is None:
            self.faults.take(FaultKind.REORDER_EVENTS)
            self._held = event
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(REORDER_FLUSH_SECONDS, self._flush_held)
            return
        self._deliver(event)
        if self._held is not None:
            self._flush_held()

    def _flush_held(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        held, self._held = self._held, None
        if held is not None:
            self._deliver(held)

    def _deliver(self, event: dict[str, Any]) -> None:
        copies = 2 if self.faults.take(FaultKind.DUPLICATE_EVENTS) is not None else 1
        for _ in range(copies):
            for session in self.sessions:
                for subscription_id in session.subscriptions:
                    session.send({"subscriptionId": subscription_id, "event": event})
                    self.events_sent += 1
