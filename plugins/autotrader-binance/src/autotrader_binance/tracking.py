"""What the adapter remembers of each core order: its symbol and its Binance orders ("legs").

Binance needs the symbol to find an order, and a cancel-replace leaves two Binance orders under
one client id (the core sees one order, their sum).  The memory lives in the process: after a
restart an order is found again by its client id (see ``BinanceAdapter._symbol_of``) and only its
newest leg is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from autotrader.model import ZERO, OrderRequest

__all__ = ["TrackedOrder"]


@dataclass
class TrackedOrder:
    request: OrderRequest
    legs: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)
    """Each Binance orderId of the order, with its executed quantity and quote amount."""
    replaced: set[int] = field(default_factory=set)
    """Legs cancelled by a cancel-replace: their CANCELED report is not the end of the order."""
    fills: dict[str, Decimal] = field(default_factory=dict)
    """Quantity of every fill delivered, by trade id."""
    terminal: bool = False

    @property
    def symbol(self) -> str:
        return self.request.symbol

    @property
    def settled(self) -> bool:
        """Finished, and every executed quantity was delivered as fills: nothing left to reconcile."""
        executed = sum((q for q, _ in self.legs.values()), ZERO)
        return self.terminal and sum(self.fills.values(), ZERO) >= executed

    def note(self, order_id: int, executed: Decimal, quote: Decimal) -> None:
        """A report of one leg's progress (quantities only grow, whatever order reports arrive in)."""
        old = self.legs.get(order_id, (ZERO, ZERO))
        self.legs[order_id] = (max(old[0], executed), max(old[1], quote))

    def prior(self, order_id: int) -> tuple[Decimal, Decimal]:
        """Executed quantity and quote of the legs before ``order_id``."""
        earlier = [v for oid, v in self.legs.items() if oid < order_id]
        return sum((q for q, _ in earlier), ZERO), sum((z for _, z in earlier), ZERO)
