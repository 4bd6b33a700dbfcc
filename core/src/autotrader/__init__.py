"""autotrader: strategy decisions to broker orders, safely.

The seed API's names are importable from here (``from autotrader import ExecutionEngine``).
"""

from __future__ import annotations

from autotrader.adapter import BaseBrokerAdapter, BrokerAdapter, Capabilities
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
    "CircuitOpenError",
    "ClientOrderIdFactory",
    "ConfigError",
    "Fill",
    "Instrument",
    "InvalidOrder",
    "ModifyRequest",
    "Order",
    "OrderNotFound",
    "OrderRejected",
    "OrderRequest",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "Position",
    "RateLimited",
    "RiskRejected",
    "Secret",
    "TimeInForce",
    "TransientError",
    "UnsupportedBackend",
    "hookimpl",
]
