"""The one thing the engine knows about a strategy: the :class:`Strategy` protocol.

Any object with these four members can be driven by the engine; :class:`TradingStrategy` is only
the reference implementation.  The protocol is runtime-checkable so the engine can refuse a
wrong object early with a clear message (``isinstance(obj, Strategy)``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from autotrader.model import Fill
from autotrader.strategy.decision import ExecutionDecision

__all__ = ["Strategy", "StrategyStatus"]


class StrategyStatus(enum.StrEnum):
    """A strategy's own trading state, reported to the engine.

    ACTIVE trades; COOLDOWN opens nothing until the next trading day (daily loss limit or trade
    count reached); HALTED opens nothing until a human calls ``reset()`` (drawdown halt).
    Exits are still allowed in both, since they only reduce exposure.
    """

    ACTIVE = "ACTIVE"
    COOLDOWN = "COOLDOWN"
    HALTED = "HALTED"


@runtime_checkable
class Strategy(Protocol):
    """What the engine depends on.

    ``market_data`` is the per-symbol dict of the seed API: ``price``, ``probability``,
    ``expected_value``, ``returns`` and optionally ``volatility``, ``timestamp`` and ``position``
    (the current signed position as a Decimal, supplied by the engine).
    """

    @property
    def status(self) -> str:
        """``'ACTIVE'``, ``'COOLDOWN'`` or ``'HALTED'``."""
        ...

    @property
    def equity(self) -> Decimal:
        """Account equity as the strategy marks it (initial equity + P&L - commissions)."""
        ...

    def process_signal(self, symbol: str, market_data: Mapping[str, Any]) -> ExecutionDecision | None:
        """The decision for ``symbol`` given its latest market data, or ``None`` for nothing."""
        ...

    def on_fill(self, fill: Fill) -> None:
        """An execution of one of the strategy's orders (the engine calls this once per fill)."""
        ...
