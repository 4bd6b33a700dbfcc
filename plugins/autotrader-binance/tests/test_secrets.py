"""The API key and secret appear in no log line (at DEBUG, the client library's and websockets' too),
repr, exception or journal, through a full engine run with faults and a stream drop."""

from __future__ import annotations

import asyncio
import logging
import secrets
from decimal import Decimal as D
from pathlib import Path

import attrs
import pytest
from autotrader.engine import ExecutionConfig, ExecutionEngine
from autotrader.errors import AuthenticationError
from autotrader.model import OrderRequest, OrderSide, OrderType
from autotrader.risk import RiskLimits
from autotrader.testing.harness import Fault
from autotrader.testing.support import IdleStrategy

from autotrader_binance.adapter import BinanceAdapter
from autotrader_binance.config import BinanceConfig
from autotrader_binance.harness import BinanceVenueControl
from autotrader_binance.venue import BinanceVenue

pytestmark = pytest.mark.anyio


async def test_credentials_appear_nowhere(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key, secret = secrets.token_hex(32), secrets.token_hex(32)  # Binance's 64-character shape
    journal = tmp_path / "journal.sqlite"
    seen: list[str] = []
    async with BinanceVenue(api_keys={key: secret}) as venue:
        config = BinanceConfig(
            api_key=key,
            api_secret=secret,
            api_url=venue.rest_url,
            ws_api_url=venue.ws_api_url,
            request_timeout=1,
        )
        control = BinanceVenueControl(venue)
        with caplog.at_level(logging.DEBUG):
            adapter = BinanceAdapter(config)
            engine = ExecutionEngine(
                IdleStrategy(),
                adapter,
                ExecutionConfig(risk=RiskLimits(price_band_pct=None)),
                journal=journal,
            )
            await engine.connect()
            await engine.submit(OrderRequest("s1", "BTCUSDT", OrderSide.BUY, OrderType.MARKET, D("0.01")))
            await engine.submit(
                OrderRequest("s2", "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, D("0.01"), price=D("40000"))
            )
            await engine.oms.replace_order("s2", quantity=D("0.005"))
            await control.inject(Fault.DROP_STREAM)
            await control.inject(Fault.SERVER_ERROR)
            await engine.submit(OrderRequest("s3", "BTCUSDT", OrderSide.SELL, OrderType.MARKET, D("0.01")))
            await asyncio.sleep(1.5)  # the library reconnects, the adapter subscribes again
            seen += [
                repr(adapter),
                str(adapter),
                repr(adapter.__dict__),
                repr(config),
                str(engine.get_status()),
            ]
            await engine.disconnect()
            for wrong in (attrs.evolve(config, api_secret="0" * 64), attrs.evolve(config, api_key="0" * 64)):
                with pytest.raises(AuthenticationError) as refused:
                    await BinanceAdapter(wrong).connect()
                error = refused.value
                seen += [str(error), repr(error), repr(error.__cause__), repr(error.__context__)]
    records = caplog.records
    assert any(r.name.startswith("websockets") for r in records)  # the frame-level logs were on
    seen += [r.getMessage() + repr(r.args) for r in records]
    seen += [p.read_bytes().decode("utf-8", "replace") for p in sorted(tmp_path.iterdir())]  # noqa: ASYNC240
    for credential in (key, secret):
        leaks = [text[:300] for text in seen if credential in text]
        assert not leaks, leaks


def test_the_redactor_masks_while_an_adapter_is_connected() -> None:
    from autotrader_binance.redaction import LIBRARY_LOGGERS, MASK, redactor

    record = logging.LogRecord(
        "websockets.client", logging.DEBUG, __file__, 1, "> TEXT %r", ("apiKey=k-123",), None
    )
    redactor.add("k-123")
    redactor.add("k-123")  # two adapters with the same key
    redactor.discard("k-123")
    try:
        assert redactor in logging.getLogger(LIBRARY_LOGGERS[0]).filters
        assert (
            redactor.filter(record)
            and record.getMessage() == f"> TEXT 'apiKey={MASK}'"
            and record.args is None
        )
    finally:
        redactor.discard("k-123")
    assert redactor not in logging.getLogger(LIBRARY_LOGGERS[0]).filters
