"""The conformance suite's handle on the paper venue: prices, liquidity, faults, ledger."""

from __future__ import annotations

from decimal import Decimal

from autotrader.model import Balance
from autotrader.testing.harness import Fault, LedgerOrder, LedgerTrade, VenueControl
from autotrader_paper.adapter import PaperTradingAdapter

__all__ = ["PaperVenueControl"]


class PaperVenueControl(VenueControl):
    """Acts on the venue directly (never through the adapter), so the suite checks the venue's truth."""

    supported_faults = frozenset(Fault)

    def __init__(self, adapter: PaperTradingAdapter) -> None:
        self.adapter = adapter
        self.venue = adapter.venue

    async def set_price(self, symbol: str, price: Decimal) -> None:
        self.venue.set_price(symbol, price)

    async def set_liquidity(self, symbol: str, quantity: Decimal | None) -> None:
        self.venue.set_liquidity(symbol, quantity)

    async def inject(
        self,
        fault: Fault,
        *,
        count: int = 1,
        reason: str = "injected by the conformance suite",
        retry_after: float = 1.0,
    ) -> None:
        faults = self.venue.faults
        faults.reason = reason
        faults.retry_after = retry_after
        if fault is Fault.DROP_STREAM:
            self.adapter.drop_stream()
        else:
            faults.arm(fault, count)

    async def orders(self) -> list[LedgerOrder]:
        return self.venue.ledger_orders()

    async def trades(self) -> list[LedgerTrade]:
        return self.venue.ledger_trades()

    async def balances(self) -> list[Balance]:
        return self.venue.balances()
