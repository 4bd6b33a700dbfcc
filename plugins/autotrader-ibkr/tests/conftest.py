"""Shared fixtures: asyncio only (the IB libraries are asyncio), a guard against dropped messages.

The IB client libraries log and drop a message they cannot decode instead of raising, so every
test here runs inside a :class:`~autotrader_ibkr.decode_guard.DecodeGuard` and fails if the
library reported one (tests that drive the client without the harness are covered too).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from autotrader.testing.harness import HarnessSession

from autotrader_ibkr.decode_guard import DecodeGuard
from autotrader_ibkr.harness import harness


@pytest.fixture(autouse=True)
def undecodable_messages_fail() -> Iterator[DecodeGuard]:
    with DecodeGuard() as guard:
        yield guard
    guard.check()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def session(anyio_backend: str) -> AsyncIterator[HarnessSession]:
    async with harness() as s:
        yield s
