from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from autotrader.testing.harness import HarnessSession

from autotrader_binance.harness import harness


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def session() -> AsyncIterator[HarnessSession]:
    async with harness() as running:
        yield running
