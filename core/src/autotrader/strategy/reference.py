"""The reference :class:`TradingStrategy`: the seed's probability/EV strategy, configured by YAML.

Per symbol and tick:

* flat, and the signal clears the thresholds (and conviction) -> LONG or SHORT, sized by
  :mod:`~autotrader.strategy.sizing` and cut to fit the portfolio limits;
* holding, and the signal has flipped against the position -> CLOSE the whole position
  (the next tick may then open the other way); HALTED also closes whatever is held;
* a signal the risk or portfolio limits block -> HOLD, with the reason in ``metadata['reason']``;
* otherwise ``None``.

Positions never pyramid: a signal in the direction already held does nothing.  The position used
is the one the engine supplies (``market_data['position']``), else the strategy's own fills.
Money is Decimal throughout; the day (for COOLDOWN and trade counts) is market-data time when the
data carries a ``timestamp``, so a replay of last year rolls days like last year did.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from autotrader.model import ZERO, Fill, decimal_from_user
from autotrader.strategy.config import StrategyConfig
from autotrader.strategy.controls import RiskGovernor
from autotrader.strategy.decision import Action, ExecutionDecision
from autotrader.strategy.ledger import EquityLedger
from autotrader.strategy.protocol import StrategyStatus
from autotrader.strategy.signal import Signal
from autotrader.strategy.sizing import size_fraction, units_for

__all__ = ["TradingStrategy"]

log = logging.getLogger(__name__)

_TWO = Decimal(2)


class TradingStrategy:
    """Implements :class:`~autotrader.strategy.Strategy` for the seed's YAML configuration.

    ``clock`` (seconds since the epoch) dates the day when the market data has no timestamp.
    """

    def __init__(
        self,
        config: StrategyConfig | None = None,
        initial_equity: object = 100000,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        equity = decimal_from_user(initial_equity, "initial_equity")
        if equity <= 0:
            raise ValueError(f"initial_equity must be positive, got {equity}")
        self.config = config if config is not None else StrategyConfig()
        self._clock = clock
        self._ledger = EquityLedger(equity)
        self._governor = RiskGovernor(self.config.risk_controls, equity)
        self._reported_positions: dict[str, Decimal] = {}
        self._last_time: dt.datetime | None = None

    # ------------------------------------------------------------------ the protocol

    @property
    def status(self) -> str:
        return self._governor.status

    @property
    def equity(self) -> Decimal:
        return self._ledger.equity

    def process_signal(self, symbol: str, market_data: Mapping[str, Any]) -> ExecutionDecision | None:
        signal = Signal.from_market_data(market_data)
        if signal.timestamp is not None:
            self._last_time = signal.timestamp
        self._ledger.mark(symbol, signal.price)
        if signal.position is not None:
            self._reported_positions[symbol] = signal.position
        status = self._governor.observe(self._today(), self._ledger.equity)

        position = self.position(symbol)
        if position != 0:
            return self._manage(symbol, signal, position, status)
        return self._enter(symbol, signal, status)

    def on_fill(self, fill: Fill) -> None:
        if not self._ledger.apply(fill):
            log.debug("fill %s seen before, ignored", fill.key)
            return
        # The engine's figure was true before this fill; from now on our own book is newer.
        self._reported_positions.pop(fill.symbol, None)
        self._governor.observe(self._today(), self._ledger.equity)
        self._governor.record_trade(fill.client_order_id)

    # ------------------------------------------------------------------ inspection and control

    def position(self, symbol: str) -> Decimal:
        """The signed position: the engine's latest word, else the strategy's own fills."""
        reported = self._reported_positions.get(symbol)
        return reported if reported is not None else self._ledger.quantity(symbol)

    @property
    def realized_pnl(self) -> Decimal:
        return self._ledger.realized_pnl

    @property
    def unrealized_pnl(self) -> Decimal:
        return self._ledger.unrealized_pnl

    @property
    def peak_equity(self) -> Decimal:
        return self._governor.peak_equity

    @property
    def drawdown(self) -> Decimal:
        """How far equity is below its peak, as a fraction of the peak."""
        peak = self._governor.peak_equity
        return (peak - self.equity) / peak if peak > 0 else ZERO

    @property
    def trades_today(self) -> int:
        return self._governor.trades_today

    @property
    def status_reason(self) -> str | None:
        return self._governor.reason

    def reset(self) -> None:
        """Resume after a HALT or COOLDOWN: a person has looked; the current equity is the new peak."""
        self._governor.reset(self._ledger.equity)

    def get_status(self) -> dict[str, Any]:
        """A summary for dashboards and the engine's status report."""
        return {
            "status": str(self.status),
            "reason": self.status_reason,
            "equity": self.equity,
            "peak_equity": self.peak_equity,
            "drawdown": self.drawdown,
            "realized_pnl": self.realized_pnl,
            "unrealized_pnl": self.unrealized_pnl,
            "commissions": self._ledger.commissions,
            "trades_today": self.trades_today,
        }

    # ------------------------------------------------------------------ decisions

    def _direction(self, signal: Signal) -> Action | None:
        """LONG / SHORT when the thresholds are met, else None (conviction is checked apart)."""
        rules = self.config.signal_generation
        if signal.probability >= rules.probability_threshold and (
            signal.expected_value >= rules.expected_value_threshold
        ):
            return Action.LONG
        if signal.probability <= 1.0 - rules.probability_threshold and (
            signal.expected_value <= -rules.expected_value_threshold
        ):
            return Action.SHORT
        return None

    @staticmethod
    def _win(signal: Signal, direction: Action) -> float:
        """The model's probability that ``direction`` is right."""
        return signal.probability if direction is Action.LONG else 1.0 - signal.probability

    @classmethod
    def _conviction(cls, signal: Signal, direction: Action) -> float:
        return signal.conviction if signal.conviction is not None else cls._win(signal, direction)

    def _manage(
        self, symbol: str, signal: Signal, position: Decimal, status: StrategyStatus
    ) -> ExecutionDecision | None:
        direction = self._direction(signal)
        against = Action.SHORT if position > 0 else Action.LONG
        if status is StrategyStatus.HALTED:
            reason = f"halted: {self._governor.reason}"
        elif direction is against:
            reason = "signal flipped against the position"
        else:
            return None
        return ExecutionDecision(
            Action.CLOSE,
            symbol,
            size=abs(position),
            confidence=self._conviction(signal, against),
            metadata={"reason": reason, "position": position},
        )

    def _hold(self, symbol: str, reason: str) -> ExecutionDecision:
        return ExecutionDecision(Action.HOLD, symbol, size=ZERO, metadata={"reason": reason})

    def _enter(self, symbol: str, signal: Signal, status: StrategyStatus) -> ExecutionDecision | None:
        direction = self._direction(signal)
        if direction is None:
            return None
        conviction = self._conviction(signal, direction)
        if conviction < self.config.signal_generation.min_conviction:
            return None
        if status is not StrategyStatus.ACTIVE:
            return self._hold(symbol, f"{status}: {self._governor.reason}")
        open_elsewhere = [s for s in self._open_symbols() if s != symbol]
        if len(open_elsewhere) >= self.config.portfolio.max_concurrent_positions:
            limit = self.config.portfolio.max_concurrent_positions
            return self._hold(symbol, f"max_concurrent_positions {limit} reached")

        equity = self._ledger.equity
        fraction = size_fraction(
            self.config.position_sizing,
            self.config.risk_controls,
            win_probability=self._win(signal, direction),
            volatility=signal.volatility,
            payoff_ratio=signal.payoff_ratio,
        )
        fraction = min(fraction, self._sector_headroom(symbol, equity))
        size = units_for(equity, fraction, signal.price)
        if size <= 0:
            return self._hold(symbol, "no size left: sizing, sector exposure or equity allow none")

        notional = size * signal.price
        return ExecutionDecision(
            direction,
            symbol,
            size=size,
            confidence=conviction,
            expected_profit=notional * abs(Decimal(repr(signal.expected_value))),
            max_risk=self._risk(notional, signal.volatility),
            metadata={"reason": "entry", "size_pct": fraction, "probability": signal.probability},
        )

    @staticmethod
    def _risk(notional: Decimal, volatility: float | None) -> Decimal:
        """A two-sigma adverse move of one bar; the whole notional when volatility is unknown."""
        if not volatility:
            return notional
        return notional * min(Decimal(1), _TWO * Decimal(repr(volatility)))

    # ------------------------------------------------------------------ portfolio

    def _open_symbols(self) -> set[str]:
        symbols = {s for s, q in self._reported_positions.items() if q != 0}
        symbols.update(s for s in self._ledger.open_symbols() if s not in self._reported_positions)
        return symbols

    def _exposure(self, symbol: str) -> Decimal:
        reported = self._reported_positions.get(symbol)
        if reported is None:
            return self._ledger.exposure(symbol)
        mark = self._ledger.mark_price(symbol) or ZERO
        return abs(reported) * mark

    def _sector_headroom(self, symbol: str, equity: Decimal) -> Decimal:
        """The fraction of equity the symbol's sector can still take."""
        if equity <= 0:
            return ZERO
        portfolio = self.config.portfolio
        sector = portfolio.sector_of(symbol)
        used = sum(
            (self._exposure(s) for s in self._open_symbols() if portfolio.sector_of(s) == sector),
            ZERO,
        )
        return max(portfolio.max_sector_exposure - used / equity, ZERO)

    # ------------------------------------------------------------------ time

    def _today(self) -> dt.date:
        if self._last_time is not None:
            return self._last_time.astimezone(dt.UTC).date()
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC).date()
