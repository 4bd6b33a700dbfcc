"""What the venue writes to one WebSocket connection, in order, from synchronous code.

The exchange publishes from plain function calls (one engine step is atomic), which cannot await
a socket write.  So each connection has an outbox: publishing appends a frame, and one writer
task per connection sends them in the order they were appended.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

__all__ = ["Outbox", "compact"]


def compact(message: Mapping[str, Any]) -> str:
    """JSON without spaces, as Binance writes it."""
    return json.dumps(message, separators=(",", ":"))


class Outbox:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    def send(self, message: Mapping[str, Any]) -> None:
        self._queue.put_nowait(compact(message))

    def send_text(self, text: str) -> None:
        self._queue.put_nowait(text)

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop())

    async def flush(self) -> None:
        """Write everything queued so far, then stop writing."""
        self._queue.put_nowait(None)
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer

    async def stop(self) -> None:
        """Stop writing (what is still queued is dropped: the connection is going away)."""
        self._queue.put_nowait(None)
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _write_loop(self) -> None:
        while True:
            text = await self._queue.get()
            if text is None or self.ws.closed:
                return
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return
