"""autotrader-binance: the Binance spot broker for autotrader."""

__version__ = "0.1.0"
