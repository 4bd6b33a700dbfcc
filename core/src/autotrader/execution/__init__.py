"""The seed API's import path: ``from autotrader.execution import ExecutionEngine, ...``.

Everything here lives in :mod:`autotrader.engine`; this module only keeps the names users know.
"""

from autotrader.engine import ExecutionConfig, ExecutionEngine, KillSwitch
from autotrader.oms import OrderManager
from autotrader.resiliency import ConnectionPool, ResiliencyManager

__all__ = [
    "ConnectionPool",
    "ExecutionConfig",
    "ExecutionEngine",
    "KillSwitch",
    "OrderManager",
    "ResiliencyManager",
]
