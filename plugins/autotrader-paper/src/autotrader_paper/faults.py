"""Armed faults of the paper broker, consumed one by one by the requests and events they hit."""

from __future__ import annotations

from autotrader.testing.harness import Fault

__all__ = ["FaultPlan"]


class FaultPlan:
    """How many more requests / events each fault hits, and with what reason or delay."""

    def __init__(self) -> None:
        self.counts: dict[Fault, int] = dict.fromkeys(Fault, 0)
        self.armed = False
        """Whether any count was ever armed: spares the hot path the lookups when none was."""
        self.reason = "injected fault"
        self.retry_after = 1.0

    def arm(self, fault: Fault, count: int = 1) -> None:
        self.counts[fault] += count
        self.armed = True

    def take(self, fault: Fault) -> bool:
        """Consume one hit of ``fault`` if it is armed."""
        if not self.armed or self.counts[fault] <= 0:
            return False
        self.counts[fault] -= 1
        return True
