"""The local TWS: a TWS API socket server on 127.0.0.1 for tests and by-hand runs."""

from autotrader_ibkr.tws.exchange import Exchange, default_contracts
from autotrader_ibkr.tws.faults import TwsFaults
from autotrader_ibkr.tws.server import TwsServer, running_tws

__all__ = ["Exchange", "TwsFaults", "TwsServer", "default_contracts", "running_tws"]
