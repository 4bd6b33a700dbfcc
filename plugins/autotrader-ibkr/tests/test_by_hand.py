"""The local TWS as a user runs it: ``python -m autotrader_ibkr.tws`` and ``autotrader run`` against it.

Both are real processes: the TWS prints where it listens, the unmodified client connects, and
``autotrader run --config`` (the reference strategy over the bundled EURUSD bars) trades EUR.USD
there through the ibkr broker.  Only processes this test started are stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from autotrader_ibkr.compat import IB, Contract

RUN_CONFIG = """\
broker: ibkr
max_bars: 200
broker_config:
  port: {port}
  client_id: 7
  instruments:
    EURUSD: {{sec_type: CASH, symbol: EUR, currency: USD}}
"""


@contextlib.contextmanager
def tws_started(*args: str) -> Iterator[int]:
    """``python -m autotrader_ibkr.tws --port 0 ARGS``: yields the port it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "autotrader_ibkr.tws", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+) \(server version 176", line)
        assert match, line
        yield int(match.group(1))
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def tws_process() -> Iterator[int]:
    with tws_started() as port:
        yield port


@pytest.mark.anyio
async def test_the_client_connects_to_the_tws_run_by_hand(tws_process: int, anyio_backend: str) -> None:
    ib = IB()
    await ib.connectAsync("127.0.0.1", tws_process, clientId=11, timeout=5)
    try:
        assert ib.managedAccounts() == ["DU1234567"]
        assert {(v.tag, v.currency) for v in ib.accountValues()} >= {("NetLiquidation", "USD")}
    finally:
        ib.disconnect()


def test_autotrader_run_trades_on_the_tws_run_by_hand(tws_process: int, tmp_path: Path) -> None:
    config = tmp_path / "ibkr-local.yaml"
    config.write_text(RUN_CONFIG.format(port=tws_process))
    result = subprocess.run(
        [sys.executable, "-m", "autotrader", "run", "--config", str(config), "--json", "--no-report"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert int(summary["bars replayed"]) == 200
    oms = summary["status"]["oms"]
    assert oms["total_orders"] > 0 and oms["total_fills"] > 0, oms


@pytest.mark.anyio
async def test_the_tws_run_by_hand_walks_its_prices_with_walk(anyio_backend: str) -> None:
    with tws_started("--walk", "0.02") as port:
        ib = IB()
        await ib.connectAsync("127.0.0.1", port, clientId=12, timeout=5)
        try:
            ticker = ib.reqMktData(Contract(conId=265598, exchange="SMART"), "", False, False)
            bids: set[float] = set()
            for _ in range(100):
                await asyncio.sleep(0.02)
                if ticker.bid == ticker.bid:  # not NaN
                    bids.add(ticker.bid)
                if len(bids) >= 3:
                    break
            assert len(bids) >= 3, bids
            assert all(abs(bid - 100) < 0.25 for bid in bids)  # 20 ticks either side of 100.00
            assert ticker.contract is not None
            ib.cancelMktData(ticker.contract)
        finally:
            ib.disconnect()
