"""What a user does by hand: run the venue with ``python -m``, and ``autotrader run --broker binance``
against it, configured the documented way (credentials and endpoints from the environment)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from autotrader_binance.venue import DEFAULT_API_KEY, DEFAULT_API_SECRET, BinanceVenue

pytestmark = pytest.mark.anyio


async def test_the_venue_runs_by_hand_and_stops_on_sigterm() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "autotrader_binance.venue", "--port", "0", "--price", "BTCUSDT=42000.00"),
        *("--walk", "0.01", "--interval", "0.05"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        match = re.match(r"Binance venue on 127\.0\.0\.1:(\d+)", banner)
        assert match, banner
        port = int(match.group(1))
        rest = [(await asyncio.wait_for(process.stdout.readline(), 5)).decode() for _ in range(10)]
        assert any(f"BINANCE_API_URL=http://127.0.0.1:{port}/api" in line for line in rest)
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/api/v3/ticker/price?symbol=BTCUSDT"
            prices = set()
            for _ in range(5):
                async with http.get(url) as response:
                    prices.add((await response.json())["price"])
                await asyncio.sleep(0.1)
        assert len(prices) > 1  # the walk moves it
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def _prices(path: Path, bars: int = 200) -> None:
    rng, price, lines = random.Random(3), 50_000.0, ["timestamp,open,high,low,close,volume"]
    for hour in range(bars):
        opened, price = price, price * (1 + rng.gauss(0, 0.004))
        high, low = max(opened, price) * 1.001, min(opened, price) * 0.999
        stamp = f"2024-01-{1 + hour // 24:02d}T{hour % 24:02d}:00:00"
        lines.append(f"{stamp},{opened:.2f},{high:.2f},{low:.2f},{price:.2f},1")
    path.write_text("\n".join(lines) + "\n")


async def test_autotrader_run_trades_against_the_venue(tmp_path: Path) -> None:
    data = tmp_path / "btc.csv"
    _prices(data)
    async with BinanceVenue() as venue:
        env = {
            **os.environ,
            "BINANCE_API_KEY": DEFAULT_API_KEY,
            "BINANCE_API_SECRET": DEFAULT_API_SECRET,
            "BINANCE_API_URL": venue.rest_url,
            "BINANCE_WS_API_URL": venue.ws_api_url,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "autotrader", "run", "--broker", "binance", "--data", str(data), "--symbol", "BTCUSDT"),
            *("--no-progress", "--no-report", "--json", "--set", "broker_config.symbols=[BTCUSDT]"),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, err.decode()[-2000:]
        summary = json.loads(out)
        orders, trades = venue.exchange.orders, venue.exchange.trades
    assert summary["status"]["broker"] == "binance"
    assert int(summary["orders"]) == len(orders) > 0  # every order the run made reached the venue once
    assert int(summary["fills"]) == len(trades) > 0
    assert summary["status"]["positions"] == {}  # flattened at the end
    assert not [o for o in orders if o.is_open]
