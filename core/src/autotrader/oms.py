"""The order management system: the book of record for orders, fills and positions.

Every venue event goes through :meth:`OrderManager.on_event`.  Status changes follow
:mod:`autotrader.lifecycle`'s table (an illegal one is reported and ignored), quantities come from
fills only (each ``(venue, trade_id)`` applied once; an overfill is refused), and positions are
built from the fills the OMS accepted.  Completed orders are kept in a bounded window so memory
does not grow with history (the journal keeps everything).
"""

from __future__ import annotations

import collections
import logging
import operator
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

import anyio
import attrs

from autotrader.adapter import BrokerAdapter, ExecutionEvent
from autotrader.errors import (
    AmbiguousOutcome,
    AutotraderError,
    InvalidOrder,
    OrderNotFound,
    OrderRejected,
)
from autotrader.lifecycle import TRANSITIONS, can_transition, stale
from autotrader.model import (
    ORDER_TERMS,
    ZERO,
    ClientOrderIdFactory,
    Fill,
    ModifyRequest,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    TimeInForce,
    evolve,
    new_order,
)
from autotrader.plugins import live_hook
from autotrader.positions import PositionBook
from autotrader.resiliency import ResiliencyManager

__all__ = ["OrderManager"]

log = logging.getLogger(__name__)

_TERMINAL = frozenset(status for status in OrderStatus if status.is_terminal)
"""``status in _TERMINAL`` is ``status.is_terminal`` without a property call per event."""
_TERMS = frozenset(ORDER_TERMS)
_TIMEOUT_CANCELLABLE = frozenset({OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})
# Enum members the order path reads, bound once (see autotrader.model._BUY).
_BUY: Final = OrderSide.BUY
_PENDING: Final = OrderStatus.PENDING
_SUBMITTED: Final = OrderStatus.SUBMITTED
_FILLED: Final = OrderStatus.FILLED
_PARTIALLY_FILLED: Final = OrderStatus.PARTIALLY_FILLED


def _open_exposure(order: Order | _Tracked) -> Decimal:
    """What ``order`` adds to its symbol's pending quantity: its signed remainder while open."""
    if order.status in _TERMINAL:
        return ZERO
    remaining = order.quantity - order.filled_quantity
    return remaining if order.side is _BUY else -remaining


def _still_pending(tracked: _Tracked) -> _Tracked:
    if tracked.status is not _PENDING:
        raise InvalidOrder(
            "client_order_id", f"{tracked.client_order_id} is {tracked.status.value}, not PENDING"
        )
    return tracked


_FILL_KEYS_IN_A_TUPLE: Final = 16
"""Fill keys an order keeps in a tuple (searched in a scan) before they move to a set."""
_FIELDS: Final = tuple(field.name for field in attrs.fields(Order))
_read_fields: Final = operator.attrgetter(*_FIELDS)


class _Tracked:
    """The OMS's mutable record of one order: the order's fields, kept current, and bookkeeping.

    ``order`` is the immutable :class:`Order` snapshot of those fields, built when somebody asks
    for it and kept until the next change.  On the order path an order changes three or four
    times in one call chain (SUBMITTED, ACCEPTED, filled); with no listener for the steps in
    between, only the final state becomes an object (callgrind: ~50k instructions per order
    less than one attrs.evolve per change).  Listeners still get a snapshot of every change.
    """

    __slots__ = (*_FIELDS, "_snapshot", "fill_keys", "request", "sent_at")

    client_order_id: str
    symbol: str
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce
    status: OrderStatus
    filled_quantity: Decimal
    average_fill_price: Decimal | None
    venue_order_id: str | None
    reason: str | None
    commission: Decimal
    created_at: float
    updated_at: float
    reduce_only: bool
    _snapshot: Order | None

    def __init__(self, request: OrderRequest | None, now: float) -> None:
        """The new PENDING order for ``request`` (the fields of :meth:`Order.fields_from_request`).

        Written slot by slot rather than through a dict of fields and ``setattr``: this runs
        for every order, and the dict cost ~7k instructions (callgrind).  ``request=None`` is
        for :meth:`of`, which then sets every field.
        """
        if request is not None:
            self.client_order_id = request.client_order_id
            self.symbol = request.symbol
            self.side = request.side
            self.order_type = request.order_type
            self.quantity = request.quantity
            self.price = request.price
            self.stop_price = request.stop_price
            self.time_in_force = request.time_in_force
            self.status = _PENDING
            self.filled_quantity = ZERO
            self.average_fill_price = None
            self.venue_order_id = None
            self.reason = None
            self.commission = ZERO
            self.created_at = self.updated_at = now
            self.reduce_only = request.reduce_only
        self._snapshot = None
        self.request = request
        """The request the order was tracked from, while its terms are unchanged (sent as is)."""
        self.fill_keys: tuple[tuple[str, str], ...] | set[tuple[str, str]] = ()
        """The ``(venue, trade_id)`` of every fill applied: a tuple while short, then a set.

        A tuple of string pairs is untracked by the garbage collector, a set never is: one
        set per order was a fifth of the objects each order left for the collector to walk."""
        self.sent_at: float | None = None

    @classmethod
    def of(cls, order: Order) -> _Tracked:
        tracked = cls(None, order.created_at)
        tracked.change(dict(zip(_FIELDS, _read_fields(order), strict=True)))
        tracked._snapshot = order
        return tracked

    @property
    def order(self) -> Order:
        snapshot = self._snapshot
        if snapshot is None:
            snapshot = self._snapshot = new_order(*_read_fields(self))
        return snapshot

    def change(self, changes: Mapping[str, Any]) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        self._snapshot = None

    def remember_fill(self, key: tuple[str, str]) -> None:
        keys = self.fill_keys
        if isinstance(keys, tuple):
            self.fill_keys = (*keys, key) if len(keys) < _FILL_KEYS_IN_A_TUPLE else {*keys, key}
        else:
            keys.add(key)


