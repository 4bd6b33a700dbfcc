"""The strategy's own account: equity from its fills, marked to the prices it sees.

``equity = initial equity + realized P&L + unrealized P&L (at the last price seen) - commissions``.
Commissions are taken to be in the account currency.  A fill seen twice (same venue and trade id)
is applied once, so an engine that replays fills after a reconnect cannot inflate the P&L.
"""

from __future__ import annotations

import collections
from decimal import Decimal
from typing import Final

from autotrader.model import ZERO, Fill, Position
from autotrader.positions import PositionBook

__all__ = ["EquityLedger"]

_REMEMBERED_FILLS: Final = 100_000
"""How many fill keys are kept for de-duplication (a replayed fill arrives soon after the first)."""


class EquityLedger:
    """Positions, marks, realized P&L and commissions of one strategy."""

    __slots__ = ("_book", "_commissions", "_initial", "_seen")

    def __init__(self, initial_equity: Decimal) -> None:
        self._initial = initial_equity
        self._book = PositionBook()
        self._commissions = ZERO
        self._seen: collections.OrderedDict[tuple[str, str], None] = collections.OrderedDict()

    def apply(self, fill: Fill) -> bool:
        """Book ``fill``; ``False`` (and nothing changes) when it was seen before."""
        if fill.key in self._seen:
            return False
        self._seen[fill.key] = None
        if len(self._seen) > _REMEMBERED_FILLS:
            self._seen.popitem(last=False)
        self._book.apply(fill)
        self._book.mark(fill.symbol, fill.price)
        self._commissions += fill.commission
        return True

    def mark(self, symbol: str, price: Decimal) -> None:
        self._book.mark(symbol, price)

    def position(self, symbol: str) -> Position:
        return self._book.get(symbol)

    def quantity(self, symbol: str) -> Decimal:
        return self._book.quantity(symbol)

    def open_symbols(self) -> list[str]:
        return list(self._book.open())

    def exposure(self, symbol: str) -> Decimal:
        """Gross value of the position at the last price seen (its average price before any)."""
        position = self._book.get(symbol)
        mark = self._book.mark_price(symbol) or position.average_price
        return abs(position.quantity) * mark

    def mark_price(self, symbol: str) -> Decimal | None:
        return self._book.mark_price(symbol)

    @property
    def initial_equity(self) -> Decimal:
        return self._initial

    @property
    def realized_pnl(self) -> Decimal:
        return self._book.realized_pnl()

    @property
    def unrealized_pnl(self) -> Decimal:
        return self._book.unrealized_pnl()

    @property
    def commissions(self) -> Decimal:
        return self._commissions

    @property
    def equity(self) -> Decimal:
        return self._initial + self.realized_pnl + self.unrealized_pnl - self._commissions
