"""The paper account: cash per settlement asset, cash locked by resting buys, positions.

One cash balance in the account currency takes every instrument quoted in it *or in a USD-like
asset* when the account currency is USD-like itself (a USDT-quoted BTCUSDT settles in a USD
account, as a stablecoin margin account would).  Other quote assets settle in a balance of
their own, which starts at zero and may go negative (no FX conversion is simulated).

Shorts are allowed without a margin model: a sell credits the cash and opens a negative
position; marking positions to market gives the equity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

from autotrader.model import ZERO, Balance, Instrument, OrderSide, Position, converter

__all__ = ["USD_LIKE", "Account"]

USD_LIKE = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "TUSD", "USDP", "DAI"})
"""Quote assets that settle in a USD-like account currency."""
# Enum members the order path reads, bound once (see autotrader.model._BUY).
_BUY: Final = OrderSide.BUY


class Account:
    """Cash, reservations and positions of the single paper account."""

    def __init__(self, currency: str, initial_balance: Decimal) -> None:
        self.currency = currency
        self._cash: dict[str, Decimal] = {currency: initial_balance}
        self._locked: dict[str, Decimal] = {}
        self._positions: dict[str, Position] = {}
        self._settles_in: dict[str, str] = {}

    # ------------------------------------------------------------------ settlement
    def settlement_asset(self, instrument: Instrument) -> str:
        """Where fills of ``instrument`` are paid (cached: called on every order)."""
        asset = self._settles_in.get(instrument.symbol)
        if asset is None:
            quote = instrument.quote_asset
            cash_like = quote == self.currency or (quote in USD_LIKE and self.currency in USD_LIKE)
            asset = self.currency if cash_like else quote
            self._settles_in[instrument.symbol] = asset
        return asset

    def settle(
        self,
        symbol: str,
        asset: str,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal,
        notional: Decimal,
        commission: Decimal,
    ) -> None:
        """Book one trade: cash moves by the notional (``quantity * price``, which the caller has
        computed already) and the commission, the position by the quantity."""
        cash = self._cash.get(asset, ZERO)
        self._cash[asset] = cash - notional - commission if side is _BUY else cash + notional - commission
        position = self._positions.get(symbol)
        if position is None:
            position = Position(symbol)
        self._positions[symbol] = position.apply(side, quantity, price)

    # ------------------------------------------------------------------ reservations
    def free(self, asset: str) -> Decimal:
        return self._cash.get(asset, ZERO) - self._locked.get(asset, ZERO)

    def lock(self, asset: str, amount: Decimal) -> None:
        """Change the locked amount of ``asset`` by ``amount`` (negative releases)."""
        if amount:
            self._locked[asset] = self._locked.get(asset, ZERO) + amount

    # ------------------------------------------------------------------ views
    def cash(self, asset: str | None = None) -> Decimal:
        return self._cash.get(asset or self.currency, ZERO)

    def positions(self) -> list[Position]:
        return [p for p in self._positions.values() if p.quantity != 0]

    def position(self, symbol: str) -> Position:
        return self._positions.get(symbol) or Position(symbol)

    def all_positions(self) -> Iterable[Position]:
        """Including flat ones, whose realized P&L still counts."""
        return self._positions.values()

    def balances(self) -> list[Balance]:
        """Every settlement balance (the account currency always), free and locked by resting buys."""
        return [
            Balance(asset, free=cash - self._locked.get(asset, ZERO), locked=self._locked.get(asset, ZERO))
            for asset, cash in self._cash.items()
        ]

    # ------------------------------------------------------------------ durable state
    def to_state(self) -> dict[str, Any]:
        """Cash, locks and positions as plain data (for the venue's state file)."""
        return {
            "cash": converter.unstructure(self._cash),
            "locked": converter.unstructure(self._locked),
            "positions": [converter.unstructure(p) for p in self._positions.values()],
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Replace cash, locks and positions with what :meth:`to_state` wrote."""
        self._cash = converter.structure(state["cash"], dict[str, Decimal])
        self._locked = converter.structure(state["locked"], dict[str, Decimal])
        positions = [converter.structure(p, Position) for p in state["positions"]]
        self._positions = {p.symbol: p for p in positions}

    def equity(self, marks: Mapping[str, Decimal]) -> Decimal:
        """Account-currency cash plus its positions marked at ``marks`` (else their average price)."""
        value = self._cash.get(self.currency, ZERO)
        for symbol, position in self._positions.items():
            if self._settles_in.get(symbol, self.currency) == self.currency and position.quantity:
                value += position.quantity * marks.get(symbol, position.average_price)
        return value
