"""The local Binance venue: one aiohttp server with the REST API, the WebSocket API and the market
data streams.

``BinanceVenue`` owns the exchange (orders, trades, balances), the credentials it accepts, its
rate limits and the faults the harness arms.  It listens on 127.0.0.1 only; port 0 picks a
free port, read back from :attr:`BinanceVenue.port`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from aiohttp import web
from aiohttp.log import access_logger

from autotrader_binance.venue.auth import Credentials
from autotrader_binance.venue.exchange import Exchange, SymbolSpec
from autotrader_binance.venue.faults import FaultPlan
from autotrader_binance.venue.limits import RateLimits
from autotrader_binance.venue.rest import RestApi
from autotrader_binance.venue.streams import MarketStreams
from autotrader_binance.venue.wsapi import WsApi

__all__ = ["DEFAULT_API_KEY", "DEFAULT_API_SECRET", "BinanceVenue", "default_symbols"]

HOST = "127.0.0.1"
DEFAULT_API_KEY = "local-venue-api-key"
DEFAULT_API_SECRET = "local-venue-api-secret"


def default_symbols() -> list[SymbolSpec]:
    return [
        SymbolSpec(
            "BTCUSDT",
            "BTC",
            "USDT",
            price=Decimal("50000.00"),
            tick=Decimal("0.01"),
            step=Decimal("0.00001"),
            min_qty=Decimal("0.00001"),
            max_qty=Decimal("9000"),
            min_notional=Decimal("5"),
            book_qty=Decimal("2.5"),
        ),
        SymbolSpec(
            "ETHUSDT",
            "ETH",
            "USDT",
            price=Decimal("3000.00"),
            tick=Decimal("0.01"),
            step=Decimal("0.0001"),
            min_qty=Decimal("0.0001"),
            max_qty=Decimal("9000"),
            min_notional=Decimal("5"),
            book_qty=Decimal("40"),
        ),
        SymbolSpec(
            "ETHBTC",
            "ETH",
            "BTC",
            price=Decimal("0.06000"),
            tick=Decimal("0.00001"),
            step=Decimal("0.0001"),
            min_qty=Decimal("0.0001"),
            max_qty=Decimal("100000"),
            min_price=Decimal("0.00001"),
            min_notional=Decimal("0.0001"),
            legacy_min_notional=True,
            book_qty=Decimal("25"),
        ),
    ]


def default_balances() -> dict[str, Decimal]:
    return {"BTC": Decimal("10"), "ETH": Decimal("100"), "USDT": Decimal("1000000"), "BNB": Decimal("0")}


class BinanceVenue:
    """Start with ``await venue.start()`` (or ``async with``); stop with ``await venue.stop()``."""

    def __init__(
        self,
        *,
        symbols: Iterable[SymbolSpec] | None = None,
        balances: Mapping[str, Decimal] | None = None,
        api_keys: Mapping[str, str] | None = None,
        limits: RateLimits | None = None,
        port: int = 0,
        hold_seconds: float = 30.0,
        access_log: bool = False,
    ) -> None:
        self.exchange = Exchange(
            symbols if symbols is not None else default_symbols(),
            dict(balances if balances is not None else default_balances()),
        )
        self.credentials = Credentials(api_keys or {DEFAULT_API_KEY: DEFAULT_API_SECRET})
        self.limits = limits or RateLimits()
        self.faults = FaultPlan()
        self._closing = asyncio.Event()
        self.rest = RestApi(
            self.exchange,
            self.credentials,
            self.limits,
            self.faults,
            self._closing,
            hold_seconds=hold_seconds,
        )
        self.ws = WsApi(self.exchange, self.credentials, self.limits, self.faults)
        self.market = MarketStreams(self.exchange)
        self._requested_port = port
        self._access_log = access_log
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def rest_url(self) -> str:
        """What python-binance calls ``API_URL`` (it appends ``/v3/<path>``)."""
        return f"http://{HOST}:{self.port}/api"

    @property
    def ws_api_url(self) -> str:
        return f"ws://{HOST}:{self.port}/ws-api/v3"

    @property
    def stream_url(self) -> str:
        """What python-binance's ``BinanceSocketManager`` calls ``STREAM_URL`` (it appends
        ``ws/<stream>`` or ``stream?streams=...``)."""
        return f"ws://{HOST}:{self.port}/"

    def app(self) -> web.Application:
        app = web.Application()
        self.rest.add_routes(app)
        self.ws.add_routes(app)
        self.market.add_routes(app)
        return app

    async def start(self) -> BinanceVenue:
        self._runner = web.AppRunner(
            self.app(), access_log=access_logger if self._access_log else None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self._requested_port)
        await site.start()
        server = site._server  # aiohttp exposes the bound port only through the server's sockets
        sockets = getattr(server, "sockets", None)
        assert sockets, "the venue did not bind"
        self.port = int(sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        self._closing.set()
        await self.ws.close()
        await self.market.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BinanceVenue:
        return await self.start()

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.stop()
