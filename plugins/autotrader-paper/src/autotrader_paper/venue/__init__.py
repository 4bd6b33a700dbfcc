"""The paper venue: a deterministic in-process exchange simulator (no I/O, no clock of its own).

* :mod:`.orders` -- the venue's mutable record of one working order;
* :mod:`.account` -- cash, reservations for resting buys, positions and P&L;
* :mod:`.exchange` -- :class:`PaperVenue`: matching, stops, liquidity, ledger.

The adapter (:mod:`autotrader_paper.adapter`) plays the broker's API and stream in front of it,
the way the real-broker plugins put a client library in front of their local venue.
"""

from autotrader_paper.venue.account import Account
from autotrader_paper.venue.durable import DurablePaperVenue
from autotrader_paper.venue.exchange import VENUE, PaperVenue

__all__ = ["VENUE", "Account", "DurablePaperVenue", "PaperVenue"]
