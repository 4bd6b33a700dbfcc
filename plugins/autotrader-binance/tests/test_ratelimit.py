"""The request budget: Binance's declared limits, the venue's counts, and Retry-After (fake clock)."""

from __future__ import annotations

import asyncio

import pytest
from autotrader.errors import RateLimited

from autotrader_binance.ratelimit import RequestBudget

pytestmark = pytest.mark.anyio

DECLARED = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 30},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 2},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 1000},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
]


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(1_800_000_000.0)  # on a minute (and ten-second) boundary
    monkeypatch.setattr(asyncio, "sleep", fake.sleep)
    return fake


def budget(clock: FakeClock) -> RequestBudget:
    b = RequestBudget(clock=clock)
    b.configure(DECLARED)
    return b


def test_the_declared_limits_are_adopted(clock: FakeClock) -> None:
    b = budget(clock)
    assert (b.weight.limit, b.weight.window) == (30, 60)
    assert {k: (c.limit, c.window) for k, c in b.orders.items()} == {"10S": (2, 10), "1D": (1000, 86400)}


async def test_a_request_over_the_weight_limit_waits_for_the_next_minute(clock: FakeClock) -> None:
    b = budget(clock)
    clock.now += 15
    await b.acquire(20)
    await b.acquire(10)
    assert clock.slept == []
    await b.acquire(5)  # 35 > 30: wait for the minute to turn, rather than earn a 429
    assert clock.slept == [45] and b.weight.used == 5


async def test_new_orders_wait_for_the_ten_second_window(clock: FakeClock) -> None:
    b = budget(clock)
    await b.acquire(1, order=True)
    await b.acquire(1, order=True)
    await b.acquire(1)  # a query is not an order
    assert clock.slept == []
    await b.acquire(1, order=True)
    assert clock.slept == [10] and b.orders["10S"].used == 1 and b.orders["1D"].used == 3


async def test_the_venues_counts_are_taken_from_the_headers(clock: FakeClock) -> None:
    """Other programs on the same IP or account use the same budget: the venue's count wins."""
    b = budget(clock)
    b.observe({"X-MBX-USED-WEIGHT-1M": "29", "X-MBX-ORDER-COUNT-10S": "2", "X-MBX-ORDER-COUNT-1D": "7"})
    assert (b.weight.used, b.orders["10S"].used, b.orders["1D"].used) == (29, 2, 7)
    b.observe({"X-MBX-USED-WEIGHT-1M": "3"})  # an older answer arriving late never lowers the count
    assert b.weight.used == 29
    await b.acquire(1, order=True)
    assert clock.slept == [10]


async def test_retry_after_is_honoured_and_a_ban_says_so(clock: FakeClock) -> None:
    b = budget(clock)
    b.block(5.0)
    with pytest.raises(RateLimited) as limited:
        await b.acquire(1)
    assert limited.value.retry_after == 5.0 and not limited.value.ban
    clock.now += 5
    await b.acquire(1)
    b.block(120.0, ban=True)
    with pytest.raises(RateLimited) as banned:
        b.check()
    assert banned.value.ban and banned.value.retry_after == 120.0
    b.block(None)  # a 429 without Retry-After still waits a moment
    assert b.blocked_until >= clock.now + 1
