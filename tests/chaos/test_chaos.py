"""The chaos run against every installed plugin's local venue, sized for CI.

For a manual soak: ``autotrader chaos NAME --orders 20000`` (any seed).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import pytest

from autotrader.plugins import BrokerRegistry
from autotrader.testing.chaos import report_as_dict, run_chaos

REGISTRY = BrokerRegistry.discover()
SIZES = {"paper": 1000}  # in-process venues are fast; wire venues get the default
DEFAULT_ORDERS = int(os.environ.get("AUTOTRADER_CHAOS_ORDERS", "300"))
REPORTS = Path(__file__).resolve().parents[2] / "build" / "reports"


@pytest.mark.parametrize("name", [s.name for s in REGISTRY.specs() if s.harness is not None])
def test_chaos_run_loses_and_duplicates_nothing(name: str) -> None:
    spec = REGISTRY.get(name)
    orders = SIZES.get(name, DEFAULT_ORDERS)
    backend = "asyncio" if "asyncio" in spec.capabilities.async_backends else "trio"
    report = anyio.run(lambda: run_chaos(spec, orders=orders, seed=7), backend=backend)
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"chaos-{name}.json").write_text(json.dumps(report_as_dict(report), indent=2, default=str))
    print("\n".join(report.lines()))
    assert report.orders == orders
    assert sum(report.faults.values()) >= orders // 10 - 1
    assert report.clean, "\n".join(report.lines())
