"""Net positions per symbol, built only from fills the OMS accepted (so never double counted)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from autotrader.model import ZERO, Fill, Position

__all__ = ["PositionBook"]


class PositionBook:
    """Long/short positions with average price and realized P&L; marks give unrealized P&L."""

    __slots__ = ("_marks", "_positions")

    def __init__(self) -> None:
        self._positions: dict[str, Position] = {}
        self._marks: dict[str, Decimal] = {}

    def apply(self, fill: Fill) -> Position:
        current = self._positions.get(fill.symbol)
        if current is None:
            current = Position(fill.symbol)
        updated = current.apply(fill.side, fill.quantity, fill.price)
        self._positions[fill.symbol] = updated
        return updated

    def restore(self, position: Position) -> None:
        """Set a position as recovered from a journal or adopted from the venue."""
        self._positions[position.symbol] = position

    def mark(self, symbol: str, price: Decimal) -> None:
        self._marks[symbol] = price

    def mark_price(self, symbol: str) -> Decimal | None:
        return self._marks.get(symbol)

    def get(self, symbol: str) -> Position:
        return self._positions.get(symbol) or Position(symbol)

    def quantity(self, symbol: str) -> Decimal:
        position = self._positions.get(symbol)
        return position.quantity if position is not None else ZERO

    def all(self) -> Mapping[str, Position]:
        return dict(self._positions)

    def open(self) -> dict[str, Position]:
        return {s: p for s, p in self._positions.items() if p.quantity != 0}

    def realized_pnl(self) -> Decimal:
        return sum((p.realized_pnl for p in self._positions.values()), ZERO)

    def unrealized_pnl(self) -> Decimal:
        total = ZERO
        for symbol, position in self._positions.items():
            mark = self._marks.get(symbol)
            if mark is not None and position.quantity:
                total += position.unrealized_pnl(mark)
        return total

    def gross_exposure(self) -> Decimal:
        total = ZERO
        for symbol, position in self._positions.items():
            mark = self._marks.get(symbol, position.average_price)
            total += abs(position.quantity) * mark
        return total
