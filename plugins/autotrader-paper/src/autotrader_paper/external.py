"""The paper plugin's ExternalVenue: the venue's state file, for engines in other processes.

The paper venue lives in whichever process holds its adapter, so the venue that outlives an
engine process is its :attr:`PaperConfig.state_file`.  The engine process opens it through the
plugin's own factory (``state_file`` is one of the broker settings handed over); the control
here opens the same file, acts, and closes it again, so it can act only while no engine holds
the venue, the way a venue has one set of books.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import attrs

from autotrader.model import Balance
from autotrader.testing.harness import ExternalVenue, Fault, LedgerOrder, LedgerTrade, VenueControl
from autotrader_paper.adapter import PaperTradingAdapter
from autotrader_paper.config import PaperConfig
from autotrader_paper.harness import HARNESS_CONFIG
from autotrader_paper.venue import DurablePaperVenue, PaperVenue

__all__ = ["PaperFileControl", "broker_settings", "external_venue"]

T = TypeVar("T")
SYMBOL = "BTCUSDT"
PRICE = Decimal("50000")


def broker_settings(config: PaperConfig) -> dict[str, Any]:
    """``config`` as the JSON-serialisable keyword arguments of the plugin's factory."""
    return {
        "initial_balance": str(config.initial_balance),
        "latency_ms": list(config.latency_ms),
        "slippage_bps": str(config.slippage_bps),
        "commission_bps": str(config.commission_bps),
        "fill_probability": config.fill_probability,
        "seed": config.seed,
        "currency": config.currency,
        "reconnect_delay": config.reconnect_delay,
        "request_timeout": config.request_timeout,
        "state_file": str(config.state_file) if config.state_file is not None else None,
    }


class PaperFileControl(VenueControl):
    """Acts on the venue in the state file, opening it (as the engine process would) per call.

    Faults are armed inside a venue's process, so none can be injected from here.
    """

    supported_faults = frozenset()

    def __init__(self, config: PaperConfig) -> None:
        assert config.state_file is not None, "a file control needs a state file"
        self.config = config

    @contextmanager
    def _venue(self) -> Iterator[PaperVenue]:
        venue = PaperTradingAdapter(config=self.config).venue  # built as the engine's adapter builds it
        assert isinstance(venue, DurablePaperVenue)
        try:
            yield venue
        finally:
            venue.close()

    def _read(self, read: Callable[[PaperVenue], T]) -> T:
        with self._venue() as venue:
            return read(venue)

    async def set_price(self, symbol: str, price: Decimal) -> None:
        with self._venue() as venue:
            venue.set_price(symbol, price)

    async def set_liquidity(self, symbol: str, quantity: Decimal | None) -> None:
        with self._venue() as venue:
            venue.set_liquidity(symbol, quantity)

    async def inject(
        self,
        fault: Fault,
        *,
        count: int = 1,
        reason: str = "injected by the conformance suite",
        retry_after: float = 1.0,
    ) -> None:
        raise ValueError(f"the paper venue's file cannot inject {fault.value}: faults live in its process")

    async def orders(self) -> list[LedgerOrder]:
        return self._read(PaperVenue.ledger_orders)

    async def trades(self) -> list[LedgerTrade]:
        return self._read(PaperVenue.ledger_trades)

    async def balances(self) -> list[Balance]:
        return self._read(PaperVenue.balances)


@asynccontextmanager
async def external_venue(config: PaperConfig = HARNESS_CONFIG) -> AsyncIterator[ExternalVenue]:
    """A fresh state file (in a temporary folder) priced at ``PRICE``; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="autotrader-paper-") as folder:
        durable = attrs.evolve(config, state_file=Path(folder) / "venue.sqlite")
        control = PaperFileControl(durable)
        await control.set_price(SYMBOL, PRICE)
        yield ExternalVenue(
            control=control,
            broker_config=broker_settings(durable),
            environment={},
            symbol=SYMBOL,
            price=PRICE,
            quantity=Decimal("0.01"),
            tick=Decimal("0.01"),
        )
