"""The conformance harness: the local Binance venue, a connected adapter, and the venue's controls.

``harness()`` starts :class:`~autotrader_binance.venue.BinanceVenue` on 127.0.0.1 (a free port),
connects a real :class:`~autotrader_binance.adapter.BinanceAdapter` (the unmodified python-binance
client) to it and yields a :class:`HarnessSession`.  :class:`BinanceVenueControl` reads the venue's
own books, never the adapter's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, Final

from autotrader.adapter import check_backend
from autotrader.model import Balance, OrderSide, OrderStatus
from autotrader.testing.harness import Fault, HarnessSession, LedgerOrder, LedgerTrade, VenueControl

from autotrader_binance.adapter import BinanceAdapter
from autotrader_binance.config import BinanceConfig
from autotrader_binance.mapping import core_order_type, trade_key
from autotrader_binance.venue import DEFAULT_API_KEY, DEFAULT_API_SECRET, BinanceVenue, FaultKind, RateLimits
from autotrader_binance.venue.exchange import VenueOrder

__all__ = ["HARNESS_REQUEST_TIMEOUT", "BinanceVenueControl", "harness", "local_config"]

HARNESS_REQUEST_TIMEOUT: Final = 1.5

_LEDGER_STATUS: Final = {
    "NEW": OrderStatus.ACCEPTED,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELLED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
}
_FAULT_KINDS: Final = {
    Fault.REJECT: FaultKind.REJECT,
    Fault.SERVER_ERROR: FaultKind.SERVER_ERROR,
    Fault.RATE_LIMIT: FaultKind.RATE_LIMIT,
    Fault.ACCEPT_THEN_TIMEOUT: FaultKind.ACCEPT_THEN_TIMEOUT,
    Fault.DUPLICATE_EVENTS: FaultKind.DUPLICATE_EVENTS,
    Fault.REORDER_EVENTS: FaultKind.REORDER_EVENTS,
}


def _ledger_order(order: VenueOrder) -> LedgerOrder:
    return LedgerOrder(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=OrderSide(order.side),
        order_type=core_order_type(order.type),
        quantity=order.orig_qty,
        price=order.price or None,
        status=_LEDGER_STATUS[order.status],
        filled_quantity=order.executed_qty,
        venue_order_id=str(order.order_id),
    )


class BinanceVenueControl(VenueControl):
    """The suite's handle on a :class:`BinanceVenue` (plus Binance-specific extras)."""

    supported_faults = frozenset(Fault)

    def __init__(self, venue: BinanceVenue) -> None:
        self.venue = venue

    async def set_price(self, symbol: str, price: Decimal) -> None:
        self.venue.exchange.set_price(symbol, price)

    async def set_liquidity(self, symbol: str, quantity: Decimal | None) -> None:
        self.venue.exchange.set_liquidity(symbol, quantity)

    async def inject(
        self,
        fault: Fault,
        *,
        count: int = 1,
        reason: str = "injected by the conformance suite",
        retry_after: float = 1.0,
    ) -> None:
        if fault is Fault.DROP_STREAM:
            self.venue.ws.drop()
            return
        if fault is Fault.REORDER_EVENTS:
            count = 1  # "the next pair"
        self.venue.faults.arm(_FAULT_KINDS[fault], count=count, reason=reason, retry_after=retry_after)

    async def orders(self) -> list[LedgerOrder]:
        return [_ledger_order(o) for o in self.venue.exchange.orders]

    async def trades(self) -> list[LedgerTrade]:
        return [
            LedgerTrade(
                trade_id=trade_key(t.symbol, t.trade_id),
                client_order_id=t.client_order_id,
                symbol=t.symbol,
                side=OrderSide(t.side),
                quantity=t.qty,
                price=t.price,
                commission=t.commission,
                commission_asset=t.commission_asset,
            )
            for t in self.venue.exchange.trades
        ]

    async def balances(self) -> list[Balance]:
        return [Balance(asset=a, free=f, locked=lk) for a, f, lk in self.venue.exchange.balance_rows()]

    # ------------------------------------------------------------------ Binance extras
    async def terminate_stream(self) -> None:
        """Send ``eventStreamTerminated`` and end every user-data subscription."""
        self.venue.ws.terminate_streams()

    async def skew_clock(self, milliseconds: int) -> None:
        """Move the venue's clock (a client then gets -1021 until it resynchronises)."""
        self.venue.exchange.skew_ms = milliseconds

    async def drop_market_streams(self) -> int:
        """Cut every market data stream connection (the adapter must reconnect and re-read the book)."""
        return self.venue.market.drop()

    async def refuse_market_streams(self, status: int | None, *, retry_after: int | None = None) -> None:
        """Answer new market stream handshakes with HTTP ``status`` (451: a restricted location;
        None: accept again)."""
        self.venue.market.refuse(status, retry_after=retry_after)

    async def ban(self, seconds: int) -> None:
        """Ban the IP now (418 with Retry-After on every request until it ends)."""
        self.venue.limits.ban(self.venue.exchange.now_ms(), seconds)


def local_config(venue: BinanceVenue, **settings: Any) -> BinanceConfig:
    """A configuration for the venue's well-known test account (its port is known once it listens)."""
    return BinanceConfig(
        api_key=DEFAULT_API_KEY,
        api_secret=DEFAULT_API_SECRET,
        api_url=venue.rest_url,
        ws_api_url=venue.ws_api_url,
        stream_url=venue.stream_url,
        **settings,
    )


@asynccontextmanager
async def harness(
    *, request_timeout: float = HARNESS_REQUEST_TIMEOUT, orders_per_10s: int = 1000
) -> AsyncIterator[HarnessSession]:
    """Start the venue on 127.0.0.1, connect the adapter to it, yield the session, tear down."""
    venue = BinanceVenue(
        limits=RateLimits(orders_per_10s=orders_per_10s),
        hold_seconds=max(5.0, request_timeout * 4),
    )
    check_backend(BinanceAdapter(local_config(venue)))  # under trio: "asyncio-only", before any asyncio call
    await venue.start()
    try:
        adapter = BinanceAdapter(local_config(venue, request_timeout=request_timeout))
        await adapter.connect()
        try:
            yield HarnessSession(
                adapter=adapter,
                control=BinanceVenueControl(venue),
                symbol="BTCUSDT",
                price=Decimal("50000.00"),
                quantity=Decimal("0.01"),
                tick=Decimal("0.01"),
                request_timeout=request_timeout,
            )
        finally:
            await adapter.disconnect()
    finally:
        await venue.stop()
