"""Binance's IP request-weight and account order-count limits, with 429 and the 418 ban.

Windows are fixed and aligned to the clock (a minute, ten seconds, a day), as Binance's are;
the used weight and order counts go back to the client in ``X-MBX-USED-WEIGHT-1M`` and
``X-MBX-ORDER-COUNT-10S`` / ``-1D`` headers.  A client that keeps sending while told to wait
(``Retry-After``) is banned with 418.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from autotrader_binance.venue.exchange import VenueError

__all__ = ["RateLimits", "TooMany"]


class TooMany(VenueError):
    """429 or 418 with the seconds to wait."""

    def __init__(self, code: int, msg: str, *, status: int, retry_after: int) -> None:
        super().__init__(code, msg, status=status)
        self.retry_after = retry_after


@dataclass
class _Window:
    length_ms: int
    start: int = 0
    count: int = 0

    def roll(self, now_ms: int) -> None:
        start = now_ms - now_ms % self.length_ms
        if start != self.start:
            self.start, self.count = start, 0

    def seconds_left(self, now_ms: int) -> int:
        return max(1, math.ceil((self.start + self.length_ms - now_ms) / 1000))


@dataclass
class RateLimits:
    weight_per_minute: int = 6000
    orders_per_10s: int = 100
    orders_per_day: int = 200000
    ban_after: int = 3
    """Requests sent while a Retry-After is pending before the IP is banned."""
    ban_seconds: int = 120
    weight: _Window = field(default_factory=lambda: _Window(60_000))
    orders_10s: _Window = field(default_factory=lambda: _Window(10_000))
    orders_day: _Window = field(default_factory=lambda: _Window(86_400_000))
    _retry_until_ms: int = 0
    _violations: int = 0
    _banned_until_ms: int = 0

    def declared(self) -> list[dict[str, Any]]:
        """``exchangeInfo.rateLimits``."""
        return [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.weight_per_minute,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": self.orders_per_10s,
            },
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": self.orders_per_day},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
        ]

    def told_to_wait(self, now_ms: int, retry_after_s: float) -> None:
        """Remember a 429 (real or injected): requests before it expires count towards a ban."""
        self._retry_until_ms = max(self._retry_until_ms, now_ms + int(retry_after_s * 1000))
        self._violations = 0

    def ban(self, now_ms: int, seconds: int) -> None:
        self._banned_until_ms = now_ms + seconds * 1000

    def _check_ban(self, now_ms: int) -> None:
        if now_ms < self._banned_until_ms:
            seconds = math.ceil((self._banned_until_ms - now_ms) / 1000)
            raise TooMany(
                -1003,
                f"Way too much request weight used; IP banned until {self._banned_until_ms}. "
                "Please use WebSocket Streams for live updates to avoid bans.",
                status=418,
                retry_after=seconds,
            )
        if now_ms < self._retry_until_ms:
            self._violations += 1
            if self._violations >= self.ban_after:
                self.ban(now_ms, self.ban_seconds)
                self._check_ban(now_ms)

    def charge(self, now_ms: int, weight: int) -> None:
        """Count a request's weight; raise 418/429 if the IP is banned or over its limit."""
        self._check_ban(now_ms)
        self.weight.roll(now_ms)
        if self.weight.count + weight > self.weight_per_minute:
            retry = self.weight.seconds_left(now_ms)
            self.told_to_wait(now_ms, retry)
            raise TooMany(
                -1003,
                f"Too much request weight used; current limit is {self.weight_per_minute} request weight "
                "per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
                status=429,
                retry_after=retry,
            )
        self.weight.count += weight

    def count_order(self, now_ms: int) -> None:
        for window, limit, label in (
            (self.orders_10s, self.orders_per_10s, "10 SECOND"),
            (self.orders_day, self.orders_per_day, "1 DAY"),
        ):
            window.roll(now_ms)
            if window.count + 1 > limit:
                retry = window.seconds_left(now_ms)
                self.told_to_wait(now_ms, retry)
                raise TooMany(
                    -1015,
                    f"Too many new orders; current limit is {limit} orders per {label}.",
                    status=429,
                    retry_after=retry,
                )
        self.orders_10s.count += 1
        self.orders_day.count += 1

    def weight_headers(self, now_ms: int) -> dict[str, str]:
        self.weight.roll(now_ms)
        return {"X-MBX-USED-WEIGHT-1M": str(self.weight.count)}

    def order_headers(self, now_ms: int) -> dict[str, str]:
        self.orders_10s.roll(now_ms)
        self.orders_day.roll(now_ms)
        return {
            "X-MBX-ORDER-COUNT-10S": str(self.orders_10s.count),
            "X-MBX-ORDER-COUNT-1D": str(self.orders_day.count),
        }
