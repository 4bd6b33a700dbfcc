"""``autotrader run --live`` and ``--feed ibkr``: runs on live quotes from the local TWS, whose EUR.USD
price walks up and down; the client library streams them (REQ_MKT_DATA) to a real ``autotrader``
process.  The TWS runs in this process, on an event loop of its own thread, so its ledger can
be read afterwards.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from autotrader.testing.support import run_cli

from autotrader_ibkr.tws import Exchange, TwsServer, running_tws
from autotrader_ibkr.tws.walk import walk_prices
from autotrader_ibkr.tws.wire import In

BARS = 60
EUR_USD = 12087792
START = Decimal("1.10000")


@pytest.fixture
def moving_tws() -> Iterator[tuple[TwsServer, BlockingPortal]]:
    """The local TWS with EUR.USD moving one tick (0.00005) every 20 ms, 20 ticks up and down."""
    with start_blocking_portal() as portal:
        server = TwsServer(Exchange())
        with portal.wrap_async_context_manager(running_tws(server)):
            portal.call(server.set_price, EUR_USD, START)
            walk = portal.start_task_soon(
                functools.partial(walk_prices, server, {EUR_USD: START}, interval=0.02)
            )
            try:
                yield server, portal
            finally:
                walk.cancel()


def ibkr_settings(server: TwsServer, client_id: int) -> dict[str, Any]:
    return {"port": server.port, "client_id": client_id, "instruments": {"EUR.USD": "CASH"}}


def streamed(server: TwsServer, portal: BlockingPortal) -> tuple[int, int]:
    """REQ_MKT_DATA and CANCEL_MKT_DATA requests the TWS received."""
    requests = portal.call(lambda: [r[0] for r in server.requests])
    return requests.count(str(int(In.REQ_MKT_DATA))), requests.count(str(int(In.CANCEL_MKT_DATA)))


def test_live_run_on_the_brokers_own_quotes(
    moving_tws: tuple[TwsServer, BlockingPortal], tmp_path: Path
) -> None:
    server, portal = moving_tws
    config = {
        "broker": "ibkr",
        "live": True,
        "symbol": "EUR.USD",
        "bar_seconds": 0.05,
        "max_bars": BARS,
        "broker_config": ibkr_settings(server, client_id=7),
        "risk": {"check_balance": False},
    }
    summary = run_cli(config, tmp_path, "--no-report")
    assert summary["bars replayed"] == str(BARS)
    assert int(summary["orders"]) > 0, "the reference strategy trades on a moving live market"
    assert summary["status"]["broker"] == "ibkr"
    assert summary["status"]["positions"] == {}, "flattened at the end"
    ledger = portal.call(lambda: list(server.exchange.orders))
    assert len(ledger) == int(summary["orders"])
    assert {o.order_ref for o in ledger} and all(o.contract.con_id == EUR_USD for o in ledger)
    assert streamed(server, portal) == (1, 1), "one subscription, cancelled at the end"


def test_paper_trading_on_the_tws_live_quotes(
    moving_tws: tuple[TwsServer, BlockingPortal], tmp_path: Path
) -> None:
    pytest.importorskip("autotrader_paper")
    server, portal = moving_tws
    config = {
        "broker": "paper",
        "feed": "ibkr",
        "symbol": "EUR.USD",
        "bar_seconds": 0.05,
        "max_bars": BARS,
        "feed_config": ibkr_settings(server, client_id=8),
    }
    summary = run_cli(config, tmp_path, "--report", str(tmp_path / "report"))
    assert summary["bars replayed"] == str(BARS)
    assert int(summary["orders"]) > 0, "the reference strategy trades on a moving live market"
    assert summary["status"]["broker"] == "paper"
    assert portal.call(lambda: list(server.exchange.orders)) == [], "the feed broker is not traded"
    assert streamed(server, portal) == (1, 1)
    assert "EUR.USD" in Path(summary["report"]["html"]).read_text()
