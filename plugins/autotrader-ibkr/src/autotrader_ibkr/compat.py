"""The IB client library: ib_async, or ib_insync where only that is installed.

ib_async is the maintained continuation of ib_insync (whose author died in 2024) with the same
API.  The adapter imports the library only from here and uses only what both share, so the
same code runs on either (the two cannot share an environment: both install ``eventkit``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["IB", "LIBRARY", "CommissionReport", "Contract", "Execution", "Fill", "Order", "Trade"]

if TYPE_CHECKING:
    from ib_async import IB, CommissionReport, Contract, Execution, Fill, Order, Trade

    LIBRARY = "ib_async"
else:
    try:
        from ib_async import IB, CommissionReport, Contract, Execution, Fill, Order, Trade

        LIBRARY = "ib_async"
    except ImportError:  # pragma: no cover - exercised in the ib_insync environment
        from ib_insync import IB, CommissionReport, Contract, Execution, Fill, Order, Trade

        LIBRARY = "ib_insync"

LOGGER_PREFIX = LIBRARY
"""The library's logger names start with this (``ib_async.Decoder``, ``ib_insync.wrapper``...)."""
