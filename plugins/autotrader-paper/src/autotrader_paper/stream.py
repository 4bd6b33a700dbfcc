"""The paper broker's event stream: what the venue reports, as a remote stream would deliver it.

The venue calls :meth:`PaperStream.deliver` synchronously for every event it produces; the
stream passes it on to the adapter's listeners -- unless a fault says otherwise:

* **dropped** (:meth:`drop`): events are lost.  Re-subscribing is lazy, because the seed API
  connects with a bare ``await adapter.connect()`` and there is no task group to run a
  reconnect loop in: every adapter call and every ``update_price`` calls :meth:`resume_if_due`,
  which, once ``reconnect_delay`` has passed, re-subscribes and reconciles -- it asks the venue
  for the fills and current state of every order the adapter knew open or lost events of, and
  emits them (the OMS de-duplicates fills by trade id).
* **muted** (an accept-then-timeout): the events of that one request are lost like its response.
* **duplicated** / **reordered**: consumed per event from the armed :class:`FaultPlan`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from autotrader.adapter import ExecutionEvent
from autotrader.model import OrderUpdate
from autotrader.testing.harness import Fault
from autotrader_paper.faults import FaultPlan
from autotrader_paper.venue import VENUE, PaperVenue

__all__ = ["PaperStream"]


class PaperStream:
    def __init__(
        self,
        venue: PaperVenue,
        emit: Callable[[ExecutionEvent], None],
        faults: FaultPlan,
        *,
        reconnect_delay: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._venue = venue
        self._emit = emit
        self._faults = faults
        self.reconnect_delay = reconnect_delay
        self._clock = clock
        self._down_since: float | None = None
        self._muted: str | None = None
        self._held: ExecutionEvent | None = None
        self._open: set[str] = set()
        """Orders the adapter knows to be open: what a reconciliation asks the venue about."""
        self._missed: set[str] = set()
        """Orders whose events were lost (closed while the stream was down, or muted)."""
        self.reconnects = 0

    @property
    def is_up(self) -> bool:
        return self._down_since is None

    # ------------------------------------------------------------------ from the venue
    def deliver(self, event: ExecutionEvent) -> None:
        coid = event.client_order_id
        if self._down_since is not None or coid == self._muted:
            self._missed.add(coid)
            return
        if isinstance(event, OrderUpdate) and not event.status.is_open:
            self._open.discard(coid)
        if not self._faults.armed:
            self._emit(event)
            return
        if self._held is None and self._faults.take(Fault.REORDER_EVENTS):
            self._held = event
            return
        self._emit(event)
        if self._faults.take(Fault.DUPLICATE_EVENTS):
            self._emit(event)
        self._release_held()

    # ------------------------------------------------------------------ from the adapter
    def track(self, client_order_id: str) -> None:
        """The adapter learned (from an ack) that this order is open."""
        self._open.add(client_order_id)

    def mute(self, client_order_id: str | None) -> None:
        """Lose the events of ``client_order_id`` (``None``: stop losing them)."""
        self._muted = client_order_id

    def drop(self) -> None:
        """The connection breaks: nothing is delivered until the adapter re-subscribes."""
        if self._down_since is None:
            self._down_since = self._clock()

    def resume_if_due(self) -> None:
        """Deliver a held event; re-subscribe and reconcile once a drop has lasted ``reconnect_delay``."""
        if self._held is not None:
            self._release_held()
        if self._down_since is None or self._clock() - self._down_since < self.reconnect_delay:
            return
        self._down_since = None
        self.reconnects += 1
        self._reconcile()

    def _release_held(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._emit(held)

    def _reconcile(self) -> None:
        """Replay, from the venue's records, what the adapter may have missed (oldest first)."""
        wanted = self._open | self._missed
        self._missed.clear()
        orders = [order for coid in wanted if (order := self._venue.order(coid)) is not None]
        orders.sort(key=lambda order: (order.created_at, order.client_order_id))
        for order in orders:
            for fill in self._venue.fills_of(order.client_order_id):
                self._emit(fill)
            self._emit(
                OrderUpdate(
                    client_order_id=order.client_order_id,
                    status=order.status,
                    venue=VENUE,
                    venue_order_id=order.venue_order_id,
                    filled_quantity=order.filled_quantity,
                    average_price=order.average_fill_price,
                    reason=order.reason,
                    timestamp=order.updated_at,
                )
            )
            if order.status.is_open:
                self._open.add(order.client_order_id)
            else:
                self._open.discard(order.client_order_id)
