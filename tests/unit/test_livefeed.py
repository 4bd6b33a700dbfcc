"""LiveFeed: a broker's quotes as bars, on the paper broker's own price moves (asyncio and trio)."""

from __future__ import annotations

from decimal import Decimal

import anyio
import pytest

from autotrader.errors import ConfigError
from autotrader.launch import RunSettings, launch
from autotrader.livefeed import LiveFeed
from autotrader_paper import PaperTradingAdapter

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def connected_paper() -> PaperTradingAdapter:
    adapter = PaperTradingAdapter(latency_ms=(0, 0), seed=1)
    await adapter.connect()
    return adapter


async def test_every_quote_is_a_bar_when_bar_seconds_is_zero() -> None:
    adapter = await connected_paper()
    adapter.update_price("EURUSD", "1.10000")
    async with LiveFeed(adapter, ["EURUSD"], bar_seconds=0, limit=3) as feed:
        snapshots = []
        first = await anext(feed)
        snapshots.append(first)
        for price in ("1.10010", "1.10020"):
            adapter.update_price("EURUSD", price)
            snapshots.append(await anext(feed))
        with pytest.raises(StopAsyncIteration):
            await anext(feed)
    prices = [snapshot["EURUSD"]["price"] for _, snapshot in snapshots]
    assert prices == [Decimal("1.10000"), Decimal("1.10010"), Decimal("1.10020")]
    data = snapshots[-1][1]["EURUSD"]
    assert data["bid"] == data["ask"] == Decimal("1.10020")
    assert {"returns", "probability", "expected_value", "timestamp"} <= set(data)
    assert not adapter.venue.price_listeners, "leaving the feed unsubscribes"
    await adapter.disconnect()


async def test_a_quiet_bar_repeats_the_last_price_and_the_first_waits_for_one() -> None:
    adapter = await connected_paper()
    async with LiveFeed(adapter, ["EURUSD"], bar_seconds=0.05, limit=2) as feed:
        async with anyio.create_task_group() as tg:

            async def first_price_later() -> None:
                await anyio.sleep(0.2)
                adapter.update_price("EURUSD", "1.2")

            tg.start_soon(first_price_later)
            started = anyio.current_time()
            _, first = await anext(feed)
            assert anyio.current_time() - started >= 0.15, "no bar before the first price"
        _, quiet = await anext(feed)
    assert first["EURUSD"]["price"] == quiet["EURUSD"]["price"] == Decimal("1.2")
    await adapter.disconnect()


async def test_a_live_paper_run_without_a_feed_is_refused_before_connecting() -> None:
    with pytest.raises(ConfigError, match="--feed"):
        await launch(RunSettings(broker="paper", live=True, symbol="EURUSD"))
    with pytest.raises(ConfigError, match="--symbol"):
        await launch(RunSettings(broker="paper", feed="paper"))


async def test_iterating_outside_async_with_is_an_error() -> None:
    adapter = await connected_paper()
    with pytest.raises(RuntimeError, match="async with"):
        await anext(LiveFeed(adapter, ["EURUSD"]))
    await adapter.disconnect()
