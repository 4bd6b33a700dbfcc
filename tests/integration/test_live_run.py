"""``autotrader run --live`` and ``--feed``: a run on live quotes from the OANDA plugin's local v20
venue, whose prices a thread keeps moving; the real oandapyV20 client streams them."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from autotrader.testing.support import run_cli

pytest.importorskip("autotrader_oanda")

from autotrader_oanda.venue import Exchange, VenueServer

BARS = 60


@pytest.fixture
def moving_venue() -> Iterator[tuple[VenueServer, str]]:
    """The local v20 venue with EUR_USD walking up and down every 20 ms."""
    token = secrets.token_urlsafe(16)
    server = VenueServer(Exchange(), token=token, heartbeat_interval=0.5).start()
    stop = threading.Event()

    def walk() -> None:
        step = 0
        while not stop.wait(0.02):
            step += 1
            offset = Decimal(step % 40 - 20) * Decimal("0.00005")
            server.set_price("EUR_USD", Decimal("1.10000") + offset)

    walker = threading.Thread(target=walk, daemon=True)
    walker.start()
    try:
        yield server, token
    finally:
        stop.set()
        walker.join(5)
        server.stop()


def oanda_settings(server: VenueServer) -> dict[str, Any]:
    return {
        "account_id": server.exchange.account_id,
        "environment": f"live-test-{server.port}",
        "api_url": server.url,
        "stream_url": server.url,
    }


def run(config: dict[str, Any], token: str, tmp_path: Path, *args: str) -> dict[str, Any]:
    return run_cli(config, tmp_path, *args, env={"OANDA_ACCESS_TOKEN": token}, secrets=[token])


def test_live_run_on_the_brokers_own_quotes(moving_venue: tuple[VenueServer, str], tmp_path: Path) -> None:
    server, token = moving_venue
    config = {
        "broker": "oanda",
        "live": True,
        "symbol": "EUR_USD",
        "bar_seconds": 0.05,
        "max_bars": BARS,
        "broker_config": oanda_settings(server),
        "risk": {"check_balance": False},
    }
    summary = run(config, token, tmp_path, "--no-report")
    assert summary["bars replayed"] == str(BARS)
    assert int(summary["orders"]) > 0, "the reference strategy trades on a moving live market"
    assert summary["status"]["broker"] == "oanda"
    assert summary["status"]["positions"] == {}, "flattened at the end"
    ledger = server.call(lambda: list(server.exchange.ledger_orders))
    assert len(ledger) == int(summary["orders"])


def test_paper_trading_on_another_brokers_live_quotes(
    moving_venue: tuple[VenueServer, str], tmp_path: Path
) -> None:
    server, token = moving_venue
    config = {
        "broker": "paper",
        "feed": "oanda",
        "symbol": "EUR_USD",
        "bar_seconds": 0.05,
        "max_bars": BARS,
        "feed_config": oanda_settings(server),
    }
    summary = run(config, token, tmp_path, "--report", str(tmp_path / "report"))
    assert summary["bars replayed"] == str(BARS)
    assert int(summary["orders"]) > 0, "the reference strategy trades on a moving live market"
    assert summary["status"]["broker"] == "paper"
    assert server.call(lambda: list(server.exchange.ledger_orders)) == [], "the feed broker is not traded"
    html = Path(summary["report"]["html"]).read_text()
    assert "EUR_USD" in html
