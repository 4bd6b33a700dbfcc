"""The strategy's own risk controls as a small state machine: ACTIVE, COOLDOWN, HALTED.

* COOLDOWN: the day's loss reached ``daily_loss_limit_pct`` of the day's starting equity, or
  ``max_trades_per_day`` orders were filled today.  It lifts on the next trading day.
* HALTED: equity fell ``drawdown_halt_pct`` below its peak.  It stays until :meth:`reset`, because
  a drawdown that deep needs a person to look, not a new calendar day.

Trades are counted per distinct order (several partial fills of one order are one trade).  The
governor is told the day and equity from outside, so it can run on market-data time in a replay.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from autotrader.model import ZERO
from autotrader.strategy.config import RiskControlsConfig
from autotrader.strategy.protocol import StrategyStatus

__all__ = ["RiskGovernor"]

log = logging.getLogger(__name__)


class RiskGovernor:
    """Tracks the day's start equity, the peak equity and the day's trades; decides the status."""

    def __init__(self, limits: RiskControlsConfig, equity: Decimal) -> None:
        start = equity
        self._limits = limits
        self._day: dt.date | None = None
        self._day_start_equity = start
        self._peak_equity = start
        self._trades_today: set[str] = set()
        self._cooldown: str | None = None
        self._halt: str | None = None

    # ------------------------------------------------------------------ state

    @property
    def status(self) -> StrategyStatus:
        if self._halt is not None:
            return StrategyStatus.HALTED
        if self._cooldown is not None:
            return StrategyStatus.COOLDOWN
        return StrategyStatus.ACTIVE

    @property
    def reason(self) -> str | None:
        """Why the status is not ACTIVE (``None`` when it is)."""
        return self._halt or self._cooldown

    @property
    def day(self) -> dt.date | None:
        return self._day

    @property
    def peak_equity(self) -> Decimal:
        return self._peak_equity

    @property
    def trades_today(self) -> int:
        return len(self._trades_today)

    # ------------------------------------------------------------------ inputs

    def observe(self, day: dt.date, equity: Decimal) -> StrategyStatus:
        """Take the current trading day and equity; roll the day and check every limit."""
        if day != self._day:
            if self._day is not None and self._cooldown is not None:
                log.info("strategy cooldown lifted on %s (was: %s)", day, self._cooldown)
            self._day = day
            self._day_start_equity = equity
            self._trades_today.clear()
            self._cooldown = None
        self._peak_equity = max(self._peak_equity, equity)
        self._check(equity)
        return self.status

    def record_trade(self, order_id: str) -> StrategyStatus:
        """Count a filled order for today (a second fill of the same order is the same trade)."""
        self._trades_today.add(order_id)
        if self._cooldown is None and len(self._trades_today) >= self._limits.max_trades_per_day:
            self._enter_cooldown(f"max_trades_per_day {self._limits.max_trades_per_day} reached")
        return self.status

    def reset(self, equity: Decimal) -> None:
        """A person's decision to trade again: clear HALTED and COOLDOWN, take ``equity`` as the new peak."""
        if self._halt or self._cooldown:
            log.warning("strategy reset (was: %s)", self.reason)
        self._halt = None
        self._cooldown = None
        self._peak_equity = equity
        self._day_start_equity = equity
        self._trades_today.clear()

    # ------------------------------------------------------------------ checks

    def _check(self, equity: Decimal) -> None:
        limits = self._limits
        peak = self._peak_equity
        if self._halt is None and peak > 0 and (peak - equity) / peak >= limits.drawdown_halt_pct:
            drawdown = (peak - equity) / peak
            self._halt = f"drawdown {drawdown:.2%} from peak {peak} >= {limits.drawdown_halt_pct:%}"
            log.warning("strategy HALTED: %s", self._halt)
        start = self._day_start_equity
        if (
            self._cooldown is None
            and start > ZERO
            and (start - equity) / start >= limits.daily_loss_limit_pct
        ):
            loss = (start - equity) / start
            self._enter_cooldown(f"daily loss {loss:.2%} >= {limits.daily_loss_limit_pct:%}")

    def _enter_cooldown(self, reason: str) -> None:
        self._cooldown = reason
        log.warning("strategy COOLDOWN until the next day: %s", reason)
