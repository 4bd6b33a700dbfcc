"""The guard itself: a malformed message from the TWS makes the client log, and the guard sees it."""

from __future__ import annotations

import logging

import pytest

from autotrader_ibkr.compat import LIBRARY

pytestmark = pytest.mark.anyio


def test_guard_catches_a_decoder_error_log(undecodable_messages_fail: logging.Handler) -> None:
    from ib_async.decoder import Decoder

    class Wrapper:
        def __getattr__(self, name: str) -> object:
            return lambda *args: None

    Decoder(Wrapper(), 176).interpret(["61", "3", "too", "short"])  # POSITION_DATA missing fields
    records = undecodable_messages_fail.records  # type: ignore[attr-defined]
    assert records and records[0].name == f"{LIBRARY}.Decoder"
    records.clear()  # the guard would fail this test at teardown otherwise