class OrderManager:
    """Tracks orders through their lifecycle and keeps fills and positions true.

    ``OrderManager(adapter)`` is the seed API; the engine also passes its resiliency manager
    and plugin hook.  Without a resiliency manager, a pass-through one (no retries, no breaker)
    still reconciles ambiguous submits.
    """

    def __init__(
        self,
        adapter: BrokerAdapter,
        resiliency: ResiliencyManager | None = None,
        *,
        hook: Any = None,
        order_timeout: float | None = 300.0,
        check_interval: float = 10.0,
        max_completed_orders: int = 10_000,
        max_fills: int = 100_000,
        id_factory: Callable[[], str] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        listen: bool = True,
    ) -> None:
        self.adapter = adapter
        self.resiliency = resiliency or ResiliencyManager(
            adapter, max_retries=0, circuit_breaker_threshold=2**31
        )
        self.order_timeout = order_timeout
        self.check_interval = check_interval
        self.new_client_order_id = id_factory or ClientOrderIdFactory()
        self.positions = PositionBook()
        self._hook = hook
        self._hook_order = live_hook(hook, "autotrader_order_updated")
        self._hook_fill = live_hook(hook, "autotrader_fill")
        self._hook_position = live_hook(hook, "autotrader_position_changed")
        self._hook_behind = live_hook(hook, "autotrader_fills_behind")
        self._clock = clock
        self._monotonic = monotonic
        self._active: dict[str, _Tracked] = {}
        self._completed: collections.OrderedDict[str, _Tracked] = collections.OrderedDict()
        self._max_completed = max_completed_orders
        self._fills: collections.deque[Fill] = collections.deque(maxlen=max_fills)
        self._orphan_fills: collections.deque[Fill] = collections.deque(maxlen=10_000)
        self._order_listeners: list[Callable[[Order, Order | None], None]] = []
        self._notifying = self._hook_order is not None
        """Whether an order change has anyone to tell (spares the call when not)."""
        self._fill_listeners: list[Callable[[Fill, Order], None]] = []
        self._counts: collections.Counter[str] = collections.Counter()
        self.total_filled_notional = ZERO
        self.total_commission = ZERO
        self._latency_sum = 0.0
        self._latency_count = 0
        self.fill_latencies: collections.deque[float] = collections.deque(maxlen=10_000)
        """Seconds from send to complete fill, for the most recent filled orders."""
        self.anomalies: collections.deque[tuple[str, str]] = collections.deque(maxlen=1_000)
        self._fills_behind: dict[str, Decimal] = {}
        """Orders whose venue-reported filled quantity is ahead of the fills we hold."""
        self._last_applied: OrderUpdate | None = None
        """The update :meth:`_apply_update` handled last: an ack that is this very object is not
        applied twice."""
        self._pending: dict[str, Decimal] = {}
        """Signed remaining quantity of the open orders per symbol, kept up to date as orders
        change, so a pre-trade check does not scan every open order."""
        if listen:
            adapter.add_listener(self.on_event)

    # ------------------------------------------------------------------ listeners
    def on_order_update(self, callback: Callable[[Order, Order | None], None]) -> None:
        self._order_listeners.append(callback)
        self._notifying = True

    def on_fill(self, callback: Callable[[Fill, Order], None]) -> None:
        self._fill_listeners.append(callback)

    # ------------------------------------------------------------------ queries
    def get_order(self, client_order_id: str) -> Order | None:
        tracked = self._find(client_order_id)
        return tracked.order if tracked is not None else None

    def get_active_orders(self, symbol: str | None = None) -> list[Order]:
        return [t.order for t in self._active.values() if symbol is None or t.order.symbol == symbol]

    def get_completed_orders(self) -> list[Order]:
        return [t.order for t in self._completed.values()]

    def get_fills(self, symbol: str | None = None, client_order_id: str | None = None) -> list[Fill]:
        return [
            f
            for f in self._fills
            if (symbol is None or f.symbol == symbol)
            and (client_order_id is None or f.client_order_id == client_order_id)
        ]

    def get_position(self, symbol: str) -> Position:
        return self.positions.get(symbol)

    def get_positions(self) -> dict[str, Position]:
        return dict(self.positions.all())

    def pending_quantity(self, symbol: str) -> Decimal:
        """Signed remaining quantity of the open orders in ``symbol`` (buys positive)."""
        return self._pending.get(symbol, ZERO)

    @property
    def open_order_count(self) -> int:
        return len(self._active)

    def exposure(self, symbol: str) -> tuple[int, Decimal, Decimal]:
        """``(open_order_count, position quantity, pending_quantity(symbol))`` in one call.

        What a pre-trade check reads for every order: one call instead of three (~2k
        instructions less an order, callgrind).
        """
        return len(self._active), self.positions.quantity(symbol), self._pending.get(symbol, ZERO)

    @property
    def unknown_orders(self) -> list[Order]:
        return [t.order for t in self._active.values() if t.order.status is OrderStatus.UNKNOWN]

    # ------------------------------------------------------------------ events
    def on_event(self, event: ExecutionEvent) -> None:
        """The adapter listener: route an event to the fill or update path."""
        if isinstance(event, Fill):
            self.apply_fill(event)
        else:
            self._apply_update(event)

    def apply_update(self, update: OrderUpdate) -> Order | None:
        tracked = self._apply_update(update)
        return tracked.order if tracked is not None else None

    def _apply_update(self, update: OrderUpdate) -> _Tracked | None:
        coid = update.client_order_id
        tracked = self._active.get(coid) or self._completed.get(coid)  # _find, inline
        if tracked is None:
            self.report_anomaly(
                "unknown_order", f"update for unknown order {update.client_order_id}: {update.status.value}"
            )
            return None
        order = tracked
        changes: dict[str, Any] = {}
        if update.venue_order_id and update.venue_order_id != order.venue_order_id:
            changes["venue_order_id"] = update.venue_order_id
        if update.quantity is not None or update.price is not None or update.stop_price is not None:
            for name in _TERMS:  # a modify's new terms
                value = getattr(update, name)
                if value is not None and value != getattr(order, name):
                    changes[name] = value
        filled = update.filled_quantity
        if filled is not None and filled > order.filled_quantity:
            self._fills_behind[order.client_order_id] = filled
            if self._hook_behind is not None:  # before the status it may carry, like a fill
                self._hook_behind.call(tracked.order, filled)
        status = update.status
        if status is not order.status:
            if status in TRANSITIONS[order.status]:  # can_transition, inline (twice an order)
                changes["status"] = status
                if update.reason:
                    changes["reason"] = update.reason
            elif not stale(order.status, status):
                self.report_anomaly(
                    "illegal_transition",
                    f"{order.client_order_id}: {order.status.value} -> {status.value} ignored",
                )
        if changes:
            self._replace(tracked, changes)
        self._last_applied = update
        return tracked

    def apply_fill(self, fill: Fill) -> bool:
        """Apply ``fill`` once; returns False for a duplicate, an overfill or an unknown order."""
        coid = fill.client_order_id
        tracked = self._active.get(coid) or self._completed.get(coid)  # _find, inline
        if tracked is None:
            self._orphan_fills.append(fill)
            self.report_anomaly(
                "orphan_fill", f"fill {fill.trade_id} for unknown order {fill.client_order_id}"
            )
            return False
        key = (fill.venue, fill.trade_id)  # fill.key, without a property call per fill
        if key in tracked.fill_keys:
            self._counts["duplicate_fills"] += 1
            return False
        order = tracked
        filled = order.filled_quantity + fill.quantity
        if filled > order.quantity:
            self.report_anomaly(
                "overfill",
                f"{order.client_order_id}: fill {fill.trade_id} would fill {filled} "
                f"of {order.quantity}; refused",
            )
            return False
        tracked.remember_fill(key)
        behind = self._fills_behind.get(order.client_order_id)
        if behind is not None and filled >= behind:
            del self._fills_behind[order.client_order_id]
        if order.filled_quantity:
            previous_avg = order.average_fill_price or ZERO
            average = (previous_avg * order.filled_quantity + fill.price * fill.quantity) / filled
        else:
            average = fill.price
        self._fills.append(fill)
        self._counts["total_fills"] += 1
        self.total_filled_notional += fill.quantity * fill.price
        self.total_commission += fill.commission
        # What _replace does, with the fields written directly: a fill always moves the pending
        # quantity and never the terms, and building and walking a changes dict cost ~5k
        # instructions per fill (callgrind).
        previous = tracked.order if self._notifying else None
        previous_status = order.status
        tracked.filled_quantity = filled
        tracked.average_fill_price = average
        tracked.commission = order.commission + fill.commission
        target = _FILLED if filled == order.quantity else _PARTIALLY_FILLED
        if target is not previous_status and target in TRANSITIONS[previous_status]:
            tracked.status = target
        tracked.updated_at = self._clock()
        tracked._snapshot = None
        if previous_status not in _TERMINAL:
            # What _open_exposure(after) - _open_exposure(before) comes to, in one operation
            # instead of five: an open order's remainder shrinks by the fill, and one the fill
            # completes (FILLED, the only terminal state a fill leads to) has none left.
            self._move_pending(tracked.symbol, -fill.quantity if order.side is _BUY else fill.quantity)
        # The fill is announced (and journaled) before the order's new status, so a journal cut
        # anywhere in between never holds a FILLED order without the fill that filled it.
        position = self.positions.apply(fill)
        if self._fill_listeners or self._hook_fill is not None:
            # The snapshot tracked.order would build (it was reset above), without the property.
            updated = tracked._snapshot = new_order(*_read_fields(tracked))
            for listener in self._fill_listeners:
                listener(fill, updated)
            if self._hook_fill is not None:
                self._hook_fill.call(fill, updated)
        if self._hook_position is not None:
            self._hook_position.call(position)
        if tracked.status is not previous_status and tracked.status in _TERMINAL:  # as _replace
            self._complete(tracked, previous_status)
        if self._notifying:
            self._notify(tracked.order, previous)
        return True

    # ------------------------------------------------------------------ order entry
    def track(self, request: OrderRequest) -> Order:
        """Register a new order as PENDING (before anything is sent)."""
        return self._track(request).order

    def _track(self, request: OrderRequest) -> _Tracked:
        coid = request.client_order_id
        if coid in self._active or coid in self._completed:
            raise InvalidOrder("client_order_id", f"{coid!r} is already used")
        tracked = _Tracked(request, self._clock())
        self._active[coid] = tracked
        # _open_exposure(tracked) for a new order, which is open and has filled nothing.
        self._move_pending(request.symbol, request.quantity if request.side is _BUY else -request.quantity)
        if self._notifying:
            self._notify(tracked.order, None)
        return tracked

    async def submit_order(self, request: OrderRequest) -> Order:
        """Track, send (through the resiliency layer) and return the order as it stands.

        A venue reject or a give-up leaves the order REJECTED with the reason; an outcome that
        could not be established leaves it UNKNOWN, to be reconciled -- never resent blindly.
        """
        return await self._dispatch(self._track(request))  # PENDING: it was just tracked

    async def send(self, client_order_id: str) -> Order:
        """Send a tracked PENDING order."""
        return await self._dispatch(_still_pending(self._require(client_order_id)))

    def withdraw(self, client_order_id: str, reason: str) -> Order:
        """Cancel a tracked order that was never sent (PENDING -> CANCELLED); nothing reaches the venue."""
        return self._set_status(_still_pending(self._require(client_order_id)), OrderStatus.CANCELLED, reason)

    async def resend_absent(self, client_order_id: str) -> Order:
        """Send an order the venue has twice confirmed it never received (recovery only)."""
        tracked = self._require(client_order_id)
        if tracked.order.status not in (OrderStatus.PENDING, OrderStatus.SUBMITTED, OrderStatus.UNKNOWN):
            raise InvalidOrder("client_order_id", f"{client_order_id} is {tracked.order.status.value}")
        return await self._dispatch(tracked)

    async def _dispatch(self, tracked: _Tracked) -> Order:
        client_order_id = tracked.client_order_id
        request = tracked.request or tracked.order.to_request()
        if tracked.status is not _SUBMITTED:
            self._mark_submitted(tracked)
        tracked.sent_at = self._monotonic()
        self._counts["total_orders"] += 1
        try:
            outcome = await self.resiliency.submit_order(request)
        except AmbiguousOutcome as exc:
            self._set_status(tracked, OrderStatus.UNKNOWN, str(exc))
        except InvalidOrder as exc:
            self._set_status(tracked, OrderStatus.REJECTED, str(exc))
            raise
        except OrderRejected as exc:
            self._set_status(tracked, OrderStatus.REJECTED, str(exc))
        except AutotraderError as exc:
            # Surely not executed (retries exhausted, circuit open, bad credentials).
            self._set_status(tracked, OrderStatus.REJECTED, f"not sent: {type(exc).__name__}: {exc}")
        else:
            # A venue whose ack is the very update its stream just delivered (the paper venue's
            # is) needs no second pass: applying an update again changes nothing.
            if outcome.update is not self._last_applied:
                self._apply_update(outcome.update)
            if outcome.reconciled:
                await self._catch_up_fills(client_order_id)
        return tracked.order

    async def cancel_order(self, client_order_id: str) -> Order:
        """Ask the venue to cancel; the order is PENDING_CANCEL until the venue answers."""
        tracked = self._require(client_order_id)
        before = tracked.order.status
        if before.is_terminal:
            return tracked.order
        if before is OrderStatus.PENDING:
            return self._set_status(tracked, OrderStatus.CANCELLED, "cancelled before it was sent")
        if can_transition(before, OrderStatus.PENDING_CANCEL):
            self._replace(tracked, {"status": OrderStatus.PENDING_CANCEL})
        try:
            update = await self.resiliency.cancel_order(client_order_id)
        except OrderNotFound:
            await self.reconcile_order(client_order_id, absent_status=OrderStatus.CANCELLED)
        except Exception:
            if tracked.order.status is OrderStatus.PENDING_CANCEL and can_transition(
                OrderStatus.PENDING_CANCEL, before
            ):
                self._replace(tracked, {"status": before})
            raise
        else:
            self.apply_update(update)
        return tracked.order

    async def replace_order(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> Order:
        """Cancel/replace in place: new total quantity and/or prices, same client order id."""
        tracked = self._require(client_order_id)
        before = tracked.order.status
        if before.is_terminal:
            raise InvalidOrder(
                "client_order_id", f"{client_order_id} is {before.value} and cannot be modified"
            )
        if quantity is not None and quantity <= tracked.order.filled_quantity:
            raise InvalidOrder(
                "quantity", f"{quantity} is not above the filled {tracked.order.filled_quantity}"
            )
        request = ModifyRequest(client_order_id, quantity=quantity, price=price, stop_price=stop_price)
        if can_transition(before, OrderStatus.PENDING_REPLACE):
            self._replace(tracked, {"status": OrderStatus.PENDING_REPLACE})
        try:
            update = await self.resiliency.modify_order(request)
        except Exception:
            if tracked.order.status is OrderStatus.PENDING_REPLACE and can_transition(
                OrderStatus.PENDING_REPLACE, before
            ):
                self._replace(tracked, {"status": before})
            raise
        self.apply_update(update)
        return tracked.order

    modify_order = replace_order

    async def cancel_all(self, symbol: str | None = None) -> list[Order]:
        """Cancel every open order the venue has (known to the OMS or not), then every one we track.

        Returns the OMS's orders that were open before, as they stand afterwards.
        """
        before = [o.client_order_id for o in self.get_active_orders(symbol)]
        try:
            for update in await self.adapter.cancel_all_orders(symbol):
                self.apply_update(update)
        except Exception as exc:
            log.error("cancel_all_orders on %s failed: %s; cancelling one by one", self.adapter.name, exc)
        for order in self.get_active_orders(symbol):
            try:
                await self.cancel_order(order.client_order_id)
            except Exception as exc:
                log.error("cancel of %s failed: %s", order.client_order_id, exc)
        return [self._require(coid).order for coid in before]

    # ------------------------------------------------------------------ reconciliation
    async def reconcile_order(
        self, client_order_id: str, *, absent_status: OrderStatus | None = None
    ) -> Order | None:
        """Bring one order in line with the venue: its status and every fill it has."""
        tracked = self._require(client_order_id)
        venue_order = await self.resiliency.lookup(client_order_id)
        if venue_order is None:
            if absent_status is not None:
                self._set_status(tracked, absent_status, "the venue has no such order")
            return tracked.order
        return await self.apply_venue_order(venue_order)

    async def apply_venue_order(self, venue_order: Order) -> Order:
        """Apply the venue's view of an order we track, pulling any fills we have not seen."""
        tracked = self._require(venue_order.client_order_id)
        if tracked.order.status is OrderStatus.PENDING:  # the venue has it, so it was sent
            self._replace(tracked, {"status": OrderStatus.SUBMITTED})
        changes = OrderUpdate(
            client_order_id=venue_order.client_order_id,
            status=venue_order.status,
            venue=self.adapter.name,
            venue_order_id=venue_order.venue_order_id,
            filled_quantity=venue_order.filled_quantity,
            reason=venue_order.reason,
        )
        if venue_order.filled_quantity > tracked.order.filled_quantity:
            await self._catch_up_fills(venue_order.client_order_id)
        self.apply_update(changes)
        return tracked.order

    async def reconcile_unknown(self) -> list[Order]:
        """Resolve every UNKNOWN order by asking the venue (never by resending)."""
        resolved = []
        for order in self.unknown_orders:
            try:
                result = await self.reconcile_order(order.client_order_id, absent_status=OrderStatus.REJECTED)
            except Exception as exc:
                log.warning("order %s still unknown: %s", order.client_order_id, exc)
                continue
            if result is not None:
                resolved.append(result)
        return resolved

    async def reconcile_open_orders(self) -> None:
        """After a stream gap: refresh every open order and pull the fills we missed."""
        for order in list(self.get_active_orders()):
            if order.status is OrderStatus.PENDING:
                continue
            try:
                await self.reconcile_order(order.client_order_id)
            except Exception as exc:
                log.warning("reconciling %s failed: %s", order.client_order_id, exc)

    async def _catch_up_fills(self, client_order_id: str) -> None:
        fills = await self.resiliency.call("get_order_fills", self.adapter.get_order_fills, client_order_id)
        for fill in fills:
            self.apply_fill(fill)

    # ------------------------------------------------------------------ monitoring
    async def check_timeouts(self) -> list[str]:
        """Cancel working orders older than ``order_timeout`` seconds; returns their ids."""
        if self.order_timeout is None:
            return []
        deadline = self._clock() - self.order_timeout
        expired = [
            t.order.client_order_id
            for t in self._active.values()
            if t.order.status in _TIMEOUT_CANCELLABLE and t.order.created_at <= deadline
        ]
        for coid in expired:
            log.info("order %s exceeded %ss: cancelling", coid, self.order_timeout)
            try:
                await self.cancel_order(coid)
            except Exception as exc:
                log.warning("timeout cancel of %s failed: %s", coid, exc)
        return expired

    async def catch_up_missing_fills(self) -> list[str]:
        """Pull the fills of orders the venue says are filled further than the fills we hold."""
        caught = []
        for coid in list(self._fills_behind):
            try:
                await self._catch_up_fills(coid)
            except Exception as exc:
                log.warning("could not fetch the missing fills of %s: %s", coid, exc)
                continue
            caught.append(coid)
            self._fills_behind.pop(coid, None)
        return caught

    async def monitor_orders(self) -> None:
        """Every ``check_interval`` seconds: cancel stale orders, resolve UNKNOWN ones, pull
        fills the stream failed to deliver."""
        while True:
            await anyio.sleep(self.check_interval)
            await self.check_timeouts()
            await self.reconcile_unknown()
            await self.catch_up_missing_fills()

    # ------------------------------------------------------------------ seed status
    def get_metrics(self) -> dict[str, Any]:
        """The seed's metrics dict."""
        total = self._counts["total_orders"]
        filled = self._counts["filled_orders"]
        return {
            "total_orders": total,
            "filled_orders": filled,
            "cancelled_orders": self._counts["cancelled_orders"],
            "rejected_orders": self._counts["rejected_orders"],
            "fill_rate": filled / total if total else 0.0,
            "avg_fill_latency_seconds": self._latency_sum / self._latency_count
            if self._latency_count
            else 0.0,
            "total_filled_notional": self.total_filled_notional,
            "total_commission": self.total_commission,
            "open_orders": len(self._active),
            "total_fills": self._counts["total_fills"],
            "duplicate_fills_ignored": self._counts["duplicate_fills"],
            "anomalies": self._counts["anomalies"],
        }

    def get_state(self) -> dict[str, Any]:
        """The seed's state dict (``positions`` as signed net quantities)."""
        return {
            "active_orders": {coid: t.order for coid, t in self._active.items()},
            "completed_orders": self.get_completed_orders(),
            "fills": list(self._fills),
            "positions": {s: p.quantity for s, p in self.positions.all().items()},
            "total_filled_notional": self.total_filled_notional,
            "total_commission": self.total_commission,
        }

    # ------------------------------------------------------------------ internals
    def _find(self, client_order_id: str) -> _Tracked | None:
        tracked = self._active.get(client_order_id)
        return tracked if tracked is not None else self._completed.get(client_order_id)

    def _require(self, client_order_id: str) -> _Tracked:
        tracked = self._find(client_order_id)
        if tracked is None:
            raise OrderNotFound(f"the OMS has no order {client_order_id!r}")
        return tracked

    def apply_update_status(self, client_order_id: str, status: OrderStatus, reason: str) -> Order:
        """Set a status the core itself established (e.g. reconciliation found no such order)."""
        return self._set_status(self._require(client_order_id), status, reason)

    def _set_status(self, tracked: _Tracked, status: OrderStatus, reason: str | None) -> Order:
        if status is not tracked.status and can_transition(tracked.status, status):
            self._replace(tracked, {"status": status, "reason": reason})
        return tracked.order

    def _replace(self, tracked: _Tracked, changes: dict[str, Any]) -> None:
        """Apply ``changes`` (keeping the pending quantities true), then announce the change."""
        previous = tracked.order if self._notifying else None  # the snapshot before, for listeners
        previous_status = tracked.status
        moves = "filled_quantity" in changes or "quantity" in changes or changes.get("status") in _TERMINAL
        before = _open_exposure(tracked) if moves else ZERO
        changes["updated_at"] = self._clock()
        for name, value in changes.items():  # tracked.change(changes), without the call
            setattr(tracked, name, value)
        tracked._snapshot = None
        if moves:
            self._move_pending(tracked.symbol, _open_exposure(tracked) - before)
        if tracked.request is not None and not _TERMS.isdisjoint(changes):
            tracked.request = None  # modified: the next send rebuilds the request from the order
        # Announced as apply_fill announces a fill's change: the order completes, then listeners.
        status = tracked.status
        if status is not previous_status and status in _TERMINAL:
            self._complete(tracked, previous_status)
        if self._notifying:
            self._notify(tracked.order, previous)

    def _mark_submitted(self, tracked: _Tracked) -> None:
        """``_replace(tracked, {"status": SUBMITTED})`` for the one change every order makes:
        a status that is neither terminal nor moves any quantity, written directly (the
        changes dict and the checks around it cost ~3k instructions an order, callgrind)."""
        previous = tracked.order if self._notifying else None
        tracked.status = _SUBMITTED
        tracked.updated_at = self._clock()
        tracked._snapshot = None
        if self._notifying:
            self._notify(tracked.order, previous)

    def _move_pending(self, symbol: str, delta: Decimal) -> None:
        if delta:
            self._pending[symbol] = self._pending.get(symbol, ZERO) + delta

    def _complete(self, tracked: _Tracked, previous_status: OrderStatus) -> None:
        order = tracked
        coid = order.client_order_id
        if previous_status in _TERMINAL:  # CANCELLED/EXPIRED -> FILLED: the close lost the race
            self._counts[f"{previous_status.value.lower()}_orders"] -= 1
            self._counts["filled_orders"] += 1
            return
        self._active.pop(coid, None)
        self._completed[coid] = tracked
        while len(self._completed) > self._max_completed:
            self._completed.popitem(False)  # oldest first; by position: a C keyword parse is ~1k
        if order.status is _FILLED:
            self._counts["filled_orders"] += 1
            if tracked.sent_at is not None:
                latency = self._monotonic() - tracked.sent_at
                self._latency_sum += latency
                self._latency_count += 1
                self.fill_latencies.append(latency)
        elif order.status is OrderStatus.CANCELLED:
            self._counts["cancelled_orders"] += 1
        elif order.status is OrderStatus.REJECTED:
            self._counts["rejected_orders"] += 1
        elif order.status is OrderStatus.EXPIRED:
            self._counts["expired_orders"] += 1

    def _notify(self, order: Order, previous: Order | None) -> None:
        for listener in self._order_listeners:
            listener(order, previous)
        if self._hook_order is not None:
            self._hook_order.call(order, previous)

    def report_anomaly(self, kind: str, detail: str) -> None:
        """Count, log and announce (``autotrader_oms_anomaly``: journal, metrics) something wrong."""
        self._counts["anomalies"] += 1
        self.anomalies.append((kind, detail))
        log.warning("OMS %s: %s", kind, detail)
        if self._hook is not None:
            self._hook.autotrader_oms_anomaly(kind=kind, detail=detail)

    def restore(
        self,
        orders: Iterable[Order],
        fills: Iterable[Fill] = (),
        behind: Mapping[str, Decimal] | None = None,
    ) -> None:
        """Load orders and their fills recovered from a journal (no events, no hooks).

        Positions are rebuilt from the fills, and each fill's key is remembered so that the venue
        repeating it after a restart does not count it twice.  ``behind`` holds the filled
        quantities the venue had reported (:func:`autotrader_fills_behind`): an order short of
        them, or FILLED short of its quantity, gets its missing fills fetched when reconciling.
        """
        for order in orders:
            tracked = _Tracked.of(order)
            if order.status.is_terminal:
                self._completed[order.client_order_id] = tracked
            else:
                self._active[order.client_order_id] = tracked
        applied: dict[str, Decimal] = {}
        fills_list = list(fills)
        for fill in fills_list:
            owner = self._find(fill.client_order_id)
            if owner is not None:
                owner.remember_fill(fill.key)
                applied[fill.client_order_id] = applied.get(fill.client_order_id, ZERO) + fill.quantity
            self._fills.append(fill)
            self._counts["total_fills"] += 1
            self.total_filled_notional += fill.notional
            self.total_commission += fill.commission
            self.positions.apply(fill)
        reported = dict(behind or {})
        for tracked in [*self._active.values(), *self._completed.values()]:
            order = tracked.order
            have = applied.get(order.client_order_id, ZERO)
            venue_filled = max(
                order.filled_quantity,
                reported.get(order.client_order_id, ZERO),
                order.quantity if order.status is OrderStatus.FILLED else ZERO,
            )
            if venue_filled > have:
                # The journal lost fills the order had, or never saw them arrive: count only the
                # fills we hold, and fetch the rest from the venue when reconciling (they then
                # apply like any late fill).
                self._fills_behind[order.client_order_id] = venue_filled
            if order.filled_quantity > have:
                mine = [f for f in fills_list if f.client_order_id == order.client_order_id]
                average = sum((f.price * f.quantity for f in mine), ZERO) / have if have else None
                commission = sum((f.commission for f in mine), ZERO)
                tracked.change(
                    {"filled_quantity": have, "average_fill_price": average, "commission": commission}
                )
        self._pending.clear()
        for tracked in self._active.values():
            self._move_pending(tracked.symbol, _open_exposure(tracked))

    def adopt(self, order: Order) -> Order:
        """Take over an order the venue has and the OMS did not know (found by reconciliation).

        Its fills are not in hand yet: it starts with none, marked as behind the venue's filled
        quantity, so that :meth:`catch_up_missing_fills` fetches and applies them (and the
        position counts them) like any late fill.
        """
        if self._find(order.client_order_id) is not None:
            raise InvalidOrder("client_order_id", f"{order.client_order_id!r} is already tracked")
        if order.filled_quantity > 0:
            self._fills_behind[order.client_order_id] = order.filled_quantity
            order = evolve(order, filled_quantity=ZERO, average_fill_price=None, commission=ZERO)
        tracked = _Tracked.of(order)
        (self._completed if order.status.is_terminal else self._active)[order.client_order_id] = tracked
        self._move_pending(order.symbol, _open_exposure(order))
        self._notify(order, None)
        return order
