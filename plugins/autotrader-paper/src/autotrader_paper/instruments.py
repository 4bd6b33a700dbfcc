"""The paper venue's default instruments, with filters like the real venues'."""

from __future__ import annotations

from collections.abc import Mapping

from autotrader.model import Instrument

DEFAULT_INSTRUMENTS: Mapping[str, Instrument] = {
    i.symbol: i
    for i in (
        Instrument(
            "BTCUSDT",
            "BTC",
            "USDT",
            tick_size="0.01",
            lot_size="0.00001",
            min_quantity="0.00001",
            max_quantity="9000",
            min_notional="5",
        ),
        Instrument(
            "ETHUSDT",
            "ETH",
            "USDT",
            tick_size="0.01",
            lot_size="0.0001",
            min_quantity="0.0001",
            max_quantity="100000",
            min_notional="5",
        ),
        Instrument(
            "BTCUSD",
            "BTC",
            "USD",
            tick_size="0.01",
            lot_size="0.00001",
            min_quantity="0.00001",
            min_notional="1",
        ),
        Instrument("EURUSD", "EUR", "USD", tick_size="0.00001", lot_size="1", min_quantity="1"),
        Instrument("GBPUSD", "GBP", "USD", tick_size="0.00001", lot_size="1", min_quantity="1"),
        Instrument("GOOG", "GOOG", "USD", tick_size="0.01", lot_size="1", min_quantity="1"),
        Instrument("AAPL", "AAPL", "USD", tick_size="0.01", lot_size="1", min_quantity="1"),
    )
}

CASH_LIKE = frozenset({"USD", "USDT", "USDC"})
"""Quote assets the paper account settles in its one cash balance."""
