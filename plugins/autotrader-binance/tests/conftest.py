"""Fixtures of the plugin's own tests, and a guard: python-binance must understand every message.

When the library cannot decode or route a message it does not raise to us: it logs (``JSON Value
Error parsing message``, ``WS api receieved unknown message``...) and drops the message, or
stops its reader.  A venue shape the real client cannot read would pass unnoticed, so every
test fails if the library logged such a line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Final

import pytest
from autotrader.testing.harness import HarnessSession

from autotrader_binance.harness import harness

LIBRARY_LOGGER: Final = "binance"
UNDECODABLE: Final = re.compile(
    r"parsing message|decompress|unknown message|receieved unknown|Unknown exception", re.IGNORECASE
)
"""The log lines python-binance 1.0.37 writes when it could not decode or route a message."""


class UndecodableMessages(logging.Handler):
    """Collects the library's complaints about messages it could not read."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.complaints: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if UNDECODABLE.search(message):
            self.complaints.append(f"{record.name}: {message}")


@pytest.fixture(autouse=True)
def undecodable_messages() -> Iterator[UndecodableMessages]:
    guard = UndecodableMessages()
    logger = logging.getLogger(LIBRARY_LOGGER)
    logger.addHandler(guard)
    try:
        yield guard
    finally:
        logger.removeHandler(guard)
    if guard.complaints:
        pytest.fail("python-binance could not read a venue message:\n" + "\n".join(guard.complaints))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def session() -> AsyncIterator[HarnessSession]:
    async with harness() as running:
        yield running
