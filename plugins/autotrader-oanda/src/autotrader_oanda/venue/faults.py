"""Faults the venue injects on request, each consumed as it fires.

REST faults hit order requests only (``POST orders``, ``PUT orders/{spec}``, ``PUT .../cancel``)
so a background query cannot swallow a fault the test meant for a submit.  Stream faults act on
the transaction feed: events dropped (a gap in the ids), sent twice, or swapped.
"""

from __future__ import annotations

import time

import attrs


@attrs.define
class FaultPlan:
    server_errors: int = 0
    rate_limits: int = 0
    retry_after: float = 1.0
    slow_orders: int = 0
    """Accept-then-timeout: the order is processed, the response withheld."""
    duplicate_events: int = 0
    reorder_pairs: int = 0
    skip_events: int = 0
    stream_down_until: float = 0.0
    """While ``time.monotonic()`` is below this, new stream connections get 503."""

    def take(self, name: str) -> bool:
        """Consume one shot of the named counter; True if it fired."""
        left: int = getattr(self, name)
        if left <= 0:
            return False
        setattr(self, name, left - 1)
        return True

    def stream_down(self) -> bool:
        return time.monotonic() < self.stream_down_until
