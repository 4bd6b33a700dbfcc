"""The order state machine as data.

``TRANSITIONS[a]`` is the set of states an order in state ``a`` may move to.  The table admits what
real venues do, not what a tidy diagram would like:

* a fill that arrives after a cancel was sent (PENDING_CANCEL -> PARTIALLY_FILLED / FILLED) or
  even confirmed (CANCELLED -> FILLED: the cancel lost the race);
* a cancel that fails (PENDING_CANCEL -> ACCEPTED / PARTIALLY_FILLED);
* an order whose submit outcome is unknown (UNKNOWN) resolving to anything the venue says,
  or back to SUBMITTED when reconciliation proved the venue never had it.

Deviation from DESIGN.md: a *partial* fill arriving after CANCELLED or EXPIRED is applied to the
order's quantities but leaves the status terminal (the venue closed the order; the fill simply
happened before the close), instead of re-opening it as PARTIALLY_FILLED.

A status the venue reports that is *behind* the order's state (an ACCEPTED ack arriving after the
fill) is :func:`stale`: ignored quietly, not an anomaly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from autotrader.model import OrderStatus as S

__all__ = ["TRANSITIONS", "can_transition", "stale"]

_WORKING_NEXT: Final = frozenset(
    {S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED, S.PENDING_CANCEL, S.PENDING_REPLACE, S.UNKNOWN}
)

TRANSITIONS: Final[Mapping[S, frozenset[S]]] = {
    S.PENDING: frozenset({S.SUBMITTED, S.REJECTED, S.CANCELLED}),
    S.SUBMITTED: frozenset(
        {
            S.ACCEPTED,
            S.PARTIALLY_FILLED,
            S.FILLED,
            S.REJECTED,
            S.CANCELLED,
            S.EXPIRED,
            S.UNKNOWN,
            S.PENDING_CANCEL,
        }
    ),
    # A venue may reject after an ack (IB error 201 following OPEN_ORDER).
    S.ACCEPTED: _WORKING_NEXT | {S.REJECTED},
    S.PARTIALLY_FILLED: _WORKING_NEXT | {S.PARTIALLY_FILLED},
    S.PENDING_CANCEL: frozenset(
        {S.CANCELLED, S.ACCEPTED, S.PARTIALLY_FILLED, S.FILLED, S.EXPIRED, S.UNKNOWN, S.PENDING_CANCEL}
    ),
    S.PENDING_REPLACE: frozenset(
        {S.ACCEPTED, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED, S.PENDING_CANCEL, S.UNKNOWN}
    ),
    S.UNKNOWN: frozenset(
        {S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, S.FILLED, S.REJECTED, S.CANCELLED, S.EXPIRED}
    ),
    S.CANCELLED: frozenset({S.FILLED}),
    S.EXPIRED: frozenset({S.FILLED}),
    S.FILLED: frozenset(),
    S.REJECTED: frozenset(),
}

# How far along the lifecycle a state is, to recognise reports that arrive late.
_PROGRESS: Final[Mapping[S, int]] = {
    S.PENDING: 0,
    S.SUBMITTED: 1,
    S.UNKNOWN: 1,
    S.ACCEPTED: 2,
    S.PENDING_REPLACE: 2,
    S.PENDING_CANCEL: 3,
    S.PARTIALLY_FILLED: 3,
    S.FILLED: 4,
    S.CANCELLED: 4,
    S.EXPIRED: 4,
    S.REJECTED: 4,
}


def can_transition(current: S, new: S) -> bool:
    return new in TRANSITIONS[current]


def stale(current: S, new: S) -> bool:
    """``new`` is an out-of-date report for an order already in ``current`` (e.g. ACCEPTED after FILLED)."""
    if new is current:
        return True
    return _PROGRESS[new] < _PROGRESS[current] and not can_transition(current, new)
