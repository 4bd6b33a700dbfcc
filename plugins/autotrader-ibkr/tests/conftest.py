"""Shared fixtures: asyncio only (the IB libraries are asyncio), a guard against undecodable messages.

The IB client libraries log and drop a message they cannot decode instead of raising, so every
test here fails if the library's decoder logged anything at ERROR: a wrong field layout in the
local TWS cannot pass silently.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from autotrader.testing.harness import HarnessSession

from autotrader_ibkr.compat import LIBRARY
from autotrader_ibkr.harness import harness

DECODER_LOGGERS = (f"{LIBRARY}.Decoder", f"{LIBRARY}.decoder")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def undecodable_messages_fail() -> Iterator[_Collect]:
    handler = _Collect()
    loggers = [logging.getLogger(name) for name in DECODER_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)
    problems = [f"{r.name}: {r.getMessage()}" for r in handler.records]
    assert not problems, "the IB client could not decode messages from the local TWS:\n" + "\n".join(problems)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def session(anyio_backend: str) -> AsyncIterator[HarnessSession]:
    async with harness() as s:
        yield s
