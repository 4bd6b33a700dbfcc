"""``PaperTradingAdapter``: the seed API's paper broker, in front of a :class:`PaperVenue`.

It behaves like a remote broker so that everything above it runs as in live trading: local
validation before the "wire", optional latency, request faults (5xx, 429, lost responses),
events through a :class:`PaperStream` that can drop, duplicate and reorder, and reconciliation
after the stream comes back.  With ``latency_ms=(0, 0)`` a request never sleeps, which keeps
the engine's order path benchmark about the engine, not the simulator.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import anyio

from autotrader.adapter import BrokerAdapter, QuoteStream, check_backend
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
    Quote,
    decimal_from_user,
)
from autotrader.testing.harness import Fault
from autotrader_paper.capabilities import CAPABILITIES
from autotrader_paper.config import PaperConfig
from autotrader_paper.faults import FaultPlan
from autotrader_paper.instruments import DEFAULT_INSTRUMENTS
from autotrader_paper.stream import PaperStream
from autotrader_paper.venue import VENUE, PaperVenue
from autotrader_paper.venue.durable import DurablePaperVenue
from autotrader_paper.venue.orders import WorkingOrder

__all__ = ["PaperTradingAdapter"]


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
        request_timeout: float = 2.0,
        session_id: str | None = None,
        state_file: str | Path | None = None,
        config: PaperConfig | None = None,
    ) -> None:
        super().__init__()
        if config is None:
            config = PaperConfig(
                initial_balance=initial_balance,
                latency_ms=latency_ms,
                slippage_bps=slippage_bps,
                commission_bps=commission_bps,
                fill_probability=fill_probability,
                seed=seed,
                currency=currency,
                reconnect_delay=reconnect_delay,
                request_timeout=request_timeout,
                session_id=session_id,
                state_file=state_file,
            )
        self.config = config
        self._rng = random.Random(config.seed)
        self._latency = config.latency_ms if config.latency_ms[1] > 0 else None
        settings: dict[str, Any] = {
            "initial_balance": config.initial_balance,
            "currency": config.currency,
            "slippage_bps": config.slippage_bps,
            "commission_bps": config.commission_bps,
            "fill_probability": config.fill_probability,
            "rng": self._rng,
            "session_id": config.session_id,
            "history": config.history,
        }
        listed = {**DEFAULT_INSTRUMENTS, **(instruments or {})}
        self.venue: PaperVenue = (
            PaperVenue(listed, **settings)
            if config.state_file is None
            else DurablePaperVenue.open(config.state_file, listed, **settings)
        )
        self.faults: FaultPlan = self.venue.faults
        self.stream = PaperStream(self.venue, self._emit, self.faults, reconnect_delay=config.reconnect_delay)
        self.venue.on_event = self.stream.deliver
        self._connected = False

    @classmethod
    def from_config(cls, config: PaperConfig, **kwargs: Any) -> PaperTradingAdapter:
        return cls(config=config, **kwargs)

    def __repr__(self) -> str:
        c = self.config
        return (
            f"PaperTradingAdapter(initial_balance={c.initial_balance}, latency_ms={c.latency_ms}, "
            f"slippage_bps={c.slippage_bps}, commission_bps={c.commission_bps}, "
            f"fill_probability={c.fill_probability}, seed={c.seed})"
        )

    # seed API attribute names
    @property
    def initial_balance(self) -> Decimal:
        return self.config.initial_balance

    @property
    def latency_ms(self) -> tuple[float, float]:
        return self.config.latency_ms

    @property
    def reconnect_delay(self) -> float:
        return self.stream.reconnect_delay

    @reconnect_delay.setter
    def reconnect_delay(self, seconds: float) -> None:
        self.stream.reconnect_delay = seconds

    # ------------------------------------------------------------------ lifecycle
    @property
    def is_connected(self) -> bool:
        return self._connected

    async def connect(self) -> bool:
        check_backend(self)
        if isinstance(self.venue, DurablePaperVenue):
            self.venue.reopen()  # after a disconnect: take the state file back, as it is now
        self._connected = True
        return True

    async def disconnect(self) -> None:
        self._connected = False
        if isinstance(self.venue, DurablePaperVenue):
            self.venue.close()  # another process may now open the venue

    async def health_check(self) -> bool:
        """Connected; also the moment a dropped stream is re-subscribed if it is due."""
        self.stream.resume_if_due()
        return self._connected

    async def instruments(self) -> Mapping[str, Instrument]:
        return dict(self.venue.instruments)

    def add_instruments(self, instruments: Mapping[str, Instrument]) -> None:
        """List more instruments, e.g. those of a broker whose live prices this paper run trades on."""
        self.venue.instruments.update(instruments)

    # ------------------------------------------------------------------ market data
    @asynccontextmanager
    async def _quote_feed(self, symbols: tuple[str, ...], stream: QuoteStream) -> AsyncIterator[None]:
        """The venue's own price moves as quotes (bid = ask: the paper market has one price).

        The paper venue's prices come from whatever feeds it (a replay, another broker's live
        feed, the conformance harness); a subscriber sees the last price first, like a real feed's
        snapshot, then every move.
        """
        wanted = frozenset(symbols)

        def on_price(symbol: str, price: Decimal) -> None:
            if symbol in wanted:
                stream.put(Quote(symbol, price, price, venue=VENUE))

        for symbol in symbols:
            last = self.venue.last_price(symbol)
            if last is not None:
                on_price(symbol, last)
        self.venue.price_listeners.append(on_price)
        try:
            yield
        finally:
            self.venue.price_listeners.remove(on_price)

    # ------------------------------------------------------------------ market data (seed API)
    def update_price(self, symbol: str, price: Any) -> None:
        """Move the simulated market; resting orders that the price crosses fill."""
        self.stream.resume_if_due()
        self.venue.set_price(symbol, decimal_from_user(price, "price"))

    def last_price(self, symbol: str) -> Decimal | None:
        return self.venue.last_price(symbol)

    def end_of_day(self) -> list[Order]:
        """Close the trading session: open DAY orders expire (their events go out on the stream)."""
        return self.venue.end_session()

    def drop_stream(self) -> None:
        """Cut the event stream now (fault injection); see :class:`PaperStream`."""
        self.stream.drop()

    # ------------------------------------------------------------------ orders
    async def submit_order(self, request: OrderRequest) -> OrderUpdate:
        self._validate(request)
        if self._admit():
            await self._delay()
        faults = self.faults
        if faults.armed:
            if faults.take(Fault.SERVER_ERROR):
                raise TransientError(
                    "paper: 503 Service Unavailable (injected, order not processed)", code=503
                )
            if faults.take(Fault.ACCEPT_THEN_TIMEOUT):
                await self._submit_lost(request)
        record = self.venue.place(request)
        if record.status.is_open:
            self.stream.track(request.client_order_id)
        return _ack(record)

    async def _submit_lost(self, request: OrderRequest) -> NoReturn:
        """The venue processes the order but neither its response nor its events arrive."""
        self.stream.mute(request.client_order_id)
        try:
            record = self.venue.place(request)
            if record.status.is_open:
                self.stream.track(request.client_order_id)
        except OrderRejected:
            pass  # the reject was lost with the response
        finally:
            self.stream.mute(None)
        if self._latency is not None:
            await anyio.sleep(self.config.request_timeout)
        raise AmbiguousOutcome(
            f"paper: no response to order {request.client_order_id!r} within "
            f"{self.config.request_timeout}s (injected)"
        )

    async def cancel_order(self, client_order_id: str) -> OrderUpdate:
        await self._request()
        return _update(self.venue.cancel(client_order_id))

    async def cancel_all_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        await self._request()
        return [_update(o) for o in self.venue.cancel_all(symbol)]

    async def modify_order(self, request: ModifyRequest) -> OrderUpdate:
        current = self.venue.order(request.client_order_id)
        if current is not None:
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
            self.venue.instruments[current.symbol].validate(changed)
        await self._request()
        order = self.venue.modify(request)
        return _update(order, with_terms=True)

    async def get_order(self, client_order_id: str) -> Order | None:
        await self._request()
        return self.venue.order(client_order_id)

    async def get_open_orders(self, symbol: str | None = None) -> list[Order]:
        await self._request()
        return self.venue.open_orders(symbol)

    async def get_order_fills(self, client_order_id: str) -> list[Fill]:
        await self._request()
        return self.venue.fills_of(client_order_id)

    async def get_positions(self) -> list[Position]:
        await self._request()
        return self.venue.positions()

    async def get_balances(self) -> list[Balance]:
        await self._request()
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

    async def _request(self) -> None:
        """What every request goes through: connection, rate limit, latency, stream recovery."""
        if self._admit():
            await self._delay()

    def _admit(self) -> bool:
        """:meth:`_request` up to its latency: True when the request must then wait.

        Split out so that the submit path awaits nothing at zero latency (one coroutine less
        per order); the stream is resumed after the wait, as a reply would arrive."""
        if not self._connected:
            raise NotConnected("paper: not connected")
        if self.faults.armed and self.faults.take(Fault.RATE_LIMIT):
            retry_after = self.faults.retry_after
            raise RateLimited(
                f"paper: 429 Too Many Requests, retry after {retry_after}s", retry_after=retry_after, code=429
            )
        if self._latency is not None:
            return True
        self.stream.resume_if_due()
        return False

    async def _delay(self) -> None:
        assert self._latency is not None
        low, high = self._latency
        await anyio.sleep(self._rng.uniform(low, high) / 1000)
        self.stream.resume_if_due()


def _ack(record: WorkingOrder) -> OrderUpdate:
    update, record.last_update = record.last_update, None  # taken: see WorkingOrder.last_update
    if update is not None and update.quantity is None:
        return update  # what the venue just reported is the order's state
    return OrderUpdate(
        client_order_id=record.client_order_id,
        status=record.status,
        venue=VENUE,
        venue_order_id=record.venue_order_id,
        filled_quantity=record.filled,
        average_price=record.average_price,
        reason=record.reason,
        timestamp=record.updated_at,
    )


def _update(order: Order, *, with_terms: bool = False) -> OrderUpdate:
    return OrderUpdate(
        client_order_id=order.client_order_id,
        status=order.status,
        venue=VENUE,
        venue_order_id=order.venue_order_id,
        filled_quantity=order.filled_quantity,
        average_price=order.average_fill_price,
        reason=order.reason,
        quantity=order.quantity if with_terms else None,
        price=order.price if with_terms else None,
        stop_price=order.stop_price if with_terms else None,
        timestamp=order.updated_at,
    )
