"""Translation between the core's model and IB's: order fields, statuses, error codes, numbers.

The IB client libraries carry prices and sizes as floats.  A float is only touched at that
boundary: a Decimal goes out through :func:`wire_float` (which refuses a value the float cannot
carry exactly) and comes back through :func:`from_wire` (the float's shortest repr, so ``99.9``
is ``Decimal("99.9")``, never ``99.900000000000005684...``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from autotrader.errors import AmbiguousOutcome, BrokerError, OrderRejected, RateLimited
from autotrader.model import Liquidity, OrderRequest, OrderStatus, OrderType, TimeInForce

__all__ = [
    "CONNECTIVITY_INFO",
    "ORDER_TYPE",
    "VENUE",
    "core_order_type",
    "core_status",
    "from_wire",
    "liquidity",
    "order_error",
    "wire_float",
]

VENUE: Final = "ibkr"

ORDER_TYPE: Final = {
    OrderType.MARKET: "MKT",
    OrderType.LIMIT: "LMT",
    OrderType.STOP: "STP",
    OrderType.STOP_LIMIT: "STP LMT",
}
_CORE_TYPE: Final = {v: k for k, v in ORDER_TYPE.items()}

UNSET_DOUBLE: Final = 1.7976931348623157e308

CONNECTIVITY_INFO: Final = frozenset({2103, 2104, 2105, 2106, 2107, 2108, 2119, 2157, 2158})
"""Farm-status notices: information, not errors."""

REJECT_CODES: Final = frozenset({103, 104, 105, 110, 200, 201, 203, 321, 387, 434, 10147})
"""Errors that mean TWS refused the order request (nothing is working)."""


def wire_float(value: Decimal) -> float:
    """``value`` as the float the library sends; refused if the float would change it."""
    result = float(value)
    if Decimal(repr(result)) != value:
        raise ValueError(f"{value} cannot travel exactly through the IB client library's floats")
    return result


def from_wire(value: float | Decimal | str | None) -> Decimal | None:
    """A library number back to Decimal (None for IB's unset double)."""
    if value is None or value == "":
        return None
    if isinstance(value, str | Decimal):
        return Decimal(value)
    if value >= UNSET_DOUBLE:
        return None
    result = Decimal(repr(value))
    return result.normalize() if result == result.to_integral_value() else result


def core_order_type(ib_type: str) -> OrderType:
    try:
        return _CORE_TYPE[ib_type]
    except KeyError:
        raise ValueError(f"IB order type {ib_type!r} has no core equivalent") from None


def ib_tif(request: OrderRequest) -> str:
    return request.time_in_force.value


def core_status(
    ib_status: str,
    filled: Decimal,
    *,
    order_type: OrderType,
    time_in_force: TimeInForce,
    cancel_requested: bool,
) -> OrderStatus | None:
    """IB's order status as the core's (None: nothing to report yet, e.g. PendingSubmit).

    IB reports an IOC/FOK or market remainder it kills as ``Cancelled``; when nobody asked for a
    cancel that is the core's EXPIRED.
    """
    if ib_status in ("PendingSubmit", "ApiPending", "ValidationError", ""):
        return None
    if ib_status in ("PreSubmitted", "Submitted", "ApiUpdate"):
        return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.ACCEPTED
    if ib_status == "PendingCancel":
        return OrderStatus.PENDING_CANCEL
    if ib_status == "Filled":
        return OrderStatus.FILLED
    if ib_status in ("Cancelled", "ApiCancelled"):
        immediate = time_in_force in (TimeInForce.IOC, TimeInForce.FOK) or order_type is OrderType.MARKET
        return OrderStatus.EXPIRED if immediate and not cancel_requested else OrderStatus.CANCELLED
    if ib_status == "Inactive":
        return OrderStatus.REJECTED
    return None


def liquidity(last_liquidity: int) -> Liquidity:
    """IB's lastLiquidity: 1 added, 2 removed, 3 routed out (taker)."""
    if last_liquidity == 1:
        return Liquidity.MAKER
    if last_liquidity in (2, 3):
        return Liquidity.TAKER
    return Liquidity.UNKNOWN


def order_error(code: int, text: str, *, pacing_retry_after: float) -> BrokerError | None:
    """The core error an IB error about an order request means (None: not about the request)."""
    if code == 100:
        return RateLimited(f"IB pacing violation: {text}", retry_after=pacing_retry_after, code=code)
    if code == 322:
        return AmbiguousOutcome(f"IB could not process the request: {text}", code=code)
    if code in REJECT_CODES:
        return OrderRejected(f"IB error {code}: {text}", code=code)
    return None
