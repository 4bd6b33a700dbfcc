"""``autotrader run --live`` and ``--feed binance`` end to end: the real command in a subprocess,
python-binance streaming the local venue's bookTicker while a task keeps its price moving."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import anyio
import pytest

from autotrader_binance.venue import DEFAULT_API_KEY, DEFAULT_API_SECRET, BinanceVenue

pytestmark = pytest.mark.anyio

BARS = 60
START = D("50000.00")


@pytest.fixture
async def moving_venue() -> AsyncIterator[BinanceVenue]:
    """The venue with BTCUSDT walking 50 USDT (0.1 %) up and down every 20 ms."""
    async with BinanceVenue() as venue:

        async def walk() -> None:
            step = 0
            while True:
                await asyncio.sleep(0.02)
                step += 1
                venue.exchange.set_price("BTCUSDT", START + D(step % 40 - 20) * D("2.50"))

        walker = asyncio.create_task(walk())
        try:
            yield venue
        finally:
            walker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await walker


async def run(venue: BinanceVenue, *args: str) -> dict[str, Any]:
    """``autotrader run ... --json`` pointed at ``venue`` the documented way (the environment)."""
    env = {
        **os.environ,
        "BINANCE_API_KEY": DEFAULT_API_KEY,
        "BINANCE_API_SECRET": DEFAULT_API_SECRET,
        "BINANCE_API_URL": venue.rest_url,
        "BINANCE_WS_API_URL": venue.ws_api_url,
        "BINANCE_STREAM_URL": venue.stream_url,
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "autotrader", "run", "--symbol", "BTCUSDT", *args),
        *("--bar-seconds", "0.05", "--max-bars", str(BARS), "--no-progress", "--json"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()[-3000:]
    assert DEFAULT_API_SECRET.encode() not in out + err
    summary: dict[str, Any] = json.loads(out)
    return summary


async def test_live_run_on_the_brokers_own_quotes(moving_venue: BinanceVenue) -> None:
    venue = moving_venue
    summary = await run(
        venue, "--broker", "binance", "--live", "--no-report", "--set", "broker_config.symbols=[BTCUSDT]"
    )
    assert summary["bars replayed"] == str(BARS)
    assert summary["status"]["broker"] == "binance"
    assert int(summary["orders"]) == len(venue.exchange.orders) > 0  # the strategy traded the moving market
    assert int(summary["fills"]) == len(venue.exchange.trades) > 0
    assert summary["status"]["positions"] == {}, "flattened at the end"
    assert not [o for o in venue.exchange.orders if o.is_open]
    assert venue.market.handshakes >= 1 and not venue.market.connections  # quotes streamed, then closed
    prices = {t.price for t in venue.exchange.trades}
    assert all(START - 50 <= p <= START + 50 for p in prices)


async def test_paper_trading_on_binances_live_quotes(moving_venue: BinanceVenue, tmp_path: Path) -> None:
    venue = moving_venue
    report = tmp_path / "report"
    summary = await run(
        venue,
        "--broker",
        "paper",
        "--feed",
        "binance",
        "--report",
        str(report),
        "--set",
        "feed_config.symbols=[BTCUSDT]",
    )
    assert summary["bars replayed"] == str(BARS)
    assert summary["status"]["broker"] == "paper"
    assert int(summary["orders"]) > 0, "the reference strategy trades on a moving live market"
    assert venue.exchange.orders == [], "the feed broker is not traded"
    assert venue.market.handshakes >= 1
    assert "BTCUSDT" in await anyio.Path(summary["report"]["html"]).read_text()
