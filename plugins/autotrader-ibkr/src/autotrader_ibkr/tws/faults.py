"""Fault switches of the local TWS: what the next requests or messages suffer.

Counters are consumed one per affected request or message.  The generic faults of the
conformance suite (:class:`autotrader.testing.Fault`) map onto these, and a few are IB's own:
a socket dropped right after an order was accepted, connectivity loss (1100) followed by
restoration with (1102) or without (1101) the data, a duplicated ``execId``, ORDER_STATUS ahead
of EXECUTION_DATA, and COMMISSION_REPORT ahead of its execution.
"""

from __future__ import annotations

import attrs

__all__ = ["TwsFaults"]


@attrs.define
class TwsFaults:
    rate_limits: int = 0
    """PLACE_ORDER answered with error 100 (pacing) and not processed."""
    server_errors: int = 0
    """PLACE_ORDER answered with error 322 (error processing request) and not processed."""
    rejects: int = 0
    """Counted by the exchange's ``forced_rejects`` (error 201); kept here for symmetry."""
    hold_orders: int = 0
    """New orders processed, but every message about them held back for ``hold_seconds``."""
    hold_seconds: float = 5.0
    drop_after_accept: int = 0
    """New orders processed, then the client's socket closed before anything is sent."""
    duplicate_messages: int = 0
    """Order messages (OPEN_ORDER, ORDER_STATUS, EXECUTION_DATA, COMMISSION_REPORT) sent twice."""
    reorder_pairs: int = 0
    """Pairs of consecutive order messages sent swapped."""
    status_first: int = 0
    """Fills whose OPEN_ORDER/ORDER_STATUS go out before their EXECUTION_DATA."""
    commission_first: int = 0
    """Fills whose COMMISSION_REPORT goes out before their EXECUTION_DATA."""
    duplicate_exec: int = 0
    """Fills whose EXECUTION_DATA and COMMISSION_REPORT are sent twice with the same execId."""
    completed_orders_lost: bool = False
    """REQ_COMPLETED_ORDERS answers with none (as after a TWS restart): only executions remain."""
    outage_seconds: float = 0.5
    """After a dropped stream, connections are refused (closed at once) this long."""
