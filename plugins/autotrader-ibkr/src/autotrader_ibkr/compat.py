"""The IB client library: ib_async (the default), or ib_insync.

ib_async is the maintained continuation of ib_insync (whose author died in 2024, so it can no
longer be released) with the same API.  The adapter imports the library only from here and uses
only what both share, so the same code runs on either.  The two cannot share an environment
(both install the ``eventkit`` package), so the choice is normally made by what is installed:
ib_async if it imports, else ib_insync.  ``AUTOTRADER_IBKR_LIBRARY=ib_insync`` (or ``ib_async``)
insists on one, and fails at import if that one is missing rather than quietly using the other.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
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
    "ExecutionFilter",
    "Fill",
    "Order",
    "Ticker",
    "Trade",
    "connect_without_history",
    "market_data_req_id",
    "request_pending",
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
    from ib_async import (
        IB,
        CommissionReport,
        Contract,
        Execution,
        ExecutionFilter,
        Fill,
        Order,
        Ticker,
        Trade,
    )

    LIBRARY: str = "ib_async"
else:
    LIBRARY = _choose()
    _lib = importlib.import_module(LIBRARY)
    IB = _lib.IB
    CommissionReport = _lib.CommissionReport
    Contract = _lib.Contract
    Execution = _lib.Execution
    ExecutionFilter = _lib.ExecutionFilter
    Fill = _lib.Fill
    Order = _lib.Order
    Ticker = _lib.Ticker
    Trade = _lib.Trade


def request_pending(ib: Any, key: str) -> bool:
    """Whether the library still collects an answer for the request kind ``key``.

    Answers without a request id (``"openOrders"``, ``"completedOrders"``) go to one slot per
    kind, kept in the wrapper's ``_futures`` until the end message arrives -- also after the
    caller stopped waiting -- in both libraries alike.
    """
    return key in ib.wrapper._futures


def market_data_req_id(ib: Any, ticker: Any) -> int:
    """The request id of ``ticker``'s streaming REQ_MKT_DATA (0: none).

    ``IB.reqMktData`` returns only the ticker, but TWS names the subscription by its request id
    in errors (354, 200, 10167...).  Both libraries keep the pairing in the same place, the
    wrapper's ``ticker2ReqId["mktData"]``, which is what their own ``cancelMktData`` reads.
    """
    return int(ib.wrapper.ticker2ReqId["mktData"].get(ticker, 0))


log = logging.getLogger(__name__)


async def connect_without_history(
    ib: Any, host: str, port: int, client_id: int, wait: float, account: str
) -> None:
    """Connect and sync positions, this client's open orders and the account -- nothing more.

    ``IB.connectAsync`` also asks for every completed order and every execution of the day
    under the connect timeout: on a busy session those answers outgrow it, and then the library
    logs a timeout (ib_async) or drops the socket it just opened (ib_insync, whose executions
    request is not guarded), so every reconnect repeats the work and fails again.  The adapter
    asks for history itself, when it needs it and with its own timeouts.  ib_async says what to
    fetch with ``fetchFields``; ib_insync cannot, so its start-up is spelled out here with the
    same calls, minus the two history requests.
    """
    if LIBRARY == "ib_async":
        from ib_async import StartupFetch

        wanted = (
            StartupFetch.POSITIONS
            | StartupFetch.ORDERS_OPEN
            | StartupFetch.ACCOUNT_UPDATES
            | StartupFetch.SUB_ACCOUNT_UPDATES
        )
        await ib.connectAsync(
            host, port, clientId=client_id, timeout=wait, account=account, fetchFields=wanted
        )
        return
    ib.wrapper.clientId = client_id
    try:
        await ib.client.connectAsync(host, port, client_id, wait)
        if client_id == 0:
            ib.reqAutoOpenOrders(True)
        accounts = ib.client.getAccounts()
        account = account or (accounts[0] if len(accounts) == 1 else "")
        requests = {"positions": ib.reqPositionsAsync(), "open orders": ib.reqOpenOrdersAsync()}
        if account:
            requests["account updates"] = ib.reqAccountUpdatesAsync(account)
        if len(accounts) <= ib.MaxSyncedSubAccounts:
            for name in accounts:
                requests[f"account updates for {name}"] = ib.reqAccountUpdatesMultiAsync(name)
        answers = await asyncio.gather(
            *(asyncio.wait_for(r, wait) for r in requests.values()), return_exceptions=True
        )
        for name, answer in zip(requests, answers, strict=True):
            if isinstance(answer, TimeoutError):
                log.warning("ibkr: the %s request at connect timed out", name)
        if not ib.client.isReady():
            raise ConnectionError("Socket connection broken while connecting")
        ib.connectedEvent.emit()
    except BaseException:
        ib.disconnect()
        raise
