"""The request wrapper: -1021 resynchronises the clock and retries exactly once."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from autotrader.errors import TransientError
from binance.exceptions import BinanceAPIException

from autotrader_binance.adapter import BinanceAdapter
from autotrader_binance.config import BinanceConfig
from autotrader_binance.errors import Operation

pytestmark = pytest.mark.anyio

SKEWED = json.dumps({"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."})


def skew_error() -> BinanceAPIException:
    return BinanceAPIException(SimpleNamespace(headers={}), 400, SKEWED)


@pytest.fixture
def adapter(monkeypatch: pytest.MonkeyPatch) -> tuple[BinanceAdapter, list[str]]:
    adapter = BinanceAdapter(BinanceConfig(api_key="k", api_secret="s"))
    calls: list[str] = []

    async def resync() -> None:
        calls.append("resync")

    monkeypatch.setattr(adapter, "_resync_clock", resync)
    adapter._client = SimpleNamespace(response=SimpleNamespace(headers={}))  # type: ignore[assignment]
    return adapter, calls


async def test_a_skewed_clock_is_resynchronised_and_the_request_sent_again(
    adapter: tuple[BinanceAdapter, list[str]],
) -> None:
    binance, calls = adapter

    async def order(**params: Any) -> dict[str, Any]:
        calls.append("send")
        if calls.count("send") == 1:
            raise skew_error()
        return {"ok": params}

    assert await binance._call(Operation.SUBMIT, 1, order, symbol="BTCUSDT") == {"ok": {"symbol": "BTCUSDT"}}
    assert calls == ["send", "resync", "send"]


async def test_a_second_minus_1021_is_not_retried_again(adapter: tuple[BinanceAdapter, list[str]]) -> None:
    binance, calls = adapter

    async def order(**params: Any) -> dict[str, Any]:
        calls.append("send")
        raise skew_error()

    with pytest.raises(TransientError) as failed:
        await binance._call(Operation.SUBMIT, 1, order)
    assert calls == ["send", "resync", "send"] and failed.value.code == -1021
