"""The pricing stream (``GET /v3/accounts/{id}/pricing/stream?instruments=...``), as v20 serves it.

Newline-delimited JSON on a chunked response: first one ``PRICE`` per requested instrument (the
current book), then a ``PRICE`` whenever an instrument's bid or ask moves, and a ``HEARTBEAT``
(``{"type": "HEARTBEAT", "time": ...}``, no transaction id: prices are not transactions) when
the stream has been idle for the heartbeat interval.  An unknown or missing ``instruments``
parameter is a 400 with v20's error body, before the stream starts.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import attrs
from aiohttp import web

from autotrader_oanda.venue.exchange import Exchange
from autotrader_oanda.venue.wire import error_body, timestamp

_DROP = b""


@attrs.define(eq=False)
class PriceSubscriber:
    instruments: frozenset[str]
    queue: asyncio.Queue[bytes] = attrs.field(factory=asyncio.Queue)


class PricingHub:
    """Fans price moves out to the pricing streams that asked for the instrument."""

    def __init__(self, exchange: Exchange, heartbeat_interval: float) -> None:
        self.exchange = exchange
        self.heartbeat_interval = heartbeat_interval
        self.subscribers: set[PriceSubscriber] = set()
        exchange.on_price(self._on_price)

    def _on_price(self, instrument: str) -> None:
        interested = [s for s in self.subscribers if instrument in s.instruments]
        if not interested:
            return
        line = _line(self.exchange.pricing([instrument])[0])
        for subscriber in interested:
            subscriber.queue.put_nowait(line)

    def drop(self) -> None:
        """Cut every pricing stream (a client must reconnect and gets a fresh snapshot)."""
        for subscriber in self.subscribers:
            subscriber.queue.put_nowait(_DROP)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        wanted = [name for name in request.query.get("instruments", "").split(",") if name]
        unknown = [name for name in wanted if name not in self.exchange.instruments]
        if not wanted or unknown:
            shown = ",".join(unknown) or "(none)"
            return web.json_response(
                error_body(f"Invalid value specified for 'instruments': {shown}"), status=400
            )
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/octet-stream"})
        response.enable_chunked_encoding()
        subscriber = PriceSubscriber(frozenset(wanted))
        self.subscribers.add(subscriber)
        try:
            await response.prepare(request)
            for price in self.exchange.pricing(wanted):
                await response.write(_line(price))
            await self._pump(request, response, subscriber)
        except (ConnectionResetError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.subscribers.discard(subscriber)
        return response

    async def _pump(self, request: web.Request, response: web.StreamResponse, sub: PriceSubscriber) -> None:
        while True:
            try:
                line = await asyncio.wait_for(sub.queue.get(), self.heartbeat_interval)
            except TimeoutError:
                line = _line({"type": "HEARTBEAT", "time": timestamp()})
            if line == _DROP:
                if request.transport is not None:
                    request.transport.abort()
                return
            await response.write(line)


def _line(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"
