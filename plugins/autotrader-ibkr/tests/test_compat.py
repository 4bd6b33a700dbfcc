"""Which IB client library the plugin runs on, and that the choice is honoured."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from autotrader_ibkr import compat


def test_the_library_in_use_is_the_one_asked_for() -> None:
    wanted = os.environ.get(compat.ENV_VAR)
    if wanted:
        assert wanted == compat.LIBRARY
    assert compat.LIBRARY in compat.LIBRARIES
    for name in ("IB", "Contract", "Order", "Trade", "Fill", "Execution", "CommissionReport", "Ticker"):
        assert getattr(compat, name).__module__.split(".")[0] == compat.LIBRARY


def test_the_market_data_request_id_is_read_where_the_library_keeps_it() -> None:
    ib = compat.IB()
    contract = compat.Contract(conId=265598, exchange="SMART")
    ticker = ib.wrapper.startTicker(41, contract, "mktData")  # what IB.reqMktData does before sending
    assert compat.market_data_req_id(ib, ticker) == 41
    ib.wrapper.endTicker(ticker, "mktData")  # what IB.cancelMktData does
    assert compat.market_data_req_id(ib, ticker) == 0


def _import_compat(value: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import autotrader_ibkr.compat as c; print(c.LIBRARY)"],
        env={**os.environ, compat.ENV_VAR: value},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_insisting_on_a_missing_library_fails_instead_of_using_the_other() -> None:
    other = next(name for name in compat.LIBRARIES if name != compat.LIBRARY)
    result = _import_compat(other)
    assert result.returncode != 0
    assert f"{compat.ENV_VAR}={other} but {other} is not installed" in result.stderr


@pytest.mark.parametrize("value", ["ib-async", "ibapi"])
def test_an_unknown_library_name_is_refused(value: str) -> None:
    result = _import_compat(value)
    assert result.returncode != 0 and "choose one of ib_async, ib_insync" in result.stderr
