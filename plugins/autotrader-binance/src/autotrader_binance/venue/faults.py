"""Faults the harness arms on the venue; each is consumed by the layer it affects."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

__all__ = ["ArmedFault", "FaultKind", "FaultPlan"]


class FaultKind(enum.Enum):
    REJECT = "reject"
    SERVER_ERROR = "server_error"
    RATE_LIMIT = "rate_limit"
    BAN = "ban"
    ACCEPT_THEN_TIMEOUT = "accept_then_timeout"
    DUPLICATE_EVENTS = "duplicate_events"
    REORDER_EVENTS = "reorder_events"


@dataclass
class ArmedFault:
    kind: FaultKind
    remaining: int
    reason: str = "injected"
    retry_after: float = 1.0

    @property
    def retry_after_header(self) -> str:
        """``Retry-After`` is whole seconds: round up so a client never waits too little."""
        return str(max(1, math.ceil(self.retry_after)))


class FaultPlan:
    """Armed faults by kind; :meth:`take` consumes one occurrence."""

    def __init__(self) -> None:
        self._armed: dict[FaultKind, ArmedFault] = {}

    def arm(
        self, kind: FaultKind, *, count: int = 1, reason: str = "injected", retry_after: float = 1.0
    ) -> None:
        self._armed[kind] = ArmedFault(kind, count, reason, retry_after)

    def armed(self, kind: FaultKind) -> bool:
        return kind in self._armed

    def take(self, kind: FaultKind) -> ArmedFault | None:
        fault = self._armed.get(kind)
        if fault is None:
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            del self._armed[kind]
        return fault

    def clear(self) -> None:
        self._armed.clear()
