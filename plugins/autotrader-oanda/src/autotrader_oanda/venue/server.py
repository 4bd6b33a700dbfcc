"""Running the venue: an aiohttp site on 127.0.0.1, in its own thread and asyncio loop.

aiohttp needs asyncio, while the adapter under test may run under trio; a private loop in a
thread serves both.  :meth:`VenueServer.call` runs a function inside that loop (every exchange
mutation happens there, so the exchange needs no locks).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from aiohttp import web

from autotrader_oanda.venue.exchange import Exchange
from autotrader_oanda.venue.faults import FaultPlan
from autotrader_oanda.venue.pricing import PricingHub
from autotrader_oanda.venue.rest import RestApi
from autotrader_oanda.venue.stream import StreamHub

T = TypeVar("T")
LOOPBACK = "127.0.0.1"


class VenueServer:
    """The local v20 venue: ``start()``, use ``url``, ``stop()``."""

    def __init__(
        self,
        exchange: Exchange | None = None,
        *,
        token: str,
        port: int = 0,
        heartbeat_interval: float = 5.0,
        slow_response: float = 30.0,
        stream_outage: float = 1.0,
    ) -> None:
        self.exchange = exchange or Exchange()
        self.faults = FaultPlan()
        self._token = token
        self._requested_port = port
        self.heartbeat_interval = heartbeat_interval
        self.slow_response = slow_response
        self.stream_outage = stream_outage
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self.hub: StreamHub | None = None
        self.pricing: PricingHub | None = None
        self.api: RestApi | None = None

    def __repr__(self) -> str:  # never shows the token
        return f"VenueServer(url={self.url!r})"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    # ------------------------------------------------------------------ lifecycle
    async def serve_here(self) -> None:
        """Bind and serve in the current asyncio loop (what the background thread runs)."""
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self.hub = StreamHub(self.exchange, self.faults, self.heartbeat_interval)
        self.pricing = PricingHub(self.exchange, self.heartbeat_interval)
        self.api = RestApi(
            self.exchange,
            self.faults,
            self.hub,
            self.pricing,
            token=self._token,
            slow_response=self.slow_response,
            shutdown=self._stopping,
        )
        self._runner = web.AppRunner(self.api.app(), shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, self._requested_port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        self.port = server.sockets[0].getsockname()[1]

    async def _run(self, ready: concurrent.futures.Future[None]) -> None:
        try:
            await self.serve_here()
        except BaseException as exc:
            ready.set_exception(exc)
            raise
        ready.set_result(None)
        assert self._stopping is not None
        await self._stopping.wait()
        if self.hub is not None:
            self.hub.close_all()
        if self.pricing is not None:
            self.pricing.drop()
        await asyncio.sleep(0)
        assert self._runner is not None
        await self._runner.cleanup()

    def start(self) -> VenueServer:
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._run(ready)), name="oanda-venue", daemon=True
        )
        self._thread.start()
        ready.result(timeout=10)
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None or self._stopping is None:
            return
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=10)
        self._thread = None

    # ------------------------------------------------------------------ control, from any thread
    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in the venue's loop and return its result."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the venue is not running")
        if threading.current_thread() is self._thread:
            return fn(*args)
        result: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                result.set_result(fn(*args))
            except BaseException as exc:
                result.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return result.result(timeout=30)

    def set_price(self, instrument: str, mid: Decimal) -> None:
        self.call(self.exchange.set_price, instrument, mid)

    def drop_streams(self) -> None:
        assert self.hub is not None
        self.call(self.hub.drop, self.stream_outage)

    def revoke_token(self, replacement: str) -> None:
        """The account's token is revoked (a new one issued): requests with the old one get 401."""
        assert self.api is not None
        self.call(self.api.set_token, replacement)

    def drop_pricing_streams(self) -> None:
        """Cut the pricing streams (the adapter reconnects and gets a fresh snapshot)."""
        assert self.pricing is not None
        self.call(self.pricing.drop)
