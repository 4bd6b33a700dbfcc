"""Keeping under Binance's limits: request weight per minute and new orders per 10 s / day.

The venue's own count comes back on every answer (``X-MBX-USED-WEIGHT-1M``,
``X-MBX-ORDER-COUNT-10S``, ``-1D``); the limits come from ``exchangeInfo.rateLimits``.  Before a
request leaves, the budget waits for the next window if the request would cross a limit, and
refuses outright while a ``Retry-After`` (429) or a ban (418) is pending.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from autotrader.errors import RateLimited

__all__ = ["RequestBudget"]

_WEIGHT_HEADER: Final = "X-MBX-USED-WEIGHT-1M"
_ORDERS_HEADER: Final = "X-MBX-ORDER-COUNT-"
_INTERVAL_SECONDS: Final = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}


@dataclass
class _Counter:
    """Use within one fixed, clock-aligned window (Binance's windows are)."""

    limit: int
    window: float
    header: str = ""
    """The answer header carrying the venue's count (``X-MBX-ORDER-COUNT-10S``...)."""
    used: int = 0
    window_start: float = 0.0

    def roll(self, now: float) -> None:
        start = now - now % self.window
        if start != self.window_start:
            self.window_start, self.used = start, 0

    def seconds_left(self, now: float) -> float:
        return self.window_start + self.window - now


@dataclass
class RequestBudget:
    clock: Callable[[], float] = time.time
    weight: _Counter = field(default_factory=lambda: _Counter(6000, 60, _WEIGHT_HEADER))
    orders: dict[str, _Counter] = field(
        default_factory=lambda: {
            "10S": _Counter(100, 10, _ORDERS_HEADER + "10S"),
            "1D": _Counter(200000, 86400, _ORDERS_HEADER + "1D"),
        }
    )
    blocked_until: float = 0.0
    banned: bool = False

    def configure(self, rate_limits: Iterable[Mapping[str, Any]]) -> None:
        """Adopt the limits ``exchangeInfo`` declares."""
        for item in rate_limits:
            seconds = _INTERVAL_SECONDS.get(str(item.get("interval")), 0) * int(item.get("intervalNum", 1))
            if not seconds:
                continue
            kind = item.get("rateLimitType")
            if kind == "REQUEST_WEIGHT" and seconds == 60:
                self.weight = _Counter(int(item["limit"]), 60, _WEIGHT_HEADER)
            elif kind == "ORDERS":
                key = f"{int(item.get('intervalNum', 1))}{str(item['interval'])[0]}"
                self.orders[key] = _Counter(int(item["limit"]), seconds, _ORDERS_HEADER + key)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Take the venue's counts from an answer's headers (they include other clients on the IP)."""
        now = self.clock()
        for counter in (self.weight, *self.orders.values()):
            count = headers.get(counter.header)
            if count is not None and count.isdigit():
                counter.roll(now)
                counter.used = max(counter.used, int(count))

    def block(self, retry_after: float | None, *, ban: bool = False) -> None:
        """A 429/418 said to wait: nothing is sent until then (Binance bans those who don't)."""
        wait = retry_after if retry_after is not None else (120.0 if ban else 1.0)
        self.blocked_until = max(self.blocked_until, self.clock() + wait)
        self.banned = self.banned or ban

    def check(self) -> None:
        now = self.clock()
        if now < self.blocked_until:
            kind = "IP banned" if self.banned else "rate limited"
            raise RateLimited(
                f"binance {kind}: waiting for Retry-After",
                retry_after=self.blocked_until - now,
                ban=self.banned,
            )
        self.banned = False

    async def wait_until_allowed(self) -> None:
        """Sleep out a pending Retry-After or ban (for senders that must get through eventually)."""
        delay = self.blocked_until - self.clock()
        if delay > 0:
            await asyncio.sleep(delay)

    async def acquire(self, weight: int, *, order: bool = False) -> None:
        """Refuse while told to wait; otherwise wait (if needed) for room, then book the request."""
        self.check()
        while True:
            now = self.clock()
            delay = self._delay(now, weight, order)
            if delay <= 0:
                break
            await asyncio.sleep(delay)
        self.weight.used += weight
        if order:
            for counter in self.orders.values():
                counter.used += 1

    def _delay(self, now: float, weight: int, order: bool) -> float:
        self.weight.roll(now)
        delay = 0.0
        if self.weight.used + weight > self.weight.limit:
            delay = self.weight.seconds_left(now)
        if order:
            for counter in self.orders.values():
                counter.roll(now)
                if counter.used + 1 > counter.limit:
                    delay = max(delay, counter.seconds_left(now))
        return delay
