"""A local OANDA v20 venue: REST and the transaction stream, spoken the way api-fxtrade does.

The unmodified oandapyV20 client talks to it once an entry pointing at it is added to
``oandapyV20.oandapyV20.TRADING_ENVIRONMENTS``.  Run it by hand with
``python -m autotrader_oanda.venue --port 8080``.
"""

from autotrader_oanda.venue.exchange import Exchange, LedgerFill
from autotrader_oanda.venue.faults import FaultPlan
from autotrader_oanda.venue.instruments import DEFAULT_INSTRUMENTS, DEFAULT_PRICES, InstrumentSpec
from autotrader_oanda.venue.server import VenueServer

__all__ = [
    "DEFAULT_INSTRUMENTS",
    "DEFAULT_PRICES",
    "Exchange",
    "FaultPlan",
    "InstrumentSpec",
    "LedgerFill",
    "VenueServer",
]
