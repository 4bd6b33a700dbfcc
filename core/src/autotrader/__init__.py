"""autotrader: strategy decisions to broker orders, safely.

The seed API's names are importable from here (``from autotrader import ExecutionEngine``).
"""

from __future__ import annotations

from autotrader.capabilities import Capabilities
from autotrader.credentials import Secret
from autotrader.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    AutotraderError,
    BrokerError,
    CircuitOpenError,
    ConfigError,
    InvalidOrder,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    RiskRejected,
    TransientError,
    UnsupportedBackend,
)
from autotrader.hookspecs import hookimpl
from autotrader.model import (
    Balance,
    ClientOrderIdFactory,
    Fill,
    Instrument,
    ModifyRequest,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    TimeInForce,
)
from autotrader.plugins import BrokerRegistry, BrokerSpec

__version__ = "0.1.0"

# Heavier parts load on first use so that `import autotrader` (and `autotrader brokers`) stay fast.
_LAZY = {
    "BrokerAdapter": "autotrader.adapter",
    "BaseBrokerAdapter": "autotrader.adapter",
    "ExecutionEngine": "autotrader.engine",
    "ExecutionConfig": "autotrader.engine",
    "KillSwitch": "autotrader.engine",
    "TradingState": "autotrader.risk",
    "RiskLimits": "autotrader.risk",
    "OrderManager": "autotrader.oms",
    "ResiliencyManager": "autotrader.resiliency",
    "ConnectionPool": "autotrader.resiliency",
    "CircuitBreaker": "autotrader.resiliency",
    "TradingStrategy": "autotrader.strategy",
    "StrategyConfig": "autotrader.strategy",
    "ExecutionDecision": "autotrader.strategy",
    "Strategy": "autotrader.strategy",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'autotrader' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "AmbiguousOutcome",
    "AuthenticationError",
    "AutotraderError",
    "Balance",
    "BaseBrokerAdapter",
    "BrokerAdapter",
    "BrokerError",
    "BrokerRegistry",
    "BrokerSpec",
    "Capabilities",
    "CircuitBreaker",
    "CircuitOpenError",
    "ClientOrderIdFactory",
    "ConfigError",
    "ConnectionPool",
    "ExecutionConfig",
    "ExecutionDecision",
    "ExecutionEngine",
    "Fill",
    "Instrument",
    "InvalidOrder",
    "KillSwitch",
    "ModifyRequest",
    "Order",
    "OrderManager",
    "OrderNotFound",
    "OrderRejected",
    "OrderRequest",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "Position",
    "RateLimited",
    "ResiliencyManager",
    "RiskLimits",
    "RiskRejected",
    "Secret",
    "Strategy",
    "StrategyConfig",
    "TimeInForce",
    "TradingState",
    "TradingStrategy",
    "TransientError",
    "UnsupportedBackend",
    "hookimpl",
]
