"""A local Binance spot venue that speaks Binance's real REST and WebSocket API wire protocol.

Run it by hand with ``python -m autotrader_binance.venue --port 9000``.
"""

from autotrader_binance.venue.exchange import Exchange, SymbolSpec, VenueError
from autotrader_binance.venue.faults import FaultKind
from autotrader_binance.venue.limits import RateLimits
from autotrader_binance.venue.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, BinanceVenue, default_symbols

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "BinanceVenue",
    "Exchange",
    "FaultKind",
    "RateLimits",
    "SymbolSpec",
    "VenueError",
    "default_symbols",
]
