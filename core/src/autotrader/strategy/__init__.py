"""Strategies: the :class:`Strategy` protocol the engine drives, the :class:`ExecutionDecision` a
strategy returns, and the reference :class:`TradingStrategy` with its YAML :class:`StrategyConfig`.
"""

from __future__ import annotations

from autotrader.strategy.config import (
    PortfolioConfig,
    PositionSizingConfig,
    RiskControlsConfig,
    SignalGenerationConfig,
    StrategyConfig,
)
from autotrader.strategy.decision import Action, ExecutionDecision
from autotrader.strategy.protocol import Strategy, StrategyStatus
from autotrader.strategy.reference import TradingStrategy

__all__ = [
    "Action",
    "ExecutionDecision",
    "PortfolioConfig",
    "PositionSizingConfig",
    "RiskControlsConfig",
    "SignalGenerationConfig",
    "Strategy",
    "StrategyConfig",
    "StrategyStatus",
    "TradingStrategy",
]
