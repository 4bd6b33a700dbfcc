"""Watching a run: Prometheus metrics and /status on loopback, the status file, JSON logs."""

from __future__ import annotations

import json
import logging
import urllib.request
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from autotrader.engine import ExecutionConfig, ExecutionEngine
from autotrader.observe import MetricsPlugin, MetricsServer, StatusPublisher, configure_logging, read_status
from autotrader.risk import RiskLimits
from autotrader.strategy import ExecutionDecision
from autotrader.testing.support import IdleStrategy
from autotrader_paper import PaperTradingAdapter

pytestmark = pytest.mark.anyio


async def test_metrics_and_status_endpoints(tmp_path: Path) -> None:
    metrics = MetricsPlugin()
    adapter = PaperTradingAdapter(latency_ms=(0, 0), fill_probability=1.0)
    engine = ExecutionEngine(
        IdleStrategy(), adapter, ExecutionConfig(risk=RiskLimits(price_band_pct=None)), plugins=[metrics]
    )
    await engine.connect()
    await engine.update_market("BTCUSDT", Decimal(50000))
    await engine.execute_decision(ExecutionDecision(action="LONG", symbol="BTCUSDT", size=0.01))
    await engine.execute_decision(
        ExecutionDecision(action="LONG", symbol="BTCUSDT", size=0.01, metadata={"limit_price": 45000})
    )
    status = StatusPublisher(engine.get_status, tmp_path / "status.json")
    status.publish()
    server = MetricsServer(metrics.registry, status, 0).start()

    def get(path: str) -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as response:
            return bytes(response.read())

    try:
        text = (await anyio.to_thread.run_sync(get, "/metrics")).decode()
        remote = json.loads(await anyio.to_thread.run_sync(get, "/status"))
    finally:
        server.stop()
    assert 'autotrader_orders_total{status="FILLED"} 1.0' in text
    assert "autotrader_orders_submitted_total 2.0" in text
    assert 'autotrader_fills_total{side="BUY",symbol="BTCUSDT"} 1.0' in text
    assert "autotrader_open_orders 1.0" in text
    assert "autotrader_fill_latency_seconds_count 1.0" in text
    assert remote["oms"]["total_orders"] == 2 and remote["broker"] == "paper"
    assert read_status(tmp_path / "status.json") == remote


def test_json_logs(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "INFO")
    try:
        logging.getLogger("autotrader.test").warning("circuit %s opened", "paper")
    finally:
        configure_logging("text", "WARNING")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["message"] == "circuit paper opened" and record["level"] == "WARNING"
