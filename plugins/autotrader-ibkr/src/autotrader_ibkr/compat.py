"""The IB client library: ib_async (the default), or ib_insync.

ib_async is the maintained continuation of ib_insync (whose author died in 2024, so it can no
longer be released) with the same API.  The adapter imports the library only from here and uses
only what both share, so the same code runs on either.  The two cannot share an environment
(both install the ``eventkit`` package), so the choice is normally made by what is installed:
ib_async if it imports, else ib_insync.  ``AUTOTRADER_IBKR_LIBRARY=ib_insync`` (or ``ib_async``)
insists on one, and fails at import if that one is missing rather than quietly using the other.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any, Final

__all__ = [
    "ENV_VAR",
    "IB",
    "LIBRARIES",
    "LIBRARY",
    "CommissionReport",
    "Contract",
    "Execution",
    "Fill",
    "Order",
    "Ticker",
    "Trade",
    "market_data_req_id",
]

ENV_VAR: Final = "AUTOTRADER_IBKR_LIBRARY"
LIBRARIES: Final = ("ib_async", "ib_insync")


def _choose() -> str:
    wanted = os.environ.get(ENV_VAR, "").strip()
    if wanted and wanted not in LIBRARIES:
        raise ImportError(f"{ENV_VAR}={wanted!r}: choose one of {', '.join(LIBRARIES)}")
    for name in (wanted,) if wanted else LIBRARIES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        return name
    if wanted:
        raise ImportError(f"{ENV_VAR}={wanted} but {wanted} is not installed (pip install {wanted})")
    raise ImportError("autotrader-ibkr needs ib_async (pip install ib_async) or ib_insync")


if TYPE_CHECKING:
    from ib_async import IB, CommissionReport, Contract, Execution, Fill, Order, Ticker, Trade

    LIBRARY: str = "ib_async"
else:
    LIBRARY = _choose()
    _lib = importlib.import_module(LIBRARY)
    IB = _lib.IB
    CommissionReport = _lib.CommissionReport
    Contract = _lib.Contract
    Execution = _lib.Execution
    Fill = _lib.Fill
    Order = _lib.Order
    Ticker = _lib.Ticker
    Trade = _lib.Trade


def market_data_req_id(ib: Any, ticker: Any) -> int:
    """The request id of ``ticker``'s streaming REQ_MKT_DATA (0: none).

    ``IB.reqMktData`` returns only the ticker, but TWS names the subscription by its request id
    in errors (354, 200, 10167...).  Both libraries keep the pairing in the same place, the
    wrapper's ``ticker2ReqId["mktData"]``, which is what their own ``cancelMktData`` reads.
    """
    return int(ib.wrapper.ticker2ReqId["mktData"].get(ticker, 0))
