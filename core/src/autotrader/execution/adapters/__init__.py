"""The seed API's adapter path: ``from autotrader.execution.adapters import BaseBrokerAdapter``."""

from autotrader.adapter import BaseBrokerAdapter, BrokerAdapter, Capabilities
from autotrader.model import Fill, Order, OrderSide, OrderStatus, OrderType, Position

__all__ = [
    "BaseBrokerAdapter",
    "BrokerAdapter",
    "Capabilities",
    "Fill",
    "Order",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "Position",
]
