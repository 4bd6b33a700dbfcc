"""``PaperTradingAdapter``: the seed API's paper broker over a :class:`PaperVenue`.

It behaves like a remote broker so that everything above it is exercised as in live trading:
optional latency, local validation before the "wire", events delivered through a "stream" that
fault injection can cut, duplicate or reorder, and reconciliation after the stream comes back.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import anyio
import attrs

from autotrader.adapter import BrokerAdapter, ExecutionEvent, check_backend
from autotrader.errors import (
    AmbiguousOutcome,
    InvalidOrder,
    NotConnected,
    OrderRejected,
    RateLimited,
    TransientError,
    UnsupportedOrder,
)
from autotrader.model import (
    Balance,
    Fill,
    Instrument,
    ModifyRequest,
    Order,
    OrderRequest,
    OrderUpdate,
    Position,
    decimal_from_user,
)
from autotrader.testing.harness import Fault
from autotrader_paper.capabilities import CAPABILITIES
from autotrader_paper.instruments import DEFAULT_INSTRUMENTS
from autotrader_paper.venue import VENUE, PaperVenue

__all__ = ["PaperTradingAdapter"]


class _Faults:
    """Armed faults, consumed by the calls and events they hit."""

    def __init__(self) -> None:
        self.counts: dict[Fault, int] = dict.fromkeys(Fault, 0)
        self.armed = False
        """Whether any count was ever armed: spares the order path ten lookups when none was."""
        self.reason = "injected fault"
        self.retry_after = 1.0

    def arm(self, fault: Fault, count: int) -> None:
        self.counts[fault] += count
        self.armed = True

    def take(self, fault: Fault) -> bool:
        if not self.armed:
            return False
        if self.counts[fault] > 0:
            self.counts[fault] -= 1
            return True
        return False


class PaperTradingAdapter(BrokerAdapter):
    """Simulated broker.  Parameters and defaults are the seed API's; numbers may be floats."""

    name: ClassVar[str] = VENUE
    capabilities = CAPABILITIES

    def __init__(
        self,
        initial_balance: Any = 100000,
        latency_ms: tuple[float, float] = (10, 50),
        slippage_bps: Any = 5.0,
        commission_bps: Any = 10.0,
        fill_probability: float = 0.95,
        seed: int | None = None,
        instruments: Mapping[str, Instrument] | None = None,
        *,
        currency: str = "USD",
        reconnect_delay: float = 0.2,
    ) -> None:
        super().__init__()
        low, high = (float(x) for x in latency_ms)
        if low < 0 or high < low:
            raise InvalidOrder(
                "latency_ms", f"expected (low, high) with 0 <= low <= high, got {latency_ms!r}"
            )
        if not 0.0 <= fill_probability <= 1.0:
            raise InvalidOrder("fill_probability", f"must be within [0, 1], got {fill_probability!r}")
        self.latency_ms = (low, high)
        self.initial_balance = decimal_from_user(initial_balance, "initial_balance")
        self._rng = random.Random(seed)
        self.venue = PaperVenue(
            {**DEFAULT_INSTRUMENTS, **(instruments or {})},
            initial_balance=self.initial_balance,
            currency=currency,
            slippage_bps=decimal_from_user(slippage_bps, "slippage_bps"),
            commission_bps=decimal_from_user(commission_bps, "commission_bps"),
            fill_probability=fill_probability,
            rng=self._rng,
            on_event=self._from_venue,
        )
        self.faults = _Faults()
        self.reconnect_delay = reconnect_delay
        self._connected = False
        self._stream_down_since: float | None = None
        self._muted: set[str] = set()
        self._held: deque[ExecutionEvent] = deque()
        self._tracked: set[str] = set()

    # ------------------------------------------------------------------ lifecycle
    @property
    def is_connected(self) -> bool:
        return self._connected

    async def connect(self) -> bool:
        check_backend(self)
        self._connected = True
        return True

    async def disconnect(self) -> None:
        self._connected = False

    async def health_check(self) -> bool:
        await self._reconnect_if_due()
        return self._connected

    async def instruments(self) -> Mapping[str, Instrument]:
        return dict(self.venue.instruments)

    # ------------------------------------------------------------------ market data (seed API)
    def update_price(self, symbol: str, price: Any) -> None:
        """Move the simulated market; resting orders that the price crosses fill."""
        self.venue.set_price(symbol, decimal_from_user(price, "price"))

    def last_price(self, symbol: str) -> Decimal | None:
        return self.venue.last_price(symbol)

    # ------------------------------------------------------------------ orders
    async def submit_order(self, request: OrderRequest) -> OrderUpdate:
        self._validate(request)
        await self._wire()
        if self.faults.take(Fault.SERVER_ERROR):
            raise TransientError("paper: 503 Service Unavailable (injected, order not processed)", code=503)
        if self.faults.take(Fault.REJECT):
            raise _reject(self.faults.reason)
        ambiguous = self.faults.take(Fault.ACCEPT_THEN_TIMEOUT)
        if ambiguous:
            self._muted.add(request.client_order_id)
        try:
            order = self.venue.submit(request)
        finally:
            self._muted.discard(request.client_order_id)
        self._tracked.add(request.client_order_id)
        if ambiguous:
            raise AmbiguousOutcome("paper: the order was sent but its response timed out (injected)")
        return _update(order)

    async def cancel_order(self, client_order_id: str) -> OrderUpdate:
        await self._wire()
        return _update(self.venue.cancel(client_order_id))

    async def cancel_all_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        await self._wire()
        return [_update(o) for o in self.venue.cancel_all(symbol)]

    async def modify_order(self, request: ModifyRequest) -> OrderUpdate:
        current = self.venue.order(request.client_order_id)
        if current is not None:
            instrument = self.venue.instruments[current.symbol]
            changed = OrderRequest(
                client_order_id=current.client_order_id,
                symbol=current.symbol,
                side=current.side,
                order_type=current.order_type,
                quantity=request.quantity or current.quantity,
                price=request.price or current.price,
                stop_price=request.stop_price or current.stop_price,
                time_in_force=current.time_in_force,
            )
            instrument.validate(changed)
        await self._wire()
        return _modified(self.venue.modify(request))

    async def get_order(self, client_order_id: str) -> Order | None:
        await self._wire()
        return self.venue.order(client_order_id)

    async def get_open_orders(self, symbol: str | None = None) -> list[Order]:
        await self._wire()
        return self.venue.open_orders(symbol)

    async def get_order_fills(self, client_order_id: str) -> list[Fill]:
        await self._wire()
        return self.venue.fills_of(client_order_id)

    async def get_positions(self) -> list[Position]:
        await self._wire()
        return self.venue.positions()

    async def get_balances(self) -> list[Balance]:
        await self._wire()
        return self.venue.balances()

    # ------------------------------------------------------------------ the "wire"
    def _validate(self, request: OrderRequest) -> None:
        instrument = self.venue.instruments.get(request.symbol)
        if instrument is None:
            raise InvalidOrder("symbol", f"{request.symbol!r} is not traded on the paper venue")
        if request.order_type not in self.capabilities.order_types:
            raise UnsupportedOrder("order_type", f"{request.order_type.value} is not supported")
        if request.time_in_force not in self.capabilities.time_in_force:
            raise UnsupportedOrder("time_in_force", f"{request.time_in_force.value} is not supported")
        instrument.validate(request, reference_price=self.venue.last_price(request.symbol))

    async def _wire(self) -> None:
        """What every request goes through: connection, rate limit, latency, stream recovery."""
        if not self._connected:
            raise NotConnected("paper: not connected")
        if self.faults.take(Fault.RATE_LIMIT):
            retry_after = self.faults.retry_after
            raise RateLimited(
                f"paper: 429 Too Many Requests, retry after {retry_after}s", retry_after=retry_after, code=429
            )
        low, high = self.latency_ms
        if high > 0:
            await anyio.sleep(self._rng.uniform(low, high) / 1000)
        await self._reconnect_if_due()

    # ------------------------------------------------------------------ the "stream"
    def drop_stream(self) -> None:
        self._stream_down_since = time.monotonic()

    async def _reconnect_if_due(self) -> None:
        """After a drop, re-subscribe and replay what the venue did meanwhile (the OMS dedupes)."""
        if (
            self._stream_down_since is None
            or time.monotonic() - self._stream_down_since < self.reconnect_delay
        ):
            return
        self._stream_down_since = None
        for coid in sorted(self._tracked):
            order = self.venue.order(coid)
            if order is None:
                continue
            for fill in self.venue.fills_of(coid):
                self._emit(fill)
            self._emit(_update(order))
            if not order.status.is_open:
                self._tracked.discard(coid)

    def _from_venue(self, event: ExecutionEvent) -> None:
        if event.client_order_id in self._muted or self._stream_down_since is not None:
            return  # lost on the wire; reconciliation recovers it
        if isinstance(event, OrderUpdate) and not event.status.is_open:
            self._tracked.discard(event.client_order_id)
        if self.faults.take(Fault.REORDER_EVENTS):
            self._held.append(event)
            return
        self._emit(event)
        while self._held:
            self._emit(self._held.popleft())
        if self.faults.take(Fault.DUPLICATE_EVENTS):
            self._emit(event)


def _update(order: Order) -> OrderUpdate:
    return OrderUpdate(
        client_order_id=order.client_order_id,
        status=order.status,
        venue=VENUE,
        venue_order_id=order.venue_order_id,
        filled_quantity=order.filled_quantity,
        average_price=order.average_fill_price,
        reason=order.reason,
    )


def _modified(order: Order) -> OrderUpdate:
    """The ack of a modify carries the order's new terms."""
    return attrs.evolve(
        _update(order), quantity=order.quantity, price=order.price, stop_price=order.stop_price
    )


def _reject(reason: str) -> OrderRejected:
    return OrderRejected(f"paper: {reason}", code="INJECTED")
