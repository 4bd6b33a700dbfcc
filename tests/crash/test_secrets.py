"""A credential never reaches a log line, a repr, the journal or an exception (full run, OANDA venue)."""

from __future__ import annotations

import logging
import secrets
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

pytest.importorskip("autotrader_oanda")

from autotrader.credentials import Secret
from autotrader.engine import ExecutionConfig, ExecutionEngine
from autotrader.errors import AutotraderError
from autotrader.model import OrderRequest, OrderSide, OrderType
from autotrader.risk import RiskLimits
from autotrader.testing.support import IdleStrategy
from autotrader_oanda.adapter import OandaAdapter
from autotrader_oanda.config import OandaConfig
from autotrader_oanda.venue import Exchange, VenueServer


def test_the_token_appears_nowhere(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    token = "tok-" + secrets.token_hex(16)
    server = VenueServer(Exchange(), token=token, heartbeat_interval=0.25)
    server.start()
    server.call(server.exchange.set_price, "EUR_USD", Decimal("1.10000"))
    journal = tmp_path / "journal.sqlite"
    seen: list[str] = []

    def config(secret: str) -> OandaConfig:
        return OandaConfig(
            account_id=server.exchange.account_id,
            access_token=Secret(secret),
            environment=f"secret-scan-{server.port}",
            api_url=server.url,
            stream_url=server.url,
            request_timeout=1.5,
            stream_timeout=1.5,
        )

    async def run() -> None:
        adapter = OandaAdapter(config(token))
        engine = ExecutionEngine(
            IdleStrategy(), adapter, ExecutionConfig(risk=RiskLimits(price_band_pct=None)), journal=journal
        )
        await engine.connect()
        for i, side in enumerate((OrderSide.BUY, OrderSide.SELL, OrderSide.BUY)):
            await engine.submit(OrderRequest(f"s{i}", "EUR_USD", side, OrderType.MARKET, Decimal(1000)))
        await anyio.sleep(0.5)
        seen.extend(
            [
                repr(adapter),
                str(adapter),
                repr(adapter.__dict__),
                repr(config(token)),
                str(engine.get_status()),
            ]
        )
        await engine.disconnect()
        wrong = OandaAdapter(config(token + "-wrong"))  # a bad token: the error must not echo either
        try:
            await wrong.connect()
        except AutotraderError as exc:
            seen.extend([str(exc), repr(exc), repr(exc.__cause__), repr(exc.__context__)])
        else:  # pragma: no cover
            raise AssertionError("a wrong token connected")

    try:
        with caplog.at_level(logging.DEBUG):
            anyio.run(run)
    finally:
        server.stop()
    seen.extend(record.getMessage() + repr(record.args) for record in caplog.records)
    seen.append(journal.read_bytes().decode("utf-8", "replace"))
    for extra in tmp_path.glob("journal.sqlite*"):
        seen.append(extra.read_bytes().decode("utf-8", "replace"))
    assert len(caplog.records) > 0 and len(seen) > 10
    leaks = [text[:200] for text in seen if token in text]
    assert not leaks, leaks
