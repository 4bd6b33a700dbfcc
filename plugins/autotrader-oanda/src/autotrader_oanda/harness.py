"""The conformance harness: the local v20 venue, a connected adapter, and the venue's control.

``harness()`` starts :class:`~autotrader_oanda.venue.VenueServer` on 127.0.0.1 (its own
thread and asyncio loop, so the suite may run under trio), registers a private oandapyV20
environment pointing at it, connects a real :class:`OandaAdapter` and yields a
:class:`HarnessSession` trading EUR_USD around 1.10000.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, TypeVar

import anyio.to_thread
from autotrader.credentials import Secret
from autotrader.model import Balance, OrderSide, OrderStatus
from autotrader.testing.harness import Fault, HarnessSession, LedgerOrder, LedgerTrade, VenueControl

from autotrader_oanda.adapter import OandaAdapter
from autotrader_oanda.config import OandaConfig
from autotrader_oanda.environments import unregister_environment
from autotrader_oanda.mapping import cancel_status, core_type, order_status
from autotrader_oanda.venue import Exchange, VenueServer
from autotrader_oanda.venue.orders import VenueOrder

T = TypeVar("T")

SYMBOL = "EUR_USD"
PRICE = Decimal("1.10000")
QUANTITY = Decimal(1000)
TICK = Decimal("0.00001")
REQUEST_TIMEOUT = 1.5
HEARTBEAT = 0.25
COMMISSION_RATE = Decimal("0.00002")


class OandaVenueControl(VenueControl):
    """The suite's handle on the local v20 venue, plus v20-specific faults."""

    supported_faults = frozenset(Fault)

    def __init__(self, server: VenueServer, *, reject_code: str = "INSUFFICIENT_MARGIN") -> None:
        self.server = server
        self.reject_code = reject_code

    async def _venue(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(self.server.call, fn, *args)

    @property
    def exchange(self) -> Exchange:
        return self.server.exchange

    # ------------------------------------------------------------------ market
    async def set_price(self, symbol: str, price: Decimal) -> None:
        await self._venue(self.exchange.set_price, symbol, price)

    async def set_liquidity(self, symbol: str, quantity: Decimal | None) -> None:
        await self._venue(self.exchange.set_liquidity, symbol, quantity)

    async def halt(self, symbol: str, halted: bool = True) -> None:
        """MARKET_HALTED: market and IOC/FOK orders are cancelled, resting orders wait."""
        await self._venue(self.exchange.halted.add if halted else self.exchange.halted.discard, symbol)

    # ------------------------------------------------------------------ faults
    async def inject(
        self,
        fault: Fault,
        *,
        count: int = 1,
        reason: str = "injected by the conformance suite",
        retry_after: float = 1.0,
    ) -> None:
        await self._venue(self._arm, fault, count, reason, retry_after)

    def _arm(self, fault: Fault, count: int, reason: str, retry_after: float) -> None:
        faults, hub = self.server.faults, self.server.hub
        assert hub is not None
        if fault is Fault.REJECT:
            self.exchange.forced_rejects.extend([(self.reject_code, reason)] * count)
        elif fault is Fault.SERVER_ERROR:
            faults.server_errors += count
        elif fault is Fault.RATE_LIMIT:
            faults.rate_limits += count
            faults.retry_after = retry_after
        elif fault is Fault.ACCEPT_THEN_TIMEOUT:
            faults.slow_orders += count
        elif fault is Fault.DROP_STREAM:
            hub.drop(self.server.stream_outage)
        elif fault is Fault.DUPLICATE_EVENTS:
            faults.duplicate_events += count
        elif fault is Fault.REORDER_EVENTS:
            faults.reorder_pairs += count
        else:  # pragma: no cover - exhaustive over Fault
            raise ValueError(f"unsupported fault {fault}")

    async def end_stream_mid_line(self) -> None:
        """Tear the current streams in the middle of a JSON line."""
        assert self.server.hub is not None
        await self._venue(self.server.hub.end_mid_line)

    async def silence_stream(self, seconds: float) -> None:
        """No heartbeats (nor events) on the open streams for ``seconds``."""
        assert self.server.hub is not None
        await self._venue(self.server.hub.silence, seconds)

    async def skip_stream_events(self, count: int = 1) -> None:
        """The next ``count`` transactions never reach the stream: a gap in the ids."""

        def arm() -> None:
            self.server.faults.skip_events += count

        await self._venue(arm)

    # ------------------------------------------------------------------ ledger
    async def orders(self) -> list[LedgerOrder]:
        return await self._venue(lambda: [self._ledger_order(o) for o in self.exchange.ledger_orders])

    def _ledger_order(self, order: VenueOrder) -> LedgerOrder:
        order_type, price, _stop = core_type(
            {"type": order.type, "price": order.price, "priceBound": order.price_bound}
        )
        if order.state == "REJECTED":
            status = OrderStatus.REJECTED
        elif order.state == "CANCELLED":
            status = cancel_status(order.cancel_reason, order.filled_units)
        else:
            status = order_status(order.state, order.filled_units, abs(order.units), None)
        return LedgerOrder(
            client_order_id=order.client_id or "",
            symbol=order.instrument,
            side=OrderSide.BUY if order.units >= 0 else OrderSide.SELL,
            order_type=order_type,
            quantity=abs(order.units),
            price=price,
            status=status,
            filled_quantity=order.filled_units,
            venue_order_id=order.id,
        )

    async def trades(self) -> list[LedgerTrade]:
        def read() -> list[LedgerTrade]:
            currency = self.exchange.account.currency
            return [
                LedgerTrade(
                    trade_id=f.trade_id,
                    client_order_id=f.client_order_id,
                    symbol=f.instrument,
                    side=OrderSide.BUY if f.is_buy else OrderSide.SELL,
                    quantity=f.units,
                    price=f.price,
                    commission=f.commission,
                    commission_asset=currency,
                )
                for f in self.exchange.ledger_fills
            ]

        return await self._venue(read)

    async def balances(self) -> list[Balance]:
        def read() -> list[Balance]:
            summary = self.exchange.summary()
            return [
                Balance(
                    summary["currency"], Decimal(summary["marginAvailable"]), Decimal(summary["marginUsed"])
                )
            ]

        return await self._venue(read)


def connection_settings(
    server: VenueServer, environment: str, *, request_timeout: float, heartbeat: float
) -> dict[str, Any]:
    """The :class:`OandaConfig` settings (all but the token) that reach ``server`` quickly."""
    return {
        "account_id": server.exchange.account_id,
        "environment": environment,
        "api_url": server.url,
        "stream_url": server.url,
        "request_timeout": request_timeout,
        "connect_timeout": 1.0,
        "stream_timeout": max(heartbeat * 6, 1.0),
        "reconnect_initial": 0.05,
        "reconnect_max": 0.5,
    }


@asynccontextmanager
async def harness(
    *, request_timeout: float = REQUEST_TIMEOUT, heartbeat: float = HEARTBEAT
) -> AsyncIterator[HarnessSession]:
    """Start the venue, connect an adapter to it, yield the session, tear both down."""
    token = secrets.token_urlsafe(24)
    server = VenueServer(
        Exchange(commission_rate=COMMISSION_RATE),
        token=token,
        heartbeat_interval=heartbeat,
        slow_response=request_timeout * 3,
        stream_outage=0.5,
    )
    await anyio.to_thread.run_sync(server.start)
    environment = f"autotrader-local-{server.port}"
    settings = connection_settings(server, environment, request_timeout=request_timeout, heartbeat=heartbeat)
    config = OandaConfig(access_token=Secret(token), **settings)
    adapter = OandaAdapter(config)
    try:
        await adapter.connect()
        yield HarnessSession(
            adapter=adapter,
            control=OandaVenueControl(server),
            symbol=SYMBOL,
            price=PRICE,
            quantity=QUANTITY,
            tick=TICK,
            request_timeout=request_timeout,
        )
    finally:
        with anyio.CancelScope(shield=True):
            await adapter.disconnect()
            await anyio.to_thread.run_sync(server.stop)
            unregister_environment(environment)
