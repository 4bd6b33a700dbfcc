"""Interactive Brokers broker for autotrader, with a local TWS speaking the socket protocol."""

__version__ = "0.1.0"
