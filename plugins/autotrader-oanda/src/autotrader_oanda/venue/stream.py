"""The chunked transaction stream: newline-delimited JSON with HEARTBEATs.

Every open stream gets every transaction the exchange records, in id order, and a HEARTBEAT
(carrying ``lastTransactionID``, as v20's does) whenever it has been idle for the heartbeat
interval.  Stream faults are applied once, at the hub, so all connections see the same damage.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any, Final

import attrs
from aiohttp import web

from autotrader_oanda.venue.exchange import Exchange
from autotrader_oanda.venue.faults import FaultPlan
from autotrader_oanda.venue.wire import error_body, timestamp

DROP: Final = "drop"
MID_LINE: Final = "mid-line"


@attrs.define(eq=False)
class Connection:
    queue: asyncio.Queue[bytes | str] = attrs.field(factory=asyncio.Queue)
    silent_until: float = 0.0


class StreamHub:
    """Fans the exchange's transactions out to the open streams, with the injected faults."""

    def __init__(self, exchange: Exchange, faults: FaultPlan, heartbeat_interval: float) -> None:
        self.exchange = exchange
        self.faults = faults
        self.heartbeat_interval = heartbeat_interval
        self.connections: set[Connection] = set()
        self._held: dict[str, Any] | None = None
        self._held_flush: asyncio.TimerHandle | None = None
        self.sent_events = 0
        exchange.subscribe(self._on_transaction)

    # ------------------------------------------------------------------ fan-out with faults
    def _on_transaction(self, txn: dict[str, Any]) -> None:
        if self.faults.take("skip_events"):
            return
        if self._held is not None:
            held, self._held = self._held, None
            self._cancel_flush()
            self._broadcast(txn)
            self._broadcast(held)
            return
        if self.faults.take("reorder_pairs"):
            self._held = txn
            self._held_flush = asyncio.get_running_loop().call_later(
                max(self.heartbeat_interval, 0.2), self._flush_held
            )
            return
        self._broadcast(txn)
        if self.faults.take("duplicate_events"):
            self._broadcast(txn)

    def _flush_held(self) -> None:
        self._held_flush = None
        if self._held is not None:
            held, self._held = self._held, None
            self._broadcast(held)

    def _cancel_flush(self) -> None:
        if self._held_flush is not None:
            self._held_flush.cancel()
            self._held_flush = None

    def _broadcast(self, txn: dict[str, Any]) -> None:
        self.sent_events += 1
        if not self.connections:  # nobody streams: encoding the line would be wasted work
            return
        line = json.dumps(txn, separators=(",", ":")).encode()
        for connection in self.connections:
            connection.queue.put_nowait(line)

    def heartbeat(self) -> bytes:
        beat = {"type": "HEARTBEAT", "lastTransactionID": str(self.exchange.last_id), "time": timestamp()}
        return json.dumps(beat, separators=(",", ":")).encode()

    # ------------------------------------------------------------------ control
    def drop(self, outage: float) -> None:
        """Cut every stream now and refuse new ones for ``outage`` seconds."""
        self.faults.stream_down_until = time.monotonic() + outage
        for connection in self.connections:
            connection.queue.put_nowait(DROP)

    def close_all(self) -> None:
        """Close every open stream (the venue is shutting down)."""
        for connection in self.connections:
            connection.queue.put_nowait(DROP)

    def end_mid_line(self) -> None:
        """Send half of a line, then close: the client's line reader gets a torn record."""
        for connection in self.connections:
            connection.queue.put_nowait(MID_LINE)

    def silence(self, seconds: float) -> None:
        """No heartbeats (and no events) on the open streams for ``seconds``."""
        until = time.monotonic() + seconds
        for connection in self.connections:
            connection.silent_until = until

    # ------------------------------------------------------------------ the handler
    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.faults.stream_down():
            return web.json_response(error_body("Service unavailable"), status=503)
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/octet-stream"})
        response.enable_chunked_encoding()
        connection = Connection()
        self.connections.add(connection)
        try:
            await response.prepare(request)
            await self._pump(request, response, connection)
        except (ConnectionResetError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.connections.discard(connection)
        return response

    async def _pump(self, request: web.Request, response: web.StreamResponse, connection: Connection) -> None:
        """Write what is queued as one chunk (lines made together go together), beat when idle."""
        await response.write(self.heartbeat() + b"\n")
        held: list[bytes] = []  # lines queued while the stream is silenced
        while True:
            out: list[bytes] = []
            for item in await _take(connection.queue, self.heartbeat_interval):
                if isinstance(item, str):  # DROP or MID_LINE, after what came before it
                    if out:
                        await response.write(b"".join(out))
                    if item == MID_LINE:
                        await response.write(self.heartbeat()[:17])
                    _abort(request)
                    return
                if time.monotonic() < connection.silent_until:
                    if item:
                        held.append(item)
                    continue
                out.extend(line + b"\n" for line in held)
                held.clear()
                out.append((item or self.heartbeat()) + b"\n")
            if out:
                await response.write(b"".join(out))


async def _take(queue: asyncio.Queue[bytes | str], idle: float) -> list[bytes | str]:
    """Everything queued, waiting up to ``idle`` seconds for the first item (``[b""]``: none came)."""
    if queue.empty():
        try:
            async with asyncio.timeout(idle):
                items = [await queue.get()]
        except TimeoutError:
            return [b""]
    else:
        items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        with contextlib.suppress(Exception):
            transport.abort()
