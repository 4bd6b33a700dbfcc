"""The error taxonomy (DESIGN.md section 5).

The class of an error *is* the decision the core takes about it, so adapters must map every
venue failure to exactly one of these.  The most important distinction is between
:class:`TransientError` (the request surely did not execute: safe to retry) and
:class:`AmbiguousOutcome` (it may have executed: never resend, reconcile by client order id).
"""

from __future__ import annotations

import enum

__all__ = [
    "AmbiguousOutcome",
    "AuthenticationError",
    "AutotraderError",
    "BrokerError",
    "CircuitOpenError",
    "ConfigError",
    "ErrorAction",
    "InvalidOrder",
    "NotConnected",
    "NotSupported",
    "OrderNotFound",
    "OrderRejected",
    "PluginError",
    "RateLimited",
    "RiskRejected",
    "TransientError",
    "UnknownCapability",
    "UnknownSymbol",
    "UnsupportedBackend",
    "UnsupportedOrder",
]


class ErrorAction(enum.Enum):
    """What the resiliency layer does with an error."""

    RETRY = "retry"
    FAIL = "fail"
    RECONCILE = "reconcile"


class AutotraderError(Exception):
    """Base of every error autotrader raises on purpose."""

    action: ErrorAction = ErrorAction.FAIL


class ConfigError(AutotraderError, ValueError):
    """A configuration value is missing or wrong; ``key`` names it (dotted path)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


class InvalidOrder(AutotraderError, ValueError):
    """The order fails local validation; nothing was sent.  ``field`` names the culprit."""

    def __init__(self, field: str, problem: str, *, code: int | str | None = None) -> None:
        super().__init__(f"invalid order: {field}: {problem}")
        self.field = field
        self.problem = problem
        self.code = code


class UnsupportedOrder(InvalidOrder):
    """The broker cannot express this order (type, time-in-force, modify...)."""


class RiskRejected(AutotraderError):
    """A pre-trade check refused the order; ``violations`` lists every reason."""

    def __init__(self, violations: list[str]) -> None:
        super().__init__("pre-trade risk rejected the order: " + "; ".join(violations))
        self.violations = violations


class BrokerError(AutotraderError):
    """Anything that comes back from (or fails on the way to) a venue."""

    def __init__(self, message: str, *, code: int | str | None = None) -> None:
        super().__init__(message)
        self.code = code


class OrderRejected(BrokerError):
    """The venue said no.  Final: the order is REJECTED and the reason is kept."""


class OrderNotFound(BrokerError):
    """The venue has no order with that id (cancel/modify/query of an unknown order)."""


class RateLimited(BrokerError):
    """429 / 418 / pacing: wait at least ``retry_after`` seconds, then retry.

    ``ban`` marks an IP ban (Binance 418): stop sending and open the circuit.
    """

    action = ErrorAction.RETRY

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        ban: bool = False,
        code: int | str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
        self.ban = ban


class TransientError(BrokerError):
    """The request surely did not execute (refused connection, 503 before processing)."""

    action = ErrorAction.RETRY


class AmbiguousOutcome(BrokerError):
    """Sent, but no answer: the order may or may not exist.  Reconcile, never resend blindly."""

    action = ErrorAction.RECONCILE


class AuthenticationError(BrokerError):
    """Bad key or signature.  No retry; the circuit opens."""


class NotConnected(BrokerError):
    """The adapter is not connected."""


class CircuitOpenError(BrokerError):
    """The circuit breaker is open: the venue is not called until it half-opens."""

    def __init__(self, message: str, *, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class NotSupported(AutotraderError, NotImplementedError):
    """The broker does not offer this (live market data, modify...): check its capabilities."""


class UnknownSymbol(AutotraderError, ValueError):
    """The venue lists no instrument by this name; nothing was asked of it."""

    def __init__(self, symbol: str, known: list[str]) -> None:
        shown = ", ".join(sorted(known)[:20]) + (" ..." if len(known) > 20 else "")
        super().__init__(f"unknown symbol {symbol!r}; the venue lists: {shown or 'nothing'}")
        self.symbol = symbol


class UnsupportedBackend(AutotraderError, RuntimeError):
    """A plugin built on an asyncio-only library was started under another event loop."""


class UnknownCapability(AutotraderError, KeyError):
    """A capability name that :class:`autotrader.adapter.Capabilities` does not define."""


class PluginError(AutotraderError):
    """A plugin failed to load or is malformed (the others still load)."""
