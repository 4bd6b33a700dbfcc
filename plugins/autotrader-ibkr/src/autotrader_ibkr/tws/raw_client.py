"""A hand-framed TWS API client: the handshake and raw messages, with no client library.

For what the library cannot be made to do: send a malformed request (the decode guard's tests)
and measure the bare socket round trip that the adapter's overhead is compared with
(``benchmarks/bench_wire_ibkr.py``).  It speaks the same framing as the local TWS
(:mod:`autotrader_ibkr.tws.wire`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.abc

from autotrader_ibkr.tws.wire import (
    API_SIGN,
    SERVER_VERSION,
    Field,
    FrameBuffer,
    In,
    Out,
    decode_payload,
    encode_message,
    frame,
)

__all__ = ["RawTwsClient", "raw_tws_client"]


class RawTwsClient:
    """One API connection: write field lists, read decoded messages."""

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self.stream = stream
        self._buffer = FrameBuffer()
        self._ready: list[list[str]] = []
        self.next_order_id = 0

    async def send(self, fields: list[Field]) -> None:
        await self.stream.send(encode_message(fields))

    async def receive(self) -> list[str]:
        """The next whole message's fields."""
        while not self._ready:
            payloads = self._buffer.feed(await self.stream.receive())
            self._ready.extend(decode_payload(p) for p in payloads)
        return self._ready.pop(0)

    async def until(self, accept: Callable[[list[str]], bool]) -> list[str]:
        """Read messages until one is accepted; return it (the others are dropped)."""
        while True:
            fields = await self.receive()
            if accept(fields):
                return fields

    async def handshake(self, client_id: int) -> int:
        """``API\\0``, version range, START_API; returns the server version once NEXT_VALID_ID is in."""
        version_range = f"v{SERVER_VERSION}..{SERVER_VERSION}".encode()
        await self.stream.send(API_SIGN + frame(version_range))
        version, _time = await self.receive()
        await self.send([In.START_API, 2, client_id, ""])
        valid_id = await self.until(lambda f: f[0] == str(int(Out.NEXT_VALID_ID)))
        self.next_order_id = int(valid_id[2])
        return int(version)


@asynccontextmanager
async def raw_tws_client(port: int, *, client_id: int) -> AsyncIterator[RawTwsClient]:
    """A connected, handshaken raw client to the TWS on 127.0.0.1:``port``."""
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        client = RawTwsClient(stream)
        await client.handshake(client_id)
        yield client
